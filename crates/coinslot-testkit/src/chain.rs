//! [`LocalChain`]: anvil on a free loopback port, chain id 84532, with our EIP-3009 token at the
//! Base Sepolia USDC address and Permit2 at its canonical address.

use std::sync::OnceLock;

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::network::TransactionBuilder as _;
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, B256, Bytes, U256, address};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolValue as _, eip712_domain};
use serde::Deserialize;

use crate::bindings::{TestPermitToken, TestUsdc, TestWalletFactory};
use crate::error::{Error, Result};
use crate::tools::tools;

/// The chain id of the local chain: Base Sepolia's, so every x402 default for `eip155:84532`
/// applies to it unchanged.
pub const CHAIN_ID: u64 = 84532;
/// Base Sepolia USDC, where our test token is placed.
pub const USDC: Address = address!("0x036CbD53842c5426634e7929541eC2318f3dCF7e");
/// The EIP-712 name of the token (Base Sepolia USDC's).
pub const USDC_NAME: &str = "USDC";
/// The EIP-712 version of the token.
pub const USDC_VERSION: &str = "2";
/// Decimals of the token.
pub const USDC_DECIMALS: u8 = 6;
/// Permit2's canonical address.
pub const PERMIT2: Address = address!("0x000000000022D473030F116dDEE9F6B43aC78BA3");
/// The x402 `exact` Permit2 proxy's canonical address, where `contracts/X402Permit2Proxies.sol`'s
/// `X402ExactPermit2Proxy` is placed.
pub const EXACT_PERMIT2_PROXY: Address = address!("0x402085c248EeA27D92E8b30b2C58ed07f9E20001");
/// The x402 `upto` Permit2 proxy's canonical address, where `X402UptoPermit2Proxy` is placed.
pub const UPTO_PERMIT2_PROXY: Address = address!("0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002");
/// Where the plain ERC-20 with EIP-2612 and no EIP-3009 (`contracts/TestPermitToken.sol`, name
/// "Test Token", version "1", 18 decimals) is placed: a token only Permit2 lets x402 pay with.
pub const PERMIT_TOKEN: Address = address!("0x7E57000000000000000000000000000000000001");
/// Test tokens minted to the payer at start: 1,000 tokens of 18 decimals.
pub const PAYER_PERMIT_TOKEN: u128 = 1_000_000_000_000_000_000_000;
/// Where the ERC-6492 test wallet factory (`contracts/TestWalletFactory.sol`) is placed.
pub const WALLET_FACTORY: Address = address!("0x0000000000000000000000000000000000006492");
/// A contract that fails every call made to it (`contracts/Hostile.sol`): as a payer, a
/// contract wallet whose signature check fails so; as an asset, a token whose every function
/// does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// Burns all the gas it is given (`GasBurner`).
    BurnsAllGas,
    /// Executes an invalid opcode (`InvalidOpcode`).
    InvalidOpcode,
}

impl Hostile {
    /// Where [`LocalChain::place_hostile`] puts it.
    pub const fn address(self) -> Address {
        match self {
            Self::BurnsAllGas => address!("0x000000000000000000000000000000000000BAD1"),
            Self::InvalidOpcode => address!("0x000000000000000000000000000000000000BAD2"),
        }
    }
}

/// USDC minted to the payer at start: 1,000 USDC in atomic units.
pub const PAYER_USDC: u64 = 1_000_000_000;

/// The funded accounts of the local chain. Each holds 10,000 ETH from anvil; the payer also
/// holds [`PAYER_USDC`].
#[derive(Debug, Clone)]
pub struct Accounts {
    /// Pays for resources.
    pub payer: PrivateKeySigner,
    /// Is paid (`payTo`).
    pub payee: PrivateKeySigner,
    /// Sends settlement transactions and pays their gas.
    pub facilitator: PrivateKeySigner,
    /// Keys for a facilitator under test to send settlements from. The testkit itself never
    /// sends with them (it uses `facilitator`), so their nonces belong to the code under test.
    pub settlers: Vec<PrivateKeySigner>,
    /// The other funded keys of anvil, for tests that need more parties.
    pub others: Vec<PrivateKeySigner>,
}

/// How many of anvil's keys are [`Accounts::settlers`].
const SETTLERS: usize = 3;

/// A running local chain. Each test starts its own (about half a second): tests never share
/// state, and the chain stops when this value is dropped.
#[derive(Debug)]
pub struct LocalChain {
    anvil: AnvilInstance,
    provider: DynProvider,
    accounts: Accounts,
}

