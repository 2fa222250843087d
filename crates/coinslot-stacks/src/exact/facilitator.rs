//! [`ExactStacksFacilitator`]: verifies `exact` Stacks payments against a node and settles
//! them by broadcasting the payer's own transaction.

use std::time::Duration;

use coinslot_core::{
    BoxFuture, Network, PaymentId, Refusal, Result, SchemeFacilitator, SettleRequest,
    SettleResponse, VerifyRequest, VerifyResponse,
};

use super::SCHEME;
use super::asset::{Sip010Token, TokenList};
use super::settle::{Settlements, final_answer};
use super::verify::{
    Policy, Verified, check_local, check_node, claimed_payer, parts_of, transaction_of,
};
use crate::network::StacksNetwork;
use crate::node::StacksNode;
use crate::signature::HighS;

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
    network: StacksNetwork,
    tokens: TokenList,
    policy: Policy,
    settlements: Settlements,
}

impl ExactStacksFacilitator {
    /// Settles on `network` through `node`, in STX, sBTC and USDCx.
    pub fn new(node: StacksNode, network: StacksNetwork) -> Self {
        Self {
            network,
            tokens: TokenList::known(network.is_mainnet()),
            policy: Policy::default(),
            settlements: Settlements::new(node, Delivery::default(), DEFAULT_CONFIRM_TIMEOUT),
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
        self.settlements.delivery = delivery;
        self
    }

    /// How long settle waits for the transaction to confirm.
    #[must_use]
    pub fn with_confirm_timeout(mut self, timeout: Duration) -> Self {
        self.settlements.confirm_timeout = timeout;
        self
    }

    /// The node.
    pub fn node(&self) -> &StacksNode {
        &self.settlements.node
    }

    /// Every check that needs no node.
    fn check_local(&self, request: &VerifyRequest) -> std::result::Result<Verified, Refusal> {
        check_local(
            &parts_of(request)?,
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
        let node = &self.settlements.node;
        Ok(check_node(node, self.network, &verified)
            .await?
            .map(|()| verified))
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
                Err(refusal) => refusal.into_verify(claimed_payer(request.payload())),
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
                    return Ok(refusal.into_settle(network, payer));
                }
            };
            // A transaction this facilitator sent is settled by joining or following that
            // settlement. One the node has from elsewhere is refused, never taken as this
            // payment's settlement: two servers handed one transaction at once would
            // otherwise both serve for it. (A record of a settlement sent before a restart is
            // the facilitator's store's, finished through `confirm`.)
            let ours = self.settlements.sent(&verified.txid).await;
            if !ours
                && let Err(refusal) =
                    check_node(&self.settlements.node, self.network, &verified).await?
            {
                let payer = Some(verified.payer.to_string());
                return Ok(refusal.into_settle(network, payer));
            }
            self.settlements.settle_once(verified, network).await
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
            let status = self.settlements.node.status(&txid).await?;
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
