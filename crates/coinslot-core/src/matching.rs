//! The requirement-matching rule every server uses to find which offer a payment is for.
//!
//! The reference server accepts a v2 payment only if its `accepted` equals one of the offered
//! requirements in every field, including `extra` and fields it does not know, with the order of
//! object keys ignored. A v1 payment names only a scheme and a network, so it matches on those.
//! Addresses are compared as written: a client must echo `accepted` unchanged, case included.

use crate::v1::{PaymentPayloadV1, PaymentRequirementsV1};
use crate::v2::{PaymentPayload, PaymentRequirements};

/// The offered requirement that `payload.accepted` equals, if any.
///
/// ```
/// use coinslot_core::{find_matching_requirements, PaymentRequirements};
///
/// let offer: PaymentRequirements = serde_json::from_value(serde_json::json!({
///     "scheme": "exact", "network": "eip155:84532", "amount": "1000",
///     "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
///     "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60,
///     "extra": {"name": "USDC", "version": "2"}
/// }))?;
/// let mut echoed = offer.clone();
/// assert_eq!(find_matching_requirements(std::slice::from_ref(&offer), &echoed), Some(&offer));
///
/// echoed.amount = 1u64.into(); // any change, however small, is another requirement
/// assert_eq!(find_matching_requirements(&[offer], &echoed), None);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn find_matching_requirements<'a>(
    offered: &'a [PaymentRequirements],
    accepted: &PaymentRequirements,
) -> Option<&'a PaymentRequirements> {
    // Field-by-field equality; `serde_json::Map` compares as a map, so key order is ignored.
    offered.iter().find(|offer| *offer == accepted)
}

/// The offered requirement a v2 payment is for, if any.
pub fn match_payload<'a>(
    offered: &'a [PaymentRequirements],
    payload: &PaymentPayload,
) -> Option<&'a PaymentRequirements> {
    find_matching_requirements(offered, &payload.accepted)
}

/// The offered v1 requirement a v1 payment is for: the first with its scheme and network.
pub fn match_payload_v1<'a>(
    offered: &'a [PaymentRequirementsV1],
    payload: &PaymentPayloadV1,
) -> Option<&'a PaymentRequirementsV1> {
    offered
        .iter()
        .find(|offer| offer.scheme == payload.scheme && offer.network == payload.network)
}