#[derive(Deserialize)]
struct Artifact {
    bytecode: Bytes,
    #[serde(rename = "deployedBytecode")]
    deployed_bytecode: Bytes,
    immutables: std::collections::BTreeMap<String, Vec<ImmutableRef>>,
}

#[derive(Deserialize)]
struct ImmutableRef {
    start: usize,
    length: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Artifacts {
    #[serde(rename = "TestUSDC")]
    test_usdc: Artifact,
    test_wallet: Artifact,
    test_wallet_factory: Artifact,
    gas_burner: Artifact,
    invalid_opcode: Artifact,
    test_permit_token: Artifact,
    #[serde(rename = "X402ExactPermit2Proxy")]
    exact_permit2_proxy: Artifact,
    #[serde(rename = "X402UptoPermit2Proxy")]
    upto_permit2_proxy: Artifact,
    erc6492_probe: Artifact,
    permit2: Artifact,
}

/// The code every chain gets, read and prepared once per process.
struct Contracts {
    /// Runtime code of the token.
    usdc: Bytes,
    /// Runtime code of Permit2, immutables filled in.
    permit2: Bytes,
    /// Creation code of the ERC-1271 test wallet.
    wallet: Bytes,
    /// Runtime code of the wallet factory.
    wallet_factory: Bytes,
    /// Runtime code of the hostile contracts, by kind.
    gas_burner: Bytes,
    invalid_opcode: Bytes,
    /// Runtime code of the plain EIP-2612 token and of the x402 Permit2 proxies.
    permit_token: Bytes,
    exact_permit2_proxy: Bytes,
    upto_permit2_proxy: Bytes,
    /// Creation code of coinslot-evm's ERC-6492 probe, as compiled here.
    erc6492_probe: Bytes,
}

fn contracts() -> Result<&'static Contracts> {
    static CONTRACTS: OnceLock<std::result::Result<Contracts, String>> = OnceLock::new();
    CONTRACTS
        .get_or_init(|| load_contracts().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|message| Error::Artifacts(message.clone()))
}

fn load_contracts() -> Result<Contracts> {
    let path = &tools()?.artifacts;
    let json = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let artifacts: Artifacts =
        serde_json::from_slice(&json).map_err(|e| Error::Artifacts(e.to_string()))?;
    Ok(Contracts {
        usdc: artifacts.test_usdc.deployed_bytecode,
        permit2: permit2_runtime(artifacts.permit2)?,
        wallet: artifacts.test_wallet.bytecode,
        wallet_factory: artifacts.test_wallet_factory.deployed_bytecode,
        gas_burner: artifacts.gas_burner.deployed_bytecode,
        invalid_opcode: artifacts.invalid_opcode.deployed_bytecode,
        permit_token: artifacts.test_permit_token.deployed_bytecode,
        exact_permit2_proxy: artifacts.exact_permit2_proxy.deployed_bytecode,
        upto_permit2_proxy: artifacts.upto_permit2_proxy.deployed_bytecode,
        erc6492_probe: artifacts.erc6492_probe.bytecode,
    })
}

impl LocalChain {
    /// Starts anvil, places the token and Permit2, and mints the payer's USDC.
    ///
    /// The first call on a machine installs the npm tools and compiles the contracts.
    pub async fn start() -> Result<Self> {
        Self::start_with_chain_id(CHAIN_ID).await
    }

    /// The chain on a port of your choosing (`8545`, where tools look for a node), for people
    /// trying coinslot by hand (`local-chain`).
    pub async fn start_on_port(port: u16) -> Result<Self> {
        Self::spawn(Anvil::at(&tools()?.anvil).chain_id(CHAIN_ID).port(port)).await
    }

    /// The same chain under another chain id, for tests of a facilitator serving several
    /// networks. Only [`CHAIN_ID`] is a network the x402 defaults know.
    pub async fn start_with_chain_id(chain_id: u64) -> Result<Self> {
        Self::spawn(Anvil::at(&tools()?.anvil).chain_id(chain_id)).await
    }

    /// The chain for long loads (the benchmarks): anvil keeps the states of its last 64
    /// blocks only (`--prune-history 64`). By default it keeps every block's state, and each
    /// block it mines takes longer than the one before: thousands of settlements in, a load
    /// measures anvil's history more than the code under test. Older states cannot be read,
    /// so `snapshot`/`revert` across many blocks are not for this chain.
    pub async fn start_for_load() -> Result<Self> {
        Self::spawn(
            Anvil::at(&tools()?.anvil)
                .chain_id(CHAIN_ID)
                .args(["--prune-history", "64"]),
        )
        .await
    }

