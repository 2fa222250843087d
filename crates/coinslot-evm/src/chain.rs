//! [`EvmChain`]: one EVM chain as a facilitator sees it. Reads go through an alloy provider;
//! settlement transactions are signed by one of several facilitator keys, each with its own
//! nonce manager, under a gas price cap.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::IntoFuture as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718 as _;
use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::network::{Ethereum, EthereumWallet, NetworkWallet, TransactionBuilder as _, TxSigner};
use alloy::primitives::{Address, Bytes, Signature, TxHash};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log, TransactionReceipt, TransactionRequest};
use alloy::transports::{RpcError, TransportErrorKind};
use coinslot_core::{Error, Network, Result};

/// How long [`EvmChain`] waits for a receipt by default.
pub const DEFAULT_RECEIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often it asks for the receipt meanwhile, at most: the first asks come sooner
/// ([`FIRST_RECEIPT_POLL`], doubling), as a local or fast chain mines within milliseconds.
const RECEIPT_POLL: Duration = Duration::from_millis(100);
const FIRST_RECEIPT_POLL: Duration = Duration::from_millis(2);
/// Headroom over the node's gas estimate, in percent: state can move between the estimate and
/// inclusion (a warm slot going cold), and an out-of-gas revert costs more than the margin.
const GAS_HEADROOM_PERCENT: u64 = 20;
/// The gas limit later calls of the same function get, as a multiple of its first estimate.
/// A limit is a cap, not a price (the fee is paid on the gas used), so a wide one costs
/// nothing, and it covers what moves the figure between calls: storage slots set from zero
/// (a payee's first balance) or found warm.
const LEARNED_GAS_FACTOR: u64 = 2;
/// How long a send waits for the node to mine the transaction in the same call
/// (`eth_sendRawTransactionSync`, EIP-7966), the key's nonce lock held: long enough for a
/// chain that mines at once (anvil's automine, a preconfirming sequencer) under load, short
/// enough that a chain with real block times stalls a key once, briefly.
const SYNC_SEND_WAIT: Duration = Duration::from_millis(250);
/// After a chain did not mine within [`SYNC_SEND_WAIT`], how long its sends are plain ones
/// (`eth_sendRawTransaction`, then the receipt polled) before a synchronous one is tried again.
const SYNC_SEND_RETRY_AFTER: Duration = Duration::from_secs(60);

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

/// Whether a chain's node mines a transaction within the call that sends it: then the send
/// answers the receipt, and no poll waits for it.
#[derive(Debug, Clone, Copy)]
enum SyncSends {
    /// Yes, or not known yet.
    Try,
    /// It did not mine in time lately: plain sends until then.
    PlainUntil(Instant),
    /// The node has no `eth_sendRawTransactionSync`.
    Unsupported,
}

/// A transaction given to the node.
#[derive(Debug)]
pub(crate) struct Sent {
    /// Its hash.
    pub(crate) hash: TxHash,
    /// Its receipt, when the node mined it within the send.
    receipt: Option<TransactionReceipt>,
}

/// How long a fee estimate serves: well under a block on the chains x402 settles on, so a
/// burst of settlements asks once while a change of base fee is seen within the second.
const FEES_FRESH_FOR: Duration = Duration::from_secs(1);

