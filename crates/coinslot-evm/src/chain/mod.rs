//! [`EvmChain`]: one EVM chain as a facilitator sees it. Reads go through an alloy provider;
//! settlement transactions are signed by one of several facilitator keys, each with its own
//! nonce manager, under a gas price cap.
//!
//! - `send`: the keys, their nonces, and sending (synchronously where the node can, EIP-7966);
//! - `gas`: the gas caps per call, simulation under learned gas limits, fees under the cap;
//! - `receipt`: waiting for a sent transaction's receipt;
//! - `payer`: a payer's account, when the facilitator sponsors its gas;
//! - `failure`: telling the contract's failures (reverts, halts) from the node's.

mod failure;
mod gas;
mod payer;
mod receipt;
mod send;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use alloy::eips::BlockId;
use alloy::network::{EthereumWallet, TransactionBuilder as _, TxSigner};
use alloy::primitives::{Address, Bytes, Signature};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log, TransactionRequest};
use coinslot_core::{Error, Network, Result};

pub(crate) use failure::{ChainFailure, Checked};
pub use gas::GasCaps;
pub(crate) use send::Sent;
use send::{Account, SyncSends};

/// How long [`EvmChain`] waits for a receipt by default.
pub const DEFAULT_RECEIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// One EVM chain: a provider for reads and the facilitator's keys for settlement.
///
/// ```no_run
/// # async fn f(provider: alloy::providers::DynProvider, key: alloy::signers::local::PrivateKeySigner) -> coinslot_core::Result<()> {
/// use coinslot_evm::EvmChain;
///
/// let chain = EvmChain::builder(provider)
///     .with_signer(key)
///     .with_max_fee_per_gas(50_000_000_000) // 50 gwei
///     .build()
///     .await?;
/// assert_eq!(chain.network().as_str(), "eip155:84532");
/// # Ok(()) }
/// ```
pub struct EvmChain {
    provider: DynProvider,
    chain_id: u64,
    wallet: EthereumWallet,
    accounts: Vec<Account>,
    next_account: AtomicUsize,
    max_fee_per_gas: Option<u128>,
    receipt_timeout: Duration,
    gas_caps: GasCaps,
    /// Addresses seen to hold code: a contract does not stop being one, so this is asked once.
    known_contracts: Mutex<HashSet<Address>>,
    /// The last fee estimate and when it was made: settlements sent together share it.
    recent_fees: Mutex<Option<(Instant, (u128, u128))>>,
    /// Gas limits learned per contract and function ([`LEARNED_GAS_FACTOR`] × the first
    /// estimate): a later call is simulated once with `eth_call` rather than estimated, which
    /// makes the node run it several times.
    gas_limits: Mutex<HashMap<(Address, [u8; 4]), u64>>,
    /// Whether sends ask the node to answer with the receipt (EIP-7966).
    sync_sends: Mutex<SyncSends>,
}

impl fmt::Debug for EvmChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvmChain")
            .field("chain_id", &self.chain_id)
            .field("signers", &self.signer_addresses())
            .field("max_fee_per_gas", &self.max_fee_per_gas)
            .field("receipt_timeout", &self.receipt_timeout)
            .field("gas_caps", &self.gas_caps)
            .finish_non_exhaustive()
    }
}

/// Builds an [`EvmChain`].
pub struct EvmChainBuilder {
    provider: DynProvider,
    wallet: Option<EthereumWallet>,
    addresses: Vec<Address>,
    max_fee_per_gas: Option<u128>,
    receipt_timeout: Duration,
    chain_id: Option<u64>,
    gas_caps: GasCaps,
}

impl fmt::Debug for EvmChainBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvmChainBuilder")
            .field("signers", &self.addresses)
            .field("max_fee_per_gas", &self.max_fee_per_gas)
            .field("receipt_timeout", &self.receipt_timeout)
            .field("gas_caps", &self.gas_caps)
            .finish_non_exhaustive()
    }
}

