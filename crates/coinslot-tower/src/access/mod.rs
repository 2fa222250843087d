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
//! share them between processes. The policies and stores come with the `access` feature; the
//! [`AccessPolicy`] trait, for policies of your own, is always here.

#[cfg(feature = "access")]
mod api_key;
#[cfg(feature = "access")]
mod free_tier;
#[cfg(feature = "access")]
mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "access")]
mod store;

use coinslot_core::BoxFuture;
use http::StatusCode;
use http::request::Parts;

#[cfg(feature = "access")]
#[cfg_attr(docsrs, doc(cfg(feature = "access")))]
pub use api_key::{API_KEY_HEADER, ApiKeys};
#[cfg(feature = "access")]
#[cfg_attr(docsrs, doc(cfg(feature = "access")))]
pub use free_tier::FreeTier;
#[cfg(feature = "access")]
#[cfg_attr(docsrs, doc(cfg(feature = "access")))]
pub use memory::MemoryAccessStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteAccessStore;
#[cfg(feature = "access")]
#[cfg_attr(docsrs, doc(cfg(feature = "access")))]
pub use store::{AccessStore, ApiKeyDigest, Debit};

use crate::error::Result;
pub use crate::reject::Rejection;

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
    Refuse(Rejection),
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