/// A facilitator key and its nonce manager. The lock is held from choosing a nonce until the
/// node has accepted (or refused) the transaction, so two settlements never share a nonce; on
/// a chain that mines at once, until it is mined ([`SYNC_SEND_WAIT`] at most).
struct Account {
    address: Address,
    /// The next nonce to use; `None` after a failed send, to be read from the node again.
    next_nonce: tokio::sync::Mutex<Option<u64>>,
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

/// The first four bytes of a call: the function it calls.
fn selector(input: &[u8]) -> [u8; 4] {
    let mut selector = [0u8; 4];
    let n = input.len().min(4);
    selector[..n].copy_from_slice(&input[..n]);
    selector
}

/// Why a call or a transaction did not go through.
#[derive(Debug)]
pub(crate) enum ChainFailure {
    /// The EVM ran it and it failed: a revert (with the contract's reason string, when it gave
    /// one) or a halt (out of gas, an invalid opcode). This is the contract's doing, so a
    /// payment that causes it is refused, never blamed on the node.
    Execution(Option<String>),
    /// The gas price is above the configured cap; nothing was sent.
    GasPriceAboveCap {
        /// The current base fee, in wei.
        base_fee: u128,
        /// The cap, in wei.
        cap: u128,
    },
    /// The node failed or could not be reached.
    Node(Error),
}

impl ChainFailure {
    fn from_rpc(what: &str, error: RpcError<TransportErrorKind>) -> Self {
        if let Some(payload) = error.as_error_resp() {
            if let Some(data) = payload.as_revert_data() {
                return Self::Execution(alloy::sol_types::decode_revert_reason(&data));
            }
            if is_execution_failure(&payload.message) {
                return Self::Execution(Some(payload.message.to_string()));
            }
        }
        Self::Node(Error::chain(format!("{what} failed"), error))
    }
}

/// Whether a node's error message says the EVM ran the call and it failed (reverted or
/// halted) rather than that the node could not run it. The wordings are geth's
/// (`execution reverted`, `out of gas`, `invalid opcode: INVALID`, `gas required exceeds
/// allowance`…) and revm's, which anvil and reth write (`EVM error OutOfGas`,
/// `EVM error InvalidFEOpcode`…).
fn is_execution_failure(message: &str) -> bool {
    const SIGNS: &[&str] = &[
        "evm error",
        "out of gas",
        "gas required exceeds",
        "invalid opcode",
        "invalid jump",
        "stack underflow",
        "stack overflow",
        "stack limit",
        "write protection",
        "return data out of bounds",
        "max code size",
        "contract address collision",
    ];
    // What the node would not run at all (a nonce, the sender's funds, the fees) is the
    // facilitator's or the node's state, not the contract's doing, whatever its prefix.
    const NOT_RUN: &[&str] = &[
        "invalidtransaction",
        "nonce",
        "insufficient funds",
        "lackoffund",
        "basefee",
        "gas price",
        "fee cap",
    ];
    let message = message.to_ascii_lowercase();
    message.contains("revert")
        || (!NOT_RUN.iter().any(|sign| message.contains(sign))
            && SIGNS.iter().any(|sign| message.contains(sign)))
}

/// The most gas the node may spend on each kind of call a facilitator makes for a payment,
/// and so the most a hostile payer (a contract wallet whose signature check burns all its
/// gas) or a hostile asset can make the node work per request. Each is set for what the call
/// checks, with room for the costliest honest case (a passkey wallet's signature check without
/// a P-256 precompile); a call that needs more fails as an out-of-gas refusal of the payment.
///
/// ```
/// use coinslot_evm::GasCaps;
///
/// // Wallets with costlier signature checks: their transfers check the signature too.
/// let mut caps = GasCaps::default();
/// caps.signature = 1_000_000;
/// caps.transfer = 1_200_000;
/// assert!(caps.transfer > caps.signature);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GasCaps {
    /// A read of a token's state: balance, nonce state, EIP-712 name and version.
    pub read: u64,
    /// A contract wallet's signature check (ERC-1271 `isValidSignature`).
    pub signature: u64,
    /// A token transfer: its simulation, its gas estimate and its transaction. It includes
    /// the token's own check of a contract wallet's signature, so it is set above
    /// [`signature`](Self::signature).
    pub transfer: u64,
    /// Deploying an ERC-6492 wallet through its factory. A check or a transfer of a wallet
    /// still to be deployed is simulated under this plus its own cap.
    pub deployment: u64,
}

impl Default for GasCaps {
    fn default() -> Self {
        Self {
            read: 100_000,
            signature: 500_000,
            transfer: 700_000,
            deployment: 1_500_000,
        }
    }
}

