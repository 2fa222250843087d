//! [`StacksReason`]: why `exact` on Stacks refuses a payment or fails a settlement.

use std::fmt;

use coinslot_core::ErrorReason;

/// Why `exact` on Stacks refuses a payment or fails a settlement, besides core's generic
/// reasons (`invalid_network`, `insufficient_funds`, `settlement_pending`…). Each has the
/// string written on the wire ([`as_str`](Self::as_str)), after the x402 naming of scheme
/// reasons (`invalid_exact_<chain>_…`), and becomes an [`ErrorReason`] with `into()`.
///
/// The node's rejections at broadcast map onto the same reasons, so a client reads one reason
/// whether the facilitator or the node caught the fault:
///
/// | node reason | reason |
/// |---|---|
/// | `BadNonce` | `invalid_exact_stacks_nonce_already_used` |
/// | `ConflictingNonceInMempool` | `invalid_exact_stacks_conflicting_nonce` |
/// | `NotEnoughFunds` | `insufficient_funds` |
/// | `SignatureValidation` | `invalid_exact_stacks_signature` |
/// | `FeeTooLow` | `invalid_exact_stacks_fee_too_low` |
/// | `BadTransactionVersion`, `NetworkMismatch` | `invalid_exact_stacks_network_mismatch` |
/// | anything else | `settle_exact_stacks_broadcast_rejected` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StacksReason {
    /// The transaction is missing, not hex, or does not decode.
    TransactionUndecodable,
    /// Its version or chain id is not the offer's network.
    NetworkMismatch,
    /// A sponsored transaction, and this facilitator does not sponsor.
    Sponsored,
    /// Not an STX transfer for STX, not a contract call for a token.
    PayloadKind,
    /// The offer's asset is not one the facilitator knows.
    UnknownAsset,
    /// A contract call to another contract than the offer's token.
    AssetMismatch,
    /// Not `transfer(uint, principal, principal, optional buff)`.
    FunctionMismatch,
    /// The token's `sender` argument is not the transaction's origin.
    SenderNotOrigin,
    /// The recipient is not `payTo`.
    RecipientMismatch,
    /// The amount is not the offer's.
    AmountMismatch,
    /// The memo does not carry the offer's nonce.
    MemoMismatch,
    /// The post-conditions forbid the transfer: it would abort after paying its fee.
    PostConditions,
    /// The fee is above the facilitator's cap.
    FeeTooHigh,
    /// The node wants a higher fee.
    FeeTooLow,
    /// The signature does not hold.
    Signature,
    /// The account has used this nonce: the transaction (or another with its nonce) was mined.
    NonceAlreadyUsed,
    /// Another transaction with this nonce is in the mempool.
    ConflictingNonce,
    /// This transaction was broadcast before (by someone else, or for another request).
    AlreadyBroadcast,
    /// The node refused the transaction for a reason not listed above.
    BroadcastRejected,
    /// Mined, and aborted: the fee was paid, nothing else moved.
    TransactionAborted,
}

impl StacksReason {
    /// Every reason, in the order of the table above.
    pub const ALL: &'static [Self] = &[
        Self::TransactionUndecodable,
        Self::NetworkMismatch,
        Self::Sponsored,
        Self::PayloadKind,
        Self::UnknownAsset,
        Self::AssetMismatch,
        Self::FunctionMismatch,
        Self::SenderNotOrigin,
        Self::RecipientMismatch,
        Self::AmountMismatch,
        Self::MemoMismatch,
        Self::PostConditions,
        Self::FeeTooHigh,
        Self::FeeTooLow,
        Self::Signature,
        Self::NonceAlreadyUsed,
        Self::ConflictingNonce,
        Self::AlreadyBroadcast,
        Self::BroadcastRejected,
        Self::TransactionAborted,
    ];

    /// The reason string, as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TransactionUndecodable => "invalid_exact_stacks_payload_transaction",
            Self::NetworkMismatch => "invalid_exact_stacks_network_mismatch",
            Self::Sponsored => "invalid_exact_stacks_sponsored_transaction",
            Self::PayloadKind => "invalid_exact_stacks_payload_kind",
            Self::UnknownAsset => "invalid_exact_stacks_unknown_asset",
            Self::AssetMismatch => "invalid_exact_stacks_asset_mismatch",
            Self::FunctionMismatch => "invalid_exact_stacks_function_mismatch",
            Self::SenderNotOrigin => "invalid_exact_stacks_sender_not_origin",
            Self::RecipientMismatch => "invalid_exact_stacks_recipient_mismatch",
            Self::AmountMismatch => "invalid_exact_stacks_amount_mismatch",
            Self::MemoMismatch => "invalid_exact_stacks_memo_mismatch",
            Self::PostConditions => "invalid_exact_stacks_post_conditions",
            Self::FeeTooHigh => "invalid_exact_stacks_fee_too_high",
            Self::FeeTooLow => "invalid_exact_stacks_fee_too_low",
            Self::Signature => "invalid_exact_stacks_signature",
            Self::NonceAlreadyUsed => "invalid_exact_stacks_nonce_already_used",
            Self::ConflictingNonce => "invalid_exact_stacks_conflicting_nonce",
            Self::AlreadyBroadcast => "invalid_exact_stacks_transaction_already_broadcast",
            Self::BroadcastRejected => "settle_exact_stacks_broadcast_rejected",
            Self::TransactionAborted => "settle_exact_stacks_transaction_aborted",
        }
    }
}

impl fmt::Display for StacksReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<StacksReason> for ErrorReason {
    fn from(reason: StacksReason) -> Self {
        Self::parse(reason.as_str())
    }
}

impl PartialEq<StacksReason> for ErrorReason {
    fn eq(&self, other: &StacksReason) -> bool {
        self.as_str() == other.as_str()
    }
}

/// The reason for a node's rejection at broadcast.
pub(crate) fn for_node_rejection(node_reason: &str) -> ErrorReason {
    match node_reason {
        "BadNonce" => StacksReason::NonceAlreadyUsed.into(),
        "ConflictingNonceInMempool" => StacksReason::ConflictingNonce.into(),
        "NotEnoughFunds" => ErrorReason::InsufficientFunds,
        "SignatureValidation" => StacksReason::Signature.into(),
        "FeeTooLow" => StacksReason::FeeTooLow.into(),
        "BadTransactionVersion" | "NetworkMismatch" => StacksReason::NetworkMismatch.into(),
        _ => StacksReason::BroadcastRejected.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_rejections_map_to_the_table() {
        for (node, ours) in [
            ("BadNonce", StacksReason::NonceAlreadyUsed.as_str()),
            (
                "ConflictingNonceInMempool",
                StacksReason::ConflictingNonce.as_str(),
            ),
            ("NotEnoughFunds", "insufficient_funds"),
            ("SignatureValidation", StacksReason::Signature.as_str()),
            ("FeeTooLow", StacksReason::FeeTooLow.as_str()),
            (
                "BadTransactionVersion",
                StacksReason::NetworkMismatch.as_str(),
            ),
            ("TooMuchChaining", StacksReason::BroadcastRejected.as_str()),
        ] {
            assert_eq!(for_node_rejection(node).as_str(), ours, "{node}");
        }
    }

    #[test]
    fn every_reason_is_distinct_and_unknown_to_core() {
        let mut seen = std::collections::HashSet::new();
        for reason in StacksReason::ALL {
            assert!(seen.insert(reason.as_str()), "{reason}");
            assert!(reason.as_str().contains("_stacks_"), "{reason}");
            assert_eq!(ErrorReason::from(*reason).as_str(), reason.as_str());
        }
    }
}