impl EvmChainBuilder {
    /// Adds a key that signs settlement transactions: a local key, a hardware wallet, a cloud
    /// KMS. Settlements go round-robin over the keys; each key has its own nonce sequence, so
    /// more keys mean more settlements in flight at once.
    #[must_use]
    pub fn with_signer<S>(mut self, signer: S) -> Self
    where
        S: TxSigner<Signature> + Send + Sync + 'static,
    {
        let address = signer.address();
        if !self.addresses.contains(&address) {
            self.addresses.push(address);
            match &mut self.wallet {
                Some(wallet) => wallet.register_signer(signer),
                None => self.wallet = Some(EthereumWallet::new(signer)),
            }
        }
        self
    }

    /// Adds several keys at once (see [`with_signer`](Self::with_signer)).
    #[must_use]
    pub fn with_signers<S>(self, signers: impl IntoIterator<Item = S>) -> Self
    where
        S: TxSigner<Signature> + Send + Sync + 'static,
    {
        signers.into_iter().fold(self, Self::with_signer)
    }

    /// The most the facilitator pays per gas, in wei. Above it, a settlement is refused before
    /// anything is sent, rather than paid at any price.
    #[must_use]
    pub const fn with_max_fee_per_gas(mut self, wei: u128) -> Self {
        self.max_fee_per_gas = Some(wei);
        self
    }

    /// How long a settlement waits for its receipt (default 30 s). A transaction that lands
    /// later is found by the next settle of the same payment.
    #[must_use]
    pub const fn with_receipt_timeout(mut self, timeout: Duration) -> Self {
        self.receipt_timeout = timeout;
        self
    }

    /// The most gas each kind of call made for a payment may use (see [`GasCaps`]).
    #[must_use]
    pub const fn with_gas_caps(mut self, caps: GasCaps) -> Self {
        self.gas_caps = caps;
        self
    }

    /// The chain's id, when the operator knows it: `build` then makes no request to the node
    /// (by default it asks, with `eth_chainId`). A wrong id makes every payment's signature
    /// check fail, as the EIP-712 domain holds it.
    #[must_use]
    pub const fn with_chain_id(mut self, chain_id: u64) -> Self {
        self.chain_id = Some(chain_id);
        self
    }

    /// Asks the node for its chain id and builds the chain.
    pub async fn build(self) -> Result<EvmChain> {
        let wallet = self.wallet.ok_or_else(|| Error::Configuration {
            reason: "an EVM facilitator needs at least one signer key".into(),
        })?;
        let chain_id = match self.chain_id {
            Some(chain_id) => chain_id,
            None => self
                .provider
                .get_chain_id()
                .await
                .map_err(|e| Error::chain("eth_chainId failed", e))?,
        };
        Ok(EvmChain {
            provider: self.provider,
            chain_id,
            wallet,
            accounts: self
                .addresses
                .into_iter()
                .map(|address| Account {
                    address,
                    next_nonce: tokio::sync::Mutex::new(None),
                })
                .collect(),
            next_account: AtomicUsize::new(0),
            max_fee_per_gas: self.max_fee_per_gas,
            receipt_timeout: self.receipt_timeout,
            gas_caps: self.gas_caps,
            known_contracts: Mutex::new(HashSet::new()),
            recent_fees: Mutex::new(None),
            gas_limits: Mutex::new(HashMap::new()),
            sync_sends: Mutex::new(SyncSends::Try),
        })
    }
}

impl EvmChain {
    /// Starts a chain over `provider`; add keys with [`EvmChainBuilder::with_signer`].
    ///
    /// `provider` is any alloy provider made into a [`DynProvider`] with `.erased()`; to
    /// connect to a node by its URL, [`EvmChain::http`] does it for you.
    pub fn builder(provider: DynProvider) -> EvmChainBuilder {
        EvmChainBuilder {
            provider,
            wallet: None,
            addresses: Vec::new(),
            max_fee_per_gas: None,
            receipt_timeout: DEFAULT_RECEIPT_TIMEOUT,
            chain_id: None,
            gas_caps: GasCaps::default(),
        }
    }

