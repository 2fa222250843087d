//! Ways in before x402: access policies checked before a request is asked to pay.
//!
//! A [`PaymentLayer`](crate::PaymentLayer) runs its policies in order on every priced request;
//! the first that grants access lets the request through without a payment, one that refuses
//! answers for it, and when every policy passes the request goes on to x402. The two policies
//! here give the order most paid APIs want: a prepaid [API key](ApiKeys) first, then x402, then
//! a [free tier](FreeTier) of calls per day for clients that send neither.
//!
//! Their state lives in an [`AccessStore`]: [`MemoryAccessStore`] for one process, or
//! [`SqliteAccessStore`] (feature `sqlite`) to keep balances and counters across restarts and
//! share them between processes.

mod api_key;
mod free_tier;
mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

use coinslot_core::BoxFuture;
use http::StatusCode;
use http::request::Parts;

pub use api_key::{API_KEY_HEADER, ApiKeys};
pub use free_tier::FreeTier;
pub use memory::MemoryAccessStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteAccessStore;
pub use store::{AccessStore, ApiKeyDigest, Debit};

use crate::error::Result;

/// What a policy sees of a request.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AccessRequest<'a> {
    /// The request's head.
    pub parts: &'a Parts,
    /// Whether the request carries an x402 payment (a client paying is not spending its free calls).
    pub has_payment: bool,
}

/// A policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Not this policy's business: ask the next one, then x402.
    Continue,
    /// Serve the request without a payment.
    Grant(AccessGrant),
    /// Refuse the request with this answer (an unknown API key, for example).
    Refuse(Refusal),
}

/// Access granted by a policy; it rides in the request extensions for the handler to see.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessGrant {
    /// The policy's name (`api_key`, `free_tier`).
    pub policy: &'static str,
    /// Who was let in: an API key's digest in hex, a free-tier client's identifier.
    pub client: String,
    /// What the call cost in the policy's units (credits for an API key, calls for a free tier).
    pub charged: u64,
    /// What is left after this call.
    pub remaining: u64,
}

/// A refusal: the status and the message the client gets as `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status (401, 403, 429…).
    pub status: StatusCode,
    /// What the client is told.
    pub message: String,
}

/// A way in before x402. See the [module docs](self).
pub trait AccessPolicy: Send + Sync + 'static {
    /// Decides for one request, before any payment is looked at.
    fn check<'a>(&'a self, request: AccessRequest<'a>) -> BoxFuture<'a, Result<Access>>;

    /// Called when a request this policy let in has been answered with `status`: a policy
    /// may give back what it charged when the server failed (5xx).
    fn finished<'a>(
        &'a self,
        grant: &'a AccessGrant,
        status: StatusCode,
    ) -> BoxFuture<'a, Result<()>> {
        let _ = (grant, status);
        Box::pin(async { Ok(()) })
    }
}

impl std::fmt::Debug for dyn AccessPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessPolicy")
    }
}
