//! [`ExactStacksFacilitator`]: verifies `exact` Stacks payments against a node and settles
//! them by broadcasting the payer's own transaction.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coinslot_core::{
    BoxFuture, ErrorReason, Network, PaymentId, Result, SchemeFacilitator, SettleRequest,
    SettleResponse, VerifyRequest, VerifyResponse,
};
use tokio::sync::{Mutex, OnceCell};

use super::SCHEME;
use super::asset::{Sip010Token, StacksAsset, TokenList};
use super::reason::{StacksReason, for_node_rejection};
use super::verify::{Parts, Policy, Refusal, Verified, check_local, claimed_payer, transaction_of};
use crate::network::StacksNetwork;
use crate::node::{Broadcast, StacksNode, TxStatus};
use crate::signature::HighS;
use crate::transaction::Txid;

/// When a settlement counts as done, and so when the server delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// When the transaction is mined and its transfer succeeded (the default): content is
    /// never served for a payment that then aborts, at the cost of waiting for a block.
    #[default]
    Confirmed,
    /// When the node accepts the transaction into its mempool, as the AIBTC relay does: fast,
    /// but a transaction that later aborts or is dropped has still been answered as paid.
    Mempool,
}

/// The default limit on waiting for a settlement to confirm; after it, `settlement_pending`.
pub const DEFAULT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(120);

/// Verifies and settles `exact` payments on the network of one Stacks node.
///
/// Verification is local first (every check of the scheme, signature included), then asks the
/// node whether the transaction or its nonce was used and whether the payer can pay the fee.
/// Settlement broadcasts the payer's transaction (the facilitator signs nothing and pays no
/// fee) and follows it with backoff: mined with `ok` is success, `abort_*` a final failure,
/// `dropped_*` watched further (a replaced transaction often confirms after all), and past the
/// time limit the answer is `settlement_pending` naming the txid, for
/// [`confirm`](SchemeFacilitator::confirm) (or a later settle) to finish. One transaction is
/// broadcast once however many times it is settled; one the node has from elsewhere is
/// refused (`invalid_exact_stacks_transaction_already_broadcast`).
///
/// ```
/// use coinslot_core::SchemeFacilitator;
/// use coinslot_stacks::exact::{Delivery, ExactStacksFacilitator};
/// use coinslot_stacks::network::StacksNetwork;
/// use coinslot_stacks::node::StacksNode;
///
/// let exact = ExactStacksFacilitator::new(StacksNode::new("https://api.hiro.so"), StacksNetwork::Mainnet)
///     .with_delivery(Delivery::Confirmed)
///     .with_max_fee(50_000);
/// assert_eq!(exact.networks(), vec![coinslot_core::Network::stacks_mainnet()]);
/// ```
#[derive(Debug, Clone)]
pub struct ExactStacksFacilitator {
    node: StacksNode,
    network: StacksNetwork,
    tokens: TokenList,
    policy: Policy,
    delivery: Delivery,
    confirm_timeout: Duration,
    running: Arc<Mutex<HashMap<Txid, Running>>>,
}

#[derive(Debug, Clone)]
struct Running {
    answer: Arc<OnceCell<SettleResponse>>,
    started: Instant,
}

/// How long a finished settlement is remembered in memory (the facilitator's store keeps it
/// for good).
const REMEMBER: Duration = Duration::from_secs(600);