impl EvmChain {
    /// Starts a chain over `provider`; add keys with [`EvmChainBuilder::with_signer`].
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

    /// Signs and sends a call to `to` from the next facilitator key, after simulating it as
    /// that key with at most `gas_cap`: a call that would revert, or need more gas, is not
    /// sent. On a chain that mines at once, the answer carries the receipt.
    pub(crate) async fn send(
        &self,
        to: Address,
        input: Bytes,
        gas_cap: u64,
    ) -> Result<Sent, ChainFailure> {
        let index = self.next_account.fetch_add(1, Ordering::Relaxed) % self.accounts.len();
        let account = &self.accounts[index];
        let function = selector(&input);
        let request = TransactionRequest::default()
            .with_from(account.address)
            .with_to(to)
            .with_input(input)
            .with_chain_id(self.chain_id);
        // One round trip for both: the simulation and the fees do not depend on each other.
        let (gas_limit, fees) = futures_util::join!(
            self.simulate(request.clone(), (to, function), gas_cap),
            self.fees()
        );
        let (max_fee, priority_fee) = fees?;
        let request = request
            .with_gas_limit(gas_limit?)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority_fee);

        let mut next_nonce = account.next_nonce.lock().await;
        let nonce = match *next_nonce {
            Some(nonce) => nonce,
            None => self
                .provider
                .get_transaction_count(account.address)
                .pending()
                .await
                .map_err(|e| {
                    ChainFailure::Node(Error::chain("eth_getTransactionCount failed", e))
                })?,
        };
        match self.sign_and_send(request.with_nonce(nonce)).await {
            Ok((sent, taken)) => {
                // Not known to be taken (the node did not answer in time, nor knows it yet):
                // read the nonce from the node next time rather than guess.
                *next_nonce = taken.then_some(nonce + 1);
                Ok(sent)
            }
            Err(failure) => {
                // The node's count is the truth after a failure: read it again next time,
                // so one refused transaction does not leave a gap that stalls the key.
                *next_nonce = None;
                Err(failure)
            }
        }
    }

    /// Simulates `request` and answers the gas limit to send it with. The first call of a
    /// function on a contract is estimated (the estimate is the simulation); later ones run
    /// once with `eth_call` under the learned limit, so a limit too low fails here, not on
    /// chain. A learned limit that fails is forgotten and the call estimated again, which
    /// tells a revert from a limit too low.
    async fn simulate(
        &self,
        request: TransactionRequest,
        function: (Address, [u8; 4]),
        gas_cap: u64,
    ) -> Result<u64, ChainFailure> {
        let learned = self
            .gas_limits
            .lock()
            .ok()
            .and_then(|limits| limits.get(&function).copied())
            .map(|limit| limit.min(gas_cap));
        if let Some(limit) = learned {
            let call = request.clone().with_gas_limit(limit);
            match self.provider.call(call).await {
                Ok(_) => return Ok(limit),
                Err(_) => {
                    if let Ok(mut limits) = self.gas_limits.lock() {
                        limits.remove(&function);
                    }
                }
            }
        }
        // The cap bounds the node's search too: a call that needs more fails as out of gas.
        let gas = self
            .provider
            .estimate_gas(request.with_gas_limit(gas_cap))
            .into_future()
            .await
            .map_err(|e| ChainFailure::from_rpc("eth_estimateGas", e))?;
        if let Ok(mut limits) = self.gas_limits.lock() {
            limits.insert(function, gas.saturating_mul(LEARNED_GAS_FACTOR));
        }
        Ok(gas
            .saturating_add(gas * GAS_HEADROOM_PERCENT / 100)
            .min(gas_cap))
    }

    /// Signs `request` and gives it to the node. Answers whether the node is known to have
    /// taken it (its nonce used); when that is not known, the transaction may still land.
    async fn sign_and_send(
        &self,
        request: TransactionRequest,
    ) -> Result<(Sent, bool), ChainFailure> {
        let envelope: TxEnvelope =
            <EthereumWallet as NetworkWallet<Ethereum>>::sign_request(&self.wallet, request)
                .await
                .map_err(|e| {
                    ChainFailure::Node(Error::signing("could not sign the settlement", e))
                })?;
        let raw = envelope.encoded_2718();
        let hash = *envelope.tx_hash();
        let taken = |receipt| Ok((Sent { hash, receipt }, true));
        if !self.sends_sync() {
            self.send_plain(&raw).await?;
            return taken(None);
        }
        let wait = SYNC_SEND_WAIT.min(self.receipt_timeout);
        match tokio::time::timeout(wait, self.provider.send_raw_transaction_sync(&raw)).await {
            Ok(Ok(receipt)) => taken(Some(receipt)),
            Ok(Err(_)) if !self.is_known(hash).await => {
                // Refused, or the node has no such method: a plain send tells which.
                self.send_plain(&raw).await?;
                self.set_sync_sends(SyncSends::Unsupported);
                taken(None)
            }
            outcome => {
                // Taken and not mined yet (or not answered in time): not a chain that mines
                // at once, for now. The receipt is polled for.
                self.set_sync_sends(SyncSends::PlainUntil(
                    Instant::now() + SYNC_SEND_RETRY_AFTER,
                ));
                let taken = outcome.is_ok() || self.is_known(hash).await;
                Ok((
                    Sent {
                        hash,
                        receipt: None,
                    },
                    taken,
                ))
            }
        }
    }

    async fn send_plain(&self, raw: &[u8]) -> Result<(), ChainFailure> {
        self.provider
            .send_raw_transaction(raw)
            .await
            .map(drop)
            .map_err(|e| ChainFailure::from_rpc("eth_sendRawTransaction", e))
    }

    /// Whether the node knows the transaction `hash` (pending or mined).
    async fn is_known(&self, hash: TxHash) -> bool {
        matches!(
            self.provider.get_transaction_by_hash(hash).await,
            Ok(Some(_))
        )
    }

    fn sends_sync(&self) -> bool {
        let Ok(mut state) = self.sync_sends.lock() else {
            return false;
        };
        match *state {
            SyncSends::Try => true,
            SyncSends::Unsupported => false,
            SyncSends::PlainUntil(until) if Instant::now() < until => false,
            SyncSends::PlainUntil(_) => {
                *state = SyncSends::Try;
                true
            }
        }
    }

    fn set_sync_sends(&self, to: SyncSends) {
        if let Ok(mut state) = self.sync_sends.lock() {
            *state = to;
        }
    }

    /// EIP-1559 fees, held under the cap; one estimate serves for [`FEES_FRESH_FOR`].
    async fn fees(&self) -> Result<(u128, u128), ChainFailure> {
        let cached = self.recent_fees.lock().ok().and_then(|recent| *recent);
        if let Some((at, fees)) = cached
            && at.elapsed() < FEES_FRESH_FOR
        {
            return Ok(fees);
        }
        let fees = self.estimate_fees().await?;
        if let Ok(mut recent) = self.recent_fees.lock() {
            *recent = Some((Instant::now(), fees));
        }
        Ok(fees)
    }

    async fn estimate_fees(&self) -> Result<(u128, u128), ChainFailure> {
        let estimate = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| ChainFailure::Node(Error::chain("fee estimation failed", e)))?;
        let Some(cap) = self.max_fee_per_gas else {
            return Ok((estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas));
        };
        if estimate.max_fee_per_gas <= cap {
            return Ok((estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas));
        }
        // The estimate leaves room for rising base fees; the cap may still be enough today.
        let base_fee = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ChainFailure::Node(Error::chain("eth_getBlockByNumber failed", e)))?
            .and_then(|block| block.header.base_fee_per_gas)
            .map_or(0, u128::from);
        if base_fee > cap {
            return Err(ChainFailure::GasPriceAboveCap { base_fee, cap });
        }
        Ok((cap, estimate.max_priority_fee_per_gas.min(cap - base_fee)))
    }

    /// The receipt of `hash`, if it is mined.
    pub(crate) async fn receipt(&self, hash: TxHash) -> Result<Option<TransactionReceipt>> {
        self.provider
            .get_transaction_receipt(hash)
            .await
            .map_err(|e| Error::chain("eth_getTransactionReceipt failed", e))
    }

    /// The receipt of a sent transaction: the one its send answered, else polled for up to
    /// the receipt timeout; `None` if it is not mined by then.
    pub(crate) async fn wait_for_receipt(&self, sent: Sent) -> Result<Option<TransactionReceipt>> {
        let Sent { hash, receipt } = sent;
        if receipt.is_some() {
            return Ok(receipt);
        }
        let deadline = tokio::time::Instant::now() + self.receipt_timeout;
        let mut pause = FIRST_RECEIPT_POLL;
        loop {
            if let Some(receipt) = self.receipt(hash).await? {
                return Ok(Some(receipt));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(self.receipt_timeout)).await;
            pause = (pause * 2).min(RECEIPT_POLL);
        }
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

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll};

    use alloy::primitives::U256;
    use alloy::providers::ProviderBuilder;
    use alloy::rpc::client::ClientBuilder;
    use alloy::rpc::json_rpc::{
        ErrorPayload, RequestPacket, Response, ResponsePacket, ResponsePayload,
    };
    use alloy::sol_types::SolCall as _;
    use alloy::transports::http::{Http, reqwest};
    use alloy::transports::{TransportError, TransportFut};
    use coinslot_testkit::LocalChain;
    use coinslot_testkit::bindings::TestUsdc;

    use super::*;

    #[test]
    fn halts_and_reverts_are_told_from_node_failures() {
        for halted in [
            "execution reverted",
            "EVM error OutOfGas",
            "EVM error InvalidFEOpcode",
            "Out of gas: gas required exceeds allowance: 196608",
            "out of gas",
            "invalid opcode: INVALID",
            "invalid jump destination",
            "stack underflow (0 <=> 2)",
            "execution reverted: invalid nonce",
        ] {
            assert!(is_execution_failure(halted), "{halted}");
        }
        for node in [
            "header not found",
            "missing trie node",
            "nonce too low",
            "request timed out",
            "rate limit exceeded",
            "the method eth_call does not exist",
            "EVM error InvalidTransaction(LackOfFundForMaxFee { fee: 1, balance: 0 })",
            "EVM error NonceTooLow",
            "insufficient funds for gas * price + value",
        ] {
            assert!(!is_execution_failure(node), "{node}");
        }
    }

    /// A transaction anyone may send: an allowance on the test token.
    fn approve(spender: u8) -> (Address, Bytes) {
        let call = TestUsdc::approveCall {
            spender: Address::repeat_byte(spender),
            value: U256::from(1),
        };
        (coinslot_testkit::USDC, call.abi_encode().into())
    }

    async fn evm_chain(chain: &LocalChain, provider: DynProvider) -> EvmChain {
        EvmChain::builder(provider)
            .with_signer(chain.accounts().settlers[0].clone())
            .with_receipt_timeout(Duration::from_secs(10))
            .build()
            .await
            .unwrap()
    }

    fn state(chain: &EvmChain) -> SyncSends {
        *chain.sync_sends.lock().unwrap()
    }

    #[tokio::test]
    async fn a_chain_that_mines_at_once_answers_the_receipt_with_the_send() {
        let chain = LocalChain::start().await.unwrap();
        let evm = evm_chain(&chain, chain.provider().clone()).await;
        for spender in 1..4 {
            let (to, input) = approve(spender);
            let sent = evm
                .send(to, input, GasCaps::default().transfer)
                .await
                .unwrap();
            let receipt = sent
                .receipt
                .as_ref()
                .expect("the receipt came with the send");
            assert_eq!(receipt.transaction_hash, sent.hash);
            assert!(receipt.status());
        }
        assert!(matches!(state(&evm), SyncSends::Try));
    }

    #[tokio::test]
    async fn a_chain_that_does_not_mine_at_once_gets_plain_sends_and_polled_receipts() {
        let chain = LocalChain::start().await.unwrap();
        let evm = evm_chain(&chain, chain.provider().clone()).await;
        chain.set_automine(false).await.unwrap();
        let mut sent = Vec::new();
        for spender in 1..4 {
            let (to, input) = approve(spender);
            sent.push(
                evm.send(to, input, GasCaps::default().transfer)
                    .await
                    .unwrap(),
            );
            assert!(sent.last().unwrap().receipt.is_none());
            assert!(matches!(state(&evm), SyncSends::PlainUntil(_)));
        }
        // Each took the next nonce: one block holds them all.
        chain.mine().await.unwrap();
        chain.set_automine(true).await.unwrap();
        let mut blocks = HashSet::new();
        for sent in sent {
            let receipt = evm.wait_for_receipt(sent).await.unwrap().expect("mined");
            assert!(receipt.status());
            blocks.insert(receipt.block_number);
        }
        assert_eq!(blocks.len(), 1);
    }

    /// A node without `eth_sendRawTransactionSync` (EIP-7966), as most are today: anvil behind
    /// a transport that answers that method "method not found". A stand-in, named so: anvil
    /// itself cannot be made to lack the method.
    #[derive(Clone)]
    struct NodeWithoutSyncSends(Http<reqwest::Client>);

    impl tower_service::Service<RequestPacket> for NodeWithoutSyncSends {
        type Response = ResponsePacket;
        type Error = TransportError;
        type Future = TransportFut<'static>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
            self.0.poll_ready(cx)
        }

        fn call(&mut self, request: RequestPacket) -> Self::Future {
            if let RequestPacket::Single(single) = &request
                && single.method() == "eth_sendRawTransactionSync"
            {
                let id = single.id().clone();
                return Box::pin(async move {
                    Ok(ResponsePacket::Single(Response {
                        id,
                        payload: ResponsePayload::Failure(ErrorPayload {
                            code: -32601,
                            message: "the method eth_sendRawTransactionSync does not exist".into(),
                            data: None,
                        }),
                    }))
                });
            }
            self.0.call(request)
        }
    }

    #[tokio::test]
    async fn a_node_without_synchronous_sends_gets_plain_ones() {
        let chain = LocalChain::start().await.unwrap();
        let transport = NodeWithoutSyncSends(Http::new(chain.rpc_url()));
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_client(ClientBuilder::default().transport(transport, true))
            .erased();
        let evm = evm_chain(&chain, provider).await;
        for spender in 1..4 {
            let (to, input) = approve(spender);
            let sent = evm
                .send(to, input, GasCaps::default().transfer)
                .await
                .unwrap();
            assert!(sent.receipt.is_none(), "no receipt without EIP-7966");
            assert!(matches!(state(&evm), SyncSends::Unsupported));
            let receipt = evm.wait_for_receipt(sent).await.unwrap().expect("mined");
            assert!(receipt.status());
        }
    }

    #[tokio::test]
    async fn a_refused_transaction_is_an_error_and_leaves_synchronous_sends_on() {
        let chain = LocalChain::start().await.unwrap();
        let evm = evm_chain(&chain, chain.provider().clone()).await;
        let (to, input) = approve(1);
        evm.send(to, input, GasCaps::default().transfer)
            .await
            .unwrap();
        // A nonce already used: the node refuses the transaction, whichever way it is sent.
        *evm.accounts[0].next_nonce.lock().await = Some(0);
        let (to, input) = approve(2);
        assert!(matches!(
            evm.send(to, input, GasCaps::default().transfer).await,
            Err(ChainFailure::Node(_))
        ));
        assert!(matches!(state(&evm), SyncSends::Try));
        // The nonce is read from the node again: the next send goes through.
        let (to, input) = approve(3);
        assert!(
            evm.send(to, input, GasCaps::default().transfer)
                .await
                .unwrap()
                .receipt
                .is_some()
        );
    }
}
