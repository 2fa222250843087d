//! What the handler learns about the payment for its request.

use coinslot_core::{Network, PaymentRequirements, SettleResponse, TokenAmount};

/// A verified payment, in the request extensions of the inner service.
///
/// With [`SettlementTiming::AfterHandler`](crate::SettlementTiming) the money has not moved yet
/// when the handler runs (it moves only if the handler succeeds); with `BeforeHandler` it has,
/// and [`settlement`](Self::settlement) holds the receipt.
///
/// ```
/// use axum::Extension;
/// use coinslot_tower::VerifiedPayment;
///
/// async fn premium(Extension(payment): Extension<VerifiedPayment>) -> String {
///     format!("thanks, {}: {} atomic units on {}", payment.payer, payment.amount, payment.network)
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedPayment {
    /// Who pays, as the facilitator reported it.
    pub payer: String,
    /// The scheme (`exact`, `upto`).
    pub scheme: String,
    /// The network.
    pub network: Network,
    /// The asset (a token address, `STX`…).
    pub asset: String,
    /// The amount, in atomic units of the asset; for a metered (`upto`) payment, the most the
    /// handler may charge.
    pub amount: TokenAmount,
    /// The protocol version the client paid with (1 or 2).
    pub x402_version: u8,
    /// The offer the payment was for.
    pub requirements: PaymentRequirements,
    /// The settlement, when it happened before the handler.
    pub settlement: Option<SettleResponse>,
}