    /// Starts a chain over the JSON-RPC node at `rpc_url` (`http://` or `https://`); add keys
    /// with [`EvmChainBuilder::with_signer`].
    ///
    /// ```no_run
    /// # async fn f() -> coinslot_core::Result<()> {
    /// use coinslot_evm::EvmChain;
    /// use coinslot_evm::alloy::signers::local::PrivateKeySigner;
    ///
    /// let key: PrivateKeySigner = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
    ///     .parse()
    ///     .expect("a private key");
    /// let chain = EvmChain::http("http://127.0.0.1:8545")?.with_signer(key).build().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn http(rpc_url: &str) -> Result<EvmChainBuilder> {
        let url = rpc_url.parse().map_err(|e| Error::Configuration {
            reason: format!("the RPC URL {rpc_url:?}: {e}"),
        })?;
        let provider = alloy::providers::ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_http(url)
            .erased();
        Ok(Self::builder(provider))
    }

    /// The chain id the node reported.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The CAIP-2 network, `eip155:<chain id>`.
    pub fn network(&self) -> Network {
        Network::eip155(self.chain_id)
    }

    /// The facilitator's settlement addresses.
    pub fn signer_addresses(&self) -> Vec<Address> {
        self.accounts.iter().map(|a| a.address).collect()
    }

    /// The provider.
    pub const fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The address simulations run as: the first key, which would send the transaction.
    pub(crate) fn caller(&self) -> Address {
        self.accounts[0].address
    }

    /// The most gas each kind of call made for a payment may use.
    pub const fn gas_caps(&self) -> GasCaps {
        self.gas_caps
    }

    /// `eth_call` at the latest block, with at most `gas`.
    pub(crate) async fn call(
        &self,
        to: Address,
        input: Bytes,
        gas: u64,
    ) -> Result<Bytes, ChainFailure> {
        self.call_at(to, input, gas, BlockId::latest()).await
    }

    /// `eth_call` as `from` (a call that checks its sender), with at most `gas`.
    pub(crate) async fn call_from(
        &self,
        from: Address,
        to: Address,
        input: Bytes,
        gas: u64,
    ) -> Result<Bytes, ChainFailure> {
        let request = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(input)
            .with_gas_limit(gas);
        self.provider
            .call(request)
            .await
            .map_err(|e| ChainFailure::from_rpc("eth_call", e))
    }

    /// Whether `address` is one of this chain's settlement keys.
    pub(crate) fn has_signer(&self, address: Address) -> bool {
        self.accounts.iter().any(|a| a.address == address)
    }

    /// `eth_call` at `block`, with at most `gas`.
    pub(crate) async fn call_at(
        &self,
        to: Address,
        input: Bytes,
        gas: u64,
        block: BlockId,
    ) -> Result<Bytes, ChainFailure> {
        let request = TransactionRequest::default()
            .with_from(self.caller())
            .with_to(to)
            .with_input(input)
            .with_gas_limit(gas);
        self.provider
            .call(request)
            .block(block)
            .await
            .map_err(|e| ChainFailure::from_rpc("eth_call", e))
    }

    /// `eth_call` of a contract creation (nothing is deployed), with at most `gas`: what the
    /// constructor returns.
    pub(crate) async fn call_deployless(
        &self,
        code: Bytes,
        gas: u64,
    ) -> Result<Bytes, ChainFailure> {
        let request = TransactionRequest::default()
            .with_from(self.caller())
            .with_deploy_code(code)
            .with_gas_limit(gas);
        self.provider
            .call(request)
            .await
            .map_err(|e| ChainFailure::from_rpc("eth_call", e))
    }

    /// Whether `address` holds code.
    pub(crate) async fn is_contract(&self, address: Address) -> Result<bool> {
        if self.known(address) {
            return Ok(true);
        }
        let code = self
            .provider
            .get_code_at(address)
            .await
            .map_err(|e| Error::chain("eth_getCode failed", e))?;
        if code.is_empty() {
            return Ok(false);
        }
        if let Ok(mut known) = self.known_contracts.lock() {
            known.insert(address);
        }
        Ok(true)
    }

    fn known(&self, address: Address) -> bool {
        self.known_contracts
            .lock()
            .is_ok_and(|known| known.contains(&address))
    }

    /// Logs matching `filter`.
    pub(crate) async fn logs(&self, filter: &Filter) -> Result<Vec<Log>> {
        self.provider
            .get_logs(filter)
            .await
            .map_err(|e| Error::chain("eth_getLogs failed", e))
    }

    /// The latest block number.
    pub(crate) async fn block_number(&self) -> Result<u64> {
        self.provider
            .get_block_number()
            .await
            .map_err(|e| Error::chain("eth_blockNumber failed", e))
    }
}