    async fn spawn(anvil: Anvil) -> Result<Self> {
        let anvil = anvil.try_spawn().map_err(|e| Error::Tool {
            tool: "anvil",
            message: e.to_string(),
        })?;
        let keys: Vec<PrivateKeySigner> = anvil
            .keys()
            .iter()
            .map(|key| PrivateKeySigner::from(key.clone()))
            .collect();
        let [facilitator, payer, payee, rest @ ..] = keys.as_slice() else {
            return Err(Error::Tool {
                tool: "anvil",
                message: "fewer than three funded keys".to_owned(),
            });
        };
        let Some(split) = rest.len().checked_sub(SETTLERS) else {
            return Err(Error::Tool {
                tool: "anvil",
                message: "too few funded keys for the settlers".to_owned(),
            });
        };
        let (others, settlers) = rest.split_at(split);
        let accounts = Accounts {
            payer: payer.clone(),
            payee: payee.clone(),
            facilitator: facilitator.clone(),
            settlers: settlers.to_vec(),
            others: others.to_vec(),
        };
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(facilitator.clone()))
            .connect_http(anvil.endpoint_url())
            .erased();
        let contracts = contracts()?;
        let chain = Self {
            anvil,
            provider,
            accounts,
        };
        chain.set_code(USDC, contracts.usdc.clone()).await?;
        chain.set_code(PERMIT2, contracts.permit2.clone()).await?;
        chain
            .set_code(WALLET_FACTORY, contracts.wallet_factory.clone())
            .await?;
        chain
            .set_code(EXACT_PERMIT2_PROXY, contracts.exact_permit2_proxy.clone())
            .await?;
        chain
            .set_code(UPTO_PERMIT2_PROXY, contracts.upto_permit2_proxy.clone())
            .await?;
        chain
            .set_code(PERMIT_TOKEN, contracts.permit_token.clone())
            .await?;
        chain
            .mint_usdc(chain.accounts.payer.address(), U256::from(PAYER_USDC))
            .await?;
        chain
            .mint_permit_token(
                chain.accounts.payer.address(),
                U256::from(PAYER_PERMIT_TOKEN),
            )
            .await?;
        Ok(chain)
    }

    /// The JSON-RPC endpoint, on 127.0.0.1.
    pub fn rpc_url(&self) -> alloy::transports::http::reqwest::Url {
        self.anvil.endpoint_url()
    }

    /// The CAIP-2 network of the chain, `eip155:84532` unless started with another id.
    pub fn network(&self) -> coinslot_core::Network {
        coinslot_core::Network::eip155(self.anvil.chain_id())
    }

    /// A provider that reads the chain and sends transactions as the facilitator.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// A provider that sends transactions as `signer`.
    pub fn provider_for(&self, signer: &PrivateKeySigner) -> DynProvider {
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer.clone()))
            .connect_http(self.rpc_url())
            .erased()
    }

    /// The funded accounts.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The token, bound to the facilitator's provider.
    pub fn usdc(&self) -> TestUsdc::TestUsdcInstance<DynProvider> {
        TestUsdc::new(USDC, self.provider.clone())
    }

    /// The token's balance of `owner`, in atomic units.
    pub async fn usdc_balance(&self, owner: Address) -> Result<U256> {
        self.token_balance(USDC, owner).await
    }

    /// Creates `value` atomic units of the token for `to`, and waits for the block.
    pub async fn mint_usdc(&self, to: Address, value: U256) -> Result<()> {
        confirm("mint", self.usdc().mint(to, value)).await
    }

    /// The plain EIP-2612 token, bound to the facilitator's provider.
    pub fn permit_token(&self) -> TestPermitToken::TestPermitTokenInstance<DynProvider> {
        TestPermitToken::new(PERMIT_TOKEN, self.provider.clone())
    }

    /// Creates `value` of the plain EIP-2612 token for `to`, and waits for the block.
    pub async fn mint_permit_token(&self, to: Address, value: U256) -> Result<()> {
        confirm("mint", self.permit_token().mint(to, value)).await
    }

    /// `owner`'s balance of any ERC-20 `token`.
    pub async fn token_balance(&self, token: Address, owner: Address) -> Result<U256> {
        TestUsdc::new(token, self.provider.clone())
            .balanceOf(owner)
            .call()
            .await
            .map_err(|e| Error::rpc("balanceOf", e))
    }

    /// Lets Permit2 move any amount of `token` for `owner` (the one-time approval a Permit2
    /// payer makes), and waits for the block.
    pub async fn approve_permit2(&self, owner: &PrivateKeySigner, token: Address) -> Result<()> {
        let token = TestUsdc::new(token, self.provider_for(owner));
        confirm("approve", token.approve(PERMIT2, U256::MAX)).await
    }

    /// Ether balance of `owner`, in wei.
    pub async fn eth_balance(&self, owner: Address) -> Result<U256> {
        self.provider
            .get_balance(owner)
            .await
            .map_err(|e| Error::rpc("eth_getBalance", e))
    }

    /// The timestamp of the latest block.
    pub async fn now(&self) -> Result<u64> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| Error::rpc("eth_getBlockByNumber", e))?
            .ok_or_else(|| Error::rpc("eth_getBlockByNumber", "no latest block"))?;
        Ok(block.header.timestamp)
    }

    /// Moves the chain's clock forward by `seconds` and mines a block.
    pub async fn advance_time(&self, seconds: u64) -> Result<()> {
        self.provider
            .raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (seconds,))
            .await
            .map_err(|e| Error::rpc("evm_increaseTime", e))?;
        self.provider
            .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await
            .map_err(|e| Error::rpc("evm_mine", e))?;
        Ok(())
    }

    /// Takes a snapshot of the whole chain state, for [`revert`](Self::revert).
    pub async fn snapshot(&self) -> Result<U256> {
        self.provider
            .raw_request("evm_snapshot".into(), ())
            .await
            .map_err(|e| Error::rpc("evm_snapshot", e))
    }

    /// Returns the chain to a snapshot (which is then used up, as anvil does).
    pub async fn revert(&self, snapshot: U256) -> Result<()> {
        let reverted: bool = self
            .provider
            .raw_request("evm_revert".into(), (snapshot,))
            .await
            .map_err(|e| Error::rpc("evm_revert", e))?;
        if reverted {
            Ok(())
        } else {
            Err(Error::rpc("evm_revert", "unknown snapshot"))
        }
    }

    /// Deploys a contract wallet (`contracts/TestWallet.sol`) that accepts, through ERC-1271,
    /// signatures by `owner`'s key; returns its address.
    pub async fn deploy_wallet(&self, owner: Address) -> Result<Address> {
        let mut code = contracts()?.wallet.to_vec();
        code.extend_from_slice(&owner.abi_encode());
        let receipt = self
            .provider
            .send_transaction(TransactionRequest::default().with_deploy_code(code))
            .await
            .map_err(|e| Error::rpc("deploy", e))?
            .get_receipt()
            .await
            .map_err(|e| Error::rpc("deploy", e))?;
        receipt
            .contract_address
            .filter(|_| receipt.status())
            .ok_or_else(|| Error::rpc("deploy", "the wallet was not created"))
    }

    /// Places a hostile contract at its [`Hostile::address`] and returns that address.
    pub async fn place_hostile(&self, kind: Hostile) -> Result<Address> {
        let contracts = contracts()?;
        let code = match kind {
            Hostile::BurnsAllGas => contracts.gas_burner.clone(),
            Hostile::InvalidOpcode => contracts.invalid_opcode.clone(),
        };
        self.set_code(kind.address(), code).await?;
        Ok(kind.address())
    }

    /// The address `owner`'s wallet with `salt` has, or will have once the factory at
    /// [`WALLET_FACTORY`] deploys it.
    pub async fn counterfactual_wallet(&self, owner: Address, salt: B256) -> Result<Address> {
        TestWalletFactory::new(WALLET_FACTORY, self.provider.clone())
            .addressOf(owner, salt)
            .call()
            .await
            .map_err(|e| Error::rpc("addressOf", e))
    }

    /// Whether `address` holds code.
    pub async fn has_code(&self, address: Address) -> Result<bool> {
        self.provider
            .get_code_at(address)
            .await
            .map(|code| !code.is_empty())
            .map_err(|e| Error::rpc("eth_getCode", e))
    }

    /// Turns anvil's mining of each transaction as it arrives on or off. With it off,
    /// transactions wait in the mempool until [`mine`](Self::mine).
    pub async fn set_automine(&self, on: bool) -> Result<()> {
        self.provider
            .raw_request::<_, serde_json::Value>("evm_setAutomine".into(), (on,))
            .await
            .map_err(|e| Error::rpc("evm_setAutomine", e))?;
        Ok(())
    }

    /// Waits until `sender` has a transaction in the mempool or mined (its pending nonce is
    /// above zero): a settlement under test has been sent.
    pub async fn wait_for_pending(&self, sender: Address) -> Result<()> {
        loop {
            let sent = self
                .provider
                .get_transaction_count(sender)
                .pending()
                .await
                .map_err(|e| Error::rpc("eth_getTransactionCount", e))?;
            if sent > 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Mines one block with whatever the mempool holds.
    pub async fn mine(&self) -> Result<()> {
        self.provider
            .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await
            .map_err(|e| Error::rpc("evm_mine", e))?;
        Ok(())
    }

    /// Places `code` at `at` (`anvil_setCode`).
    pub async fn set_code(&self, at: Address, code: Bytes) -> Result<()> {
        self.provider
            .raw_request::<_, serde_json::Value>("anvil_setCode".into(), (at, code))
            .await
            .map_err(|e| Error::rpc("anvil_setCode", e))?;
        Ok(())
    }
}

/// Sends a contract call and waits for its block; a revert is an error naming `what`.
pub async fn confirm<P, D>(what: &'static str, call: CallBuilder<P, D>) -> Result<()>
where
    P: Provider,
    D: CallDecoder,
{
    let receipt = call
        .send()
        .await
        .map_err(|e| Error::rpc(what, e))?
        .get_receipt()
        .await
        .map_err(|e| Error::rpc(what, e))?;
    if receipt.status() {
        Ok(())
    } else {
        Err(Error::rpc(what, "transaction reverted"))
    }
}

/// What a server on the local chain offers: `exact`, `amount` atomic units of the local USDC
/// paid to `pay_to`, with the token's EIP-712 domain in `extra`, 60 s to pay.
pub fn exact_requirements(pay_to: Address, amount: u64) -> coinslot_core::PaymentRequirements {
    coinslot_core::PaymentRequirements {
        scheme: "exact".to_owned(),
        network: coinslot_core::Network::eip155(CHAIN_ID),
        amount: U256::from(amount).into(),
        asset: USDC.to_checksum(None),
        pay_to: pay_to.to_checksum(None),
        max_timeout_seconds: 60,
        extra: Some(coinslot_core::JsonObject::from_iter([
            ("name".to_owned(), USDC_NAME.into()),
            ("version".to_owned(), USDC_VERSION.into()),
        ])),
        other: coinslot_core::JsonObject::new(),
    }
}

/// An `exact` offer of `amount` of `token` paid through Permit2 (`assetTransferMethod:
/// "permit2"`) to `pay_to`, on the local chain.
pub fn permit2_requirements(
    pay_to: Address,
    token: Address,
    amount: u64,
) -> coinslot_core::PaymentRequirements {
    coinslot_core::PaymentRequirements {
        asset: token.to_checksum(None),
        extra: Some(coinslot_core::JsonObject::from_iter([(
            "assetTransferMethod".to_owned(),
            "permit2".into(),
        )])),
        ..exact_requirements(pay_to, amount)
    }
}

/// An `upto` offer of at most `maximum` of `token` to `pay_to`, settleable by `facilitator`,
/// on the local chain.
pub fn upto_requirements(
    pay_to: Address,
    token: Address,
    maximum: u64,
    facilitator: Address,
) -> coinslot_core::PaymentRequirements {
    coinslot_core::PaymentRequirements {
        scheme: "upto".to_owned(),
        asset: token.to_checksum(None),
        extra: Some(coinslot_core::JsonObject::from_iter([(
            "facilitatorAddress".to_owned(),
            facilitator.to_checksum(None).into(),
        )])),
        ..exact_requirements(pay_to, maximum)
    }
}

/// The creation code of coinslot-evm's ERC-6492 probe as this machine's solc compiles it, to
/// check the copy that crate carries.
pub fn erc6492_probe_bytecode() -> Result<Bytes> {
    Ok(contracts()?.erc6492_probe.clone())
}

/// Permit2's runtime code with its two immutables filled in as its constructor would have at
/// the canonical address on chain 84532: the cached chain id and domain separator.
fn permit2_runtime(artifact: Artifact) -> Result<Bytes> {
    let separator = eip712_domain! {
        name: "Permit2",
        chain_id: CHAIN_ID,
        verifying_contract: PERMIT2,
    }
    .separator();
    let values: [(&str, B256); 2] = [
        ("_CACHED_CHAIN_ID", B256::from(U256::from(CHAIN_ID))),
        ("_CACHED_DOMAIN_SEPARATOR", separator),
    ];
    let mut code = artifact.deployed_bytecode.to_vec();
    for (name, value) in values {
        let refs = artifact
            .immutables
            .get(name)
            .ok_or_else(|| Error::Artifacts(format!("Permit2 has no immutable {name}")))?;
        for r in refs {
            let slot = code
                .get_mut(r.start..r.start + r.length)
                .filter(|slot| slot.len() == 32)
                .ok_or_else(|| Error::Artifacts(format!("bad reference for {name}")))?;
            slot.copy_from_slice(value.as_slice());
        }
    }
    Ok(code.into())
}
