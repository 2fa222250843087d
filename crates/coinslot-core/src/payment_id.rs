//! [`PaymentId`]: the one name of a payment, whatever its encoding.

use std::fmt;

use crate::api::VerifyRequest;

/// What names one payment: the money movement it asks for, not the bytes it came in.
///
/// A scheme gives it ([`SchemeFacilitator::payment_id`](crate::SchemeFacilitator::payment_id)):
/// for `exact` on EVM the network, token, payer and EIP-3009 nonce, since the token uses a
/// nonce once, so the two `v` encodings of one signature are one payment; on Stacks the
/// network, payer and account nonce. A facilitator settles a `PaymentId` once, and a server's
/// replay guard runs one handler per `PaymentId`. A payment whose scheme cannot read it is
/// named by its bytes ([`PaymentId::of_payload`]).
///
/// ```
/// use coinslot_core::PaymentId;
///
/// let id = PaymentId::new("exact/eip155:8453/0xtoken/0xpayer/0xnonce");
/// assert_eq!(id.as_str(), "exact/eip155:8453/0xtoken/0xpayer/0xnonce");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaymentId(String);

impl PaymentId {
    /// A payment id from a scheme's text for it.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The id of a payment by what it was sent as: its scheme, network and `payload` (a
    /// re-encoded copy of the payload is then another payment).
    pub fn of_payload(request: &VerifyRequest) -> Self {
        let payload = serde_json::to_string(request.payload()).unwrap_or_default();
        Self(format!(
            "{}/{}/{}",
            request.scheme(),
            request.network_name(),
            payload
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PaymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
