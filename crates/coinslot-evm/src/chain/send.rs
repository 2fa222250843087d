//! Sending: the facilitator's keys round-robin, each with its own nonce (read again from the
//! node after a failure, which alloy's cached nonce manager does not do), and the send itself,
//! answered with the receipt where the node mines at once (EIP-7966).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718 as _;
use alloy::network::{Ethereum, EthereumWallet, NetworkWallet, TransactionBuilder as _};
use alloy::primitives::{Address, Bytes, TxHash, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use coinslot_core::Error;

use super::gas::selector;
use super::{ChainFailure, EvmChain};

/// How long a send waits for the node to mine the transaction in the same call
/// (`eth_sendRawTransactionSync`, EIP-7966), the key's nonce lock held: long enough for a
/// chain that mines at once (anvil's automine, a preconfirming sequencer) under load, short
/// enough that a chain with real block times stalls a key once, briefly.
const SYNC_SEND_WAIT: Duration = Duration::from_millis(250);
/// After a chain did not mine within [`SYNC_SEND_WAIT`], how long its sends are plain ones
/// (`eth_sendRawTransaction`, then the receipt polled) before a synchronous one is tried again.
const SYNC_SEND_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Whether a chain's node mines a transaction within the call that sends it: then the send
/// answers the receipt, and no poll waits for it.
#[derive(Debug, Clone, Copy)]
pub(super) enum SyncSends {
    /// Ask for the receipt with the send: the node mined within the send last time, or it
    /// has not been tried yet.
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
    pub(super) receipt: Option<TransactionReceipt>,
}

/// A facilitator key and its nonce manager. The lock is held from choosing a nonce until the
/// node has accepted (or refused) the transaction, so two settlements never share a nonce; on
/// a chain that mines at once, until it is mined ([`SYNC_SEND_WAIT`] at most).
pub(super) struct Account {
    pub(super) address: Address,
    /// The next nonce to use; `None` after a failed send, to be read from the node again.
    pub(super) next_nonce: tokio::sync::Mutex<Option<u64>>,
}

impl EvmChain {
    /// Signs and sends a call to `to` from the next facilitator key, after simulating it as
    /// that key with at most `gas_cap`: a call that would revert, or need more gas, is not
    /// sent. On a chain that mines at once, the answer carries the receipt.
    pub(crate) async fn send(
        &self,
        to: Address,
        input: Bytes,
        gas_cap: u64,
    ) -> Result<Sent, ChainFailure> {
        self.send_value(to, input, U256::ZERO, gas_cap).await
    }

    /// [`send`](Self::send) with `value` wei attached.
    pub(crate) async fn send_value(
        &self,
        to: Address,
        input: Bytes,
        value: U256,
        gas_cap: u64,
    ) -> Result<Sent, ChainFailure> {
        let index = self.next_account.fetch_add(1, Ordering::Relaxed) % self.accounts.len();
        self.send_from(&self.accounts[index], to, input, value, gas_cap)
            .await
    }

    /// [`send`](Self::send) from the key of `signer`, which must be one of this chain's (a
    /// call that checks its sender, as `upto` settlement does): `None` if it is not.
    pub(crate) async fn send_as(
        &self,
        signer: Address,
        to: Address,
        input: Bytes,
        gas_cap: u64,
    ) -> Option<Result<Sent, ChainFailure>> {
        let account = self.accounts.iter().find(|a| a.address == signer)?;
        Some(
            self.send_from(account, to, input, U256::ZERO, gas_cap)
                .await,
        )
    }

    async fn send_from(
        &self,
        account: &Account,
        to: Address,
        input: Bytes,
        value: U256,
        gas_cap: u64,
    ) -> Result<Sent, ChainFailure> {
        let function = selector(&input);
        let request = TransactionRequest::default()
            .with_from(account.address)
            .with_to(to)
            .with_input(input)
            .with_value(value)
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
    pub(super) async fn is_known(&self, hash: TxHash) -> bool {
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
    use std::collections::HashSet;

    use alloy::providers::DynProvider;
    use coinslot_testkit::LocalChain;
    use coinslot_testkit::bindings::TestUsdc;

    use super::*;
    use crate::GasCaps;

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

    /// Sends an allowance of `spender`'s through `evm`.
    async fn send_approval(evm: &EvmChain, spender: u8) -> Sent {
        let (to, input) = approve(spender);
        evm.send(to, input, GasCaps::default().transfer)
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
            let sent = send_approval(&evm, spender).await;
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
            let sent = send_approval(&evm, spender).await;
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
