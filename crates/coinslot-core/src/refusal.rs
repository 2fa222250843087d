//! [`Refusal`]: why a scheme refuses a payment, and the answers that say so.

use crate::network::Network;
use crate::reason::ErrorReason;
use crate::v2::{SettleResponse, VerifyResponse};

/// Why a scheme refuses a payment: the reason, and what exactly was wrong when there is more
/// to say. It becomes the `/verify` answer ([`into_verify`](Self::into_verify)) or the
/// `/settle` answer ([`into_settle`](Self::into_settle)), so every scheme refuses the same way.
///
/// ```
/// use coinslot_core::{ErrorReason, Network, Refusal};
///
/// let refusal = Refusal::with(ErrorReason::InsufficientFunds, "balance 5 is below 10");
/// let answer = refusal.into_settle(Network::base(), Some("0xpayer".into()));
/// assert!(!answer.success);
/// assert_eq!(answer.error_message.as_deref(), Some("balance 5 is below 10"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The reason string of the answer.
    pub reason: ErrorReason,
    /// A human-readable detail.
    pub message: Option<String>,
}

impl Refusal {
    /// A refusal with its reason alone.
    pub fn new(reason: impl Into<ErrorReason>) -> Self {
        Self {
            reason: reason.into(),
            message: None,
        }
    }

    /// A refusal with its reason and what exactly was wrong.
    pub fn with(reason: impl Into<ErrorReason>, message: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            message: Some(message.into()),
        }
    }

    /// The `/verify` answer: `isValid: false` with the reason, naming `payer` when known.
    pub fn into_verify(self, payer: Option<String>) -> VerifyResponse {
        let response = VerifyResponse::invalid(self.reason, payer);
        match self.message {
            Some(message) => response.with_message(message),
            None => response,
        }
    }

    /// The `/settle` answer: `success: false` with the reason and no transaction.
    pub fn into_settle(self, network: Network, payer: Option<String>) -> SettleResponse {
        let response = SettleResponse::failure(self.reason, network, payer);
        match self.message {
            Some(message) => response.with_message(message),
            None => response,
        }
    }
}
