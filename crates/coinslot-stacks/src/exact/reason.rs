//! The reasons `exact` on Stacks refuses a payment or fails a settlement.
//!
//! They follow the x402 naming of scheme reasons (`invalid_exact_<chain>_…`), with core's
//! generic ones where they fit (`invalid_network`, `insufficient_funds`,
//! `settlement_pending`). The node's rejections at broadcast map onto the same names, so a
//! client reads one reason whether the facilitator or the node caught the fault:
//!
//! | node reason | reason |
//! |---|---|
//! | `BadNonce` | `invalid_exact_stacks_nonce_already_used` |
//! | `ConflictingNonceInMempool` | `invalid_exact_stacks_conflicting_nonce` |
//! | `NotEnoughFunds` | `insufficient_funds` |
//! | `SignatureValidation` | `invalid_exact_stacks_signature` |
//! | `FeeTooLow` | `invalid_exact_stacks_fee_too_low` |
//! | `BadTransactionVersion`, `NetworkMismatch` | `invalid_exact_stacks_network_mismatch` |
//! | anything else | `settle_exact_stacks_broadcast_rejected` |

use coinslot_core::ErrorReason;

/// The transaction is missing, not hex, or does not decode.
pub const TRANSACTION_UNDECODABLE: &str = "invalid_exact_stacks_payload_transaction";
/// Its version or chain id is not the offer's network.
pub const NETWORK_MISMATCH: &str = "invalid_exact_stacks_network_mismatch";
/// A sponsored transaction, and this facilitator does not sponsor.
pub const SPONSORED: &str = "invalid_exact_stacks_sponsored_transaction";
/// Not an STX transfer for STX, not a contract call for a token.
pub const PAYLOAD_KIND: &str = "invalid_exact_stacks_payload_kind";
/// The offer's asset is not one the facilitator knows.
pub const UNKNOWN_ASSET: &str = "invalid_exact_stacks_unknown_asset";
/// A contract call to another contract than the offer's token.
pub const ASSET_MISMATCH: &str = "invalid_exact_stacks_asset_mismatch";
/// Not `transfer(uint, principal, principal, optional buff)`.
pub const FUNCTION_MISMATCH: &str = "invalid_exact_stacks_function_mismatch";
/// The token's `sender` argument is not the transaction's origin.
pub const SENDER_NOT_ORIGIN: &str = "invalid_exact_stacks_sender_not_origin";
/// The recipient is not `payTo`.
pub const RECIPIENT_MISMATCH: &str = "invalid_exact_stacks_recipient_mismatch";
/// The amount is not the offer's.
pub const AMOUNT_MISMATCH: &str = "invalid_exact_stacks_amount_mismatch";
/// The memo does not carry the offer's nonce.
pub const MEMO_MISMATCH: &str = "invalid_exact_stacks_memo_mismatch";
/// The post-conditions forbid the transfer: it would abort after paying its fee.
pub const POST_CONDITIONS: &str = "invalid_exact_stacks_post_conditions";
/// The fee is above the facilitator's cap.
pub const FEE_TOO_HIGH: &str = "invalid_exact_stacks_fee_too_high";
/// The node wants a higher fee.
pub const FEE_TOO_LOW: &str = "invalid_exact_stacks_fee_too_low";
/// The signature does not hold.
pub const SIGNATURE: &str = "invalid_exact_stacks_signature";
/// The account has used this nonce: the transaction (or another with its nonce) was mined.
pub const NONCE_ALREADY_USED: &str = "invalid_exact_stacks_nonce_already_used";
/// Another transaction with this nonce is in the mempool.
pub const CONFLICTING_NONCE: &str = "invalid_exact_stacks_conflicting_nonce";
/// This transaction was broadcast before (by someone else, or for another request).
pub const ALREADY_BROADCAST: &str = "invalid_exact_stacks_transaction_already_broadcast";
/// The node refused the transaction for a reason not listed above.
pub const BROADCAST_REJECTED: &str = "settle_exact_stacks_broadcast_rejected";
/// Mined, and aborted: the fee was paid, nothing else moved.
pub const TRANSACTION_ABORTED: &str = "settle_exact_stacks_transaction_aborted";

/// The reason for a name of this module.
pub(crate) fn reason(name: &str) -> ErrorReason {
    ErrorReason::parse(name)
}

/// The reason for a node's rejection at broadcast.
pub(crate) fn for_node_rejection(node_reason: &str) -> ErrorReason {
    match node_reason {
        "BadNonce" => reason(NONCE_ALREADY_USED),
        "ConflictingNonceInMempool" => reason(CONFLICTING_NONCE),
        "NotEnoughFunds" => ErrorReason::InsufficientFunds,
        "SignatureValidation" => reason(SIGNATURE),
        "FeeTooLow" => reason(FEE_TOO_LOW),
        "BadTransactionVersion" | "NetworkMismatch" => reason(NETWORK_MISMATCH),
        _ => reason(BROADCAST_REJECTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_rejections_map_to_the_table() {
        for (node, ours) in [
            ("BadNonce", NONCE_ALREADY_USED),
            ("ConflictingNonceInMempool", CONFLICTING_NONCE),
            ("NotEnoughFunds", "insufficient_funds"),
            ("SignatureValidation", SIGNATURE),
            ("FeeTooLow", FEE_TOO_LOW),
            ("BadTransactionVersion", NETWORK_MISMATCH),
            ("TooMuchChaining", BROADCAST_REJECTED),
        ] {
            assert_eq!(for_node_rejection(node).as_str(), ours, "{node}");
        }
    }
}