impl ExactStacksFacilitator {
    /// Settles on `network` through `node`, in STX, sBTC and USDCx.
    pub fn new(node: StacksNode, network: StacksNetwork) -> Self {
        Self {
            node,
            network,
            tokens: TokenList::known(network.is_mainnet()),
            policy: Policy::default(),
            delivery: Delivery::default(),
            confirm_timeout: DEFAULT_CONFIRM_TIMEOUT,
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Accepts payments in this token too (or with these details, for a listed contract).
    #[must_use]
    pub fn with_token(mut self, token: Sip010Token) -> Self {
        self.tokens.add(token);
        self
    }

    /// Accepts these tokens only (STX is always accepted).
    #[must_use]
    pub fn with_tokens(mut self, tokens: TokenList) -> Self {
        self.tokens = tokens;
        self
    }

    /// Refuses a payment whose fee is above this, in µSTX (100,000 unless set).
    #[must_use]
    pub fn with_max_fee(mut self, max_fee: u64) -> Self {
        self.policy.max_fee = max_fee;
        self
    }

    /// Accepts a payment of more than the amount asked, as the AIBTC relay does (a
    /// compatibility switch: by default the amount must be exact).
    #[must_use]
    pub fn with_overpayment(mut self, allowed: bool) -> Self {
        self.policy.allow_overpayment = allowed;
        self
    }

    /// Accepts sponsored transactions whose sponsor has signed and pays the fee.
    #[must_use]
    pub fn with_sponsored(mut self, allowed: bool) -> Self {
        self.policy.allow_sponsored = allowed;
        self
    }

    /// Accepts high-S signatures (the node does before epoch 4.0; they let one payment take
    /// a second txid).
    #[must_use]
    pub fn with_high_s(mut self, high_s: HighS) -> Self {
        self.policy.high_s = high_s;
        self
    }

    /// When a settlement counts as done.
    #[must_use]
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// How long settle waits for the transaction to confirm.
    #[must_use]
    pub fn with_confirm_timeout(mut self, timeout: Duration) -> Self {
        self.confirm_timeout = timeout;
        self
    }

    /// The node.
    pub fn node(&self) -> &StacksNode {
        &self.node
    }

    /// Every check that needs no node.
    fn check_local(&self, request: &VerifyRequest) -> std::result::Result<Verified, Refusal> {
        check_local(
            &Parts::of(request)?,
            self.network,
            &self.tokens,
            &self.policy,
        )
    }

    /// Every check, local then against the node.
    async fn check(
        &self,
        request: &VerifyRequest,
    ) -> Result<std::result::Result<Verified, Refusal>> {
        let verified = match self.check_local(request) {
            Ok(verified) => verified,
            Err(refusal) => return Ok(Err(refusal)),
        };
        Ok(self.check_chain(&verified).await?.map(|()| verified))
    }

    /// The node's part: the transaction unknown to it (one it knows has been used, by
    /// whoever sent it), the nonce unused, the fee and amount covered.
    async fn check_chain(&self, verified: &Verified) -> Result<std::result::Result<(), Refusal>> {
        if self.node.status(&verified.txid).await? != TxStatus::Unknown {
            return Ok(Err(Refusal::named(
                StacksReason::AlreadyBroadcast,
                format!("{} is already known to the node", verified.txid),
            )));
        }
        self.check_account(verified).await
    }

    async fn check_account(&self, verified: &Verified) -> Result<std::result::Result<(), Refusal>> {
        let origin = verified.payer.to_string();
        let nonces = self.node.nonces(&origin).await?;
        if verified.nonce() < nonces.executed_next {
            return Ok(Err(Refusal::named(
                StacksReason::NonceAlreadyUsed,
                format!(
                    "nonce {} of {origin} is used; the next is {}",
                    verified.nonce(),
                    nonces.executed_next
                ),
            )));
        }
        let fee_payer = verified
            .transaction
            .auth
            .payer()
            .address(self.network.is_mainnet())
            .to_string();
        let mut needed = u128::from(verified.fee());
        if verified.asset == StacksAsset::Stx && fee_payer == origin {
            needed += verified.amount;
        }
        let balance = self.node.stx_balance(&fee_payer).await?;
        if balance < needed {
            return Ok(Err(Refusal {
                reason: ErrorReason::InsufficientFunds,
                message: Some(format!("{fee_payer} holds {balance} µSTX, needs {needed}")),
            }));
        }
        Ok(Ok(()))
    }

    /// Broadcasts and follows one verified payment.
    async fn broadcast_and_follow(
        &self,
        verified: &Verified,
        network: Network,
    ) -> Result<SettleResponse> {
        let payer = verified.payer.to_string();
        let txid = verified.txid;
        match self.node.broadcast(&verified.raw).await {
            Ok(Broadcast::Accepted(_)) => {}
            Ok(Broadcast::Rejected {
                reason: node_reason,
                data,
            }) => {
                return Ok(SettleResponse::failure(
                    for_node_rejection(&node_reason),
                    network,
                    Some(payer),
                )
                .with_message(format!("the node refused {txid}: {node_reason} {data}")));
            }
            Err(error) => {
                // The node may have taken it: the txid is known, so say pending, not failed.
                return Ok(pending(
                    txid,
                    network,
                    payer,
                    &format!("broadcast unanswered: {error}"),
                ));
            }
        }
        if self.delivery == Delivery::Mempool {
            return Ok(SettleResponse::success(txid.to_string(), network, payer));
        }
        self.follow(txid, network, payer).await
    }

    /// Polls the transaction until it is final or the time limit passes.
    async fn follow(&self, txid: Txid, network: Network, payer: String) -> Result<SettleResponse> {
        let deadline = Instant::now() + self.confirm_timeout;
        let mut delay = Duration::from_millis(200);
        loop {
            let status = match self.node.status(&txid).await {
                Ok(status) => status,
                // A node that fails a status read is asked again until the time limit.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(delay).await;
                    delay = next_delay(delay);
                    continue;
                }
                Err(error) => {
                    return Ok(pending(
                        txid,
                        network,
                        payer,
                        &format!("status unknown: {error}"),
                    ));
                }
            };
            if let Some(answer) = final_answer(&status, txid, &network, &payer) {
                return Ok(answer);
            }
            if Instant::now() >= deadline {
                return Ok(pending(
                    txid,
                    network,
                    payer,
                    &format!(
                        "not confirmed within {:?} ({status:?})",
                        self.confirm_timeout
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = next_delay(delay);
        }
    }

    /// The settlement of `verified`, run once per txid at a time: the first caller broadcasts,
    /// the others wait for its answer. A settlement that ended pending is followed again, never
    /// broadcast again.
    async fn settle_once(&self, verified: Verified, network: Network) -> Result<SettleResponse> {
        let (cell, sent_before) = {
            let mut running = self.running.lock().await;
            running.retain(|_, r| r.answer.get().is_none() || r.started.elapsed() < REMEMBER);
            let fresh = || Running {
                answer: Arc::new(OnceCell::new()),
                started: Instant::now(),
            };
            match running.get(&verified.txid) {
                Some(r) if r.answer.get().is_some_and(is_pending) => {
                    let again = fresh();
                    running.insert(verified.txid, again.clone());
                    (again.answer, true)
                }
                Some(r) => (r.answer.clone(), true),
                None => {
                    let first = fresh();
                    running.insert(verified.txid, first.clone());
                    (first.answer, false)
                }
            }
        };
        let answer = cell
            .get_or_try_init(|| async {
                if sent_before {
                    self.follow(verified.txid, network, verified.payer.to_string())
                        .await
                } else {
                    self.broadcast_and_follow(&verified, network).await
                }
            })
            .await?;
        Ok(answer.clone())
    }
}

fn next_delay(delay: Duration) -> Duration {
    (delay * 3 / 2).min(Duration::from_secs(5))
}

fn is_pending(response: &SettleResponse) -> bool {
    response.error_reason == Some(ErrorReason::SettlementPending)
}

fn pending(txid: Txid, network: Network, payer: String, message: &str) -> SettleResponse {
    let mut response =
        SettleResponse::failure(ErrorReason::SettlementPending, network, Some(payer))
            .with_message(message.to_owned());
    response.transaction = Some(txid.to_string());
    response
}

/// The answer a status gives, if it is final.
fn final_answer(
    status: &TxStatus,
    txid: Txid,
    network: &Network,
    payer: &str,
) -> Option<SettleResponse> {
    match status {
        TxStatus::Success { .. } => Some(SettleResponse::success(
            txid.to_string(),
            network.clone(),
            payer.to_owned(),
        )),
        TxStatus::Aborted { status, result } => {
            let mut response = SettleResponse::failure(
                StacksReason::TransactionAborted.into(),
                network.clone(),
                Some(payer.to_owned()),
            )
            .with_message(format!("{txid}: {status} {result}"));
            response.transaction = Some(txid.to_string());
            Some(response)
        }
        TxStatus::Pending | TxStatus::Dropped { .. } | TxStatus::Unknown => None,
    }
}

fn refused_verify(refusal: Refusal, payer: Option<String>) -> VerifyResponse {
    let response = VerifyResponse::invalid(refusal.reason, payer);
    match refusal.message {
        Some(message) => response.with_message(message),
        None => response,
    }
}

fn refused_settle(refusal: Refusal, network: Network, payer: Option<String>) -> SettleResponse {
    let response = SettleResponse::failure(refusal.reason, network, payer);
    match refusal.message {
        Some(message) => response.with_message(message),
        None => response,
    }
}

impl SchemeFacilitator for ExactStacksFacilitator {
    fn scheme(&self) -> &str {
        SCHEME
    }

    fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
        Box::pin(async move {
            Ok(match self.check(request).await? {
                Ok(verified) => VerifyResponse::valid(verified.payer.to_string()),
                Err(refusal) => refused_verify(refusal, claimed_payer(request.payload())),
            })
        })
    }

    fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>> {
        Box::pin(async move {
            let network = self.network.caip2();
            let verified = match self.check_local(request) {
                Ok(verified) => verified,
                Err(refusal) => {
                    let payer = claimed_payer(request.payload());
                    return Ok(refused_settle(refusal, network, payer));
                }
            };
            // A transaction this facilitator sent is settled by joining or following that
            // settlement. One the node has from elsewhere is refused, never taken as this
            // payment's settlement: two servers handed one transaction at once would
            // otherwise both serve for it. (A record of a settlement sent before a restart is
            // the facilitator's store's, finished through `confirm`.)
            let ours = self.running.lock().await.contains_key(&verified.txid);
            if !ours && let Err(refusal) = self.check_chain(&verified).await? {
                let payer = Some(verified.payer.to_string());
                return Ok(refused_settle(refusal, network, payer));
            }
            self.settle_once(verified, network).await
        })
    }

    fn confirm<'a>(
        &'a self,
        request: &'a SettleRequest,
        pending_answer: &'a SettleResponse,
    ) -> BoxFuture<'a, Result<SettleResponse>> {
        Box::pin(async move {
            let Ok((tx, _)) = transaction_of(request.payload()) else {
                return Ok(pending_answer.clone());
            };
            let txid = tx.txid();
            let payer = tx
                .auth
                .origin()
                .address(tx.version.is_mainnet())
                .to_string();
            let status = self.node.status(&txid).await?;
            Ok(final_answer(&status, txid, &self.network.caip2(), &payer)
                .unwrap_or_else(|| pending_answer.clone()))
        })
    }

    fn networks(&self) -> Vec<Network> {
        vec![self.network.caip2()]
    }

    /// The network, the payer and the nonce: an account uses a nonce once, so this names the
    /// money movement whatever the bytes (a re-signed or re-encoded copy is the same payment).
    fn payment_id(&self, request: &VerifyRequest) -> PaymentId {
        payment_id(request).unwrap_or_else(|| PaymentId::of_payload(request))
    }
}

/// The [`PaymentId`] of an `exact` Stacks payment whatever its encoding: network, payer and
/// account nonce. `None` for another scheme or network, or a payload that does not decode. A
/// server in front of a remote facilitator gives it to `HttpFacilitator::with_payment_ids`.
pub fn payment_id(request: &VerifyRequest) -> Option<PaymentId> {
    let network = request.network().ok()?;
    let stacks = StacksNetwork::from_caip2(&network)?;
    if request.scheme() != SCHEME {
        return None;
    }
    let (tx, _) = transaction_of(request.payload()).ok()?;
    let origin = tx.auth.origin();
    Some(PaymentId::new(format!(
        "{SCHEME}/{network}/{}/{}",
        origin.address(stacks.is_mainnet()),
        origin.nonce()
    )))
}
