//! [`AccessStore`]: the state of the access policies.

use std::fmt;

use coinslot_core::BoxFuture;
use sha2::{Digest as _, Sha256};

use crate::error::Result;

/// The SHA-256 digest of an API key: stores keep this, never the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiKeyDigest([u8; 32]);

impl ApiKeyDigest {
    /// The digest of `key`.
    pub fn of(key: &str) -> Self {
        Self(Sha256::digest(key.as_bytes()).into())
    }

    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest in lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for ApiKeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyDigest({})", self.to_hex())
    }
}

/// The outcome of charging an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Debit {
    /// Charged; `remaining` is the balance after the charge.
    Charged {
        /// The balance left.
        remaining: u64,
    },
    /// The balance is below the charge; nothing was taken.
    Insufficient {
        /// The balance.
        balance: u64,
    },
    /// No such key.
    UnknownKey,
}

/// Where API-key balances and free-tier counters live. Every operation is atomic: concurrent
/// requests can neither overdraw a key nor exceed a free tier.
pub trait AccessStore: Send + Sync + 'static {
    /// Takes `amount` from the key's balance if the balance covers it.
    fn debit<'a>(&'a self, key: &'a ApiKeyDigest, amount: u64) -> BoxFuture<'a, Result<Debit>>;

    /// Adds `amount` to the key's balance, creating the key at zero first if it is new;
    /// returns the new balance.
    fn credit<'a>(&'a self, key: &'a ApiKeyDigest, amount: u64) -> BoxFuture<'a, Result<u64>>;

    /// Counts one call of `client` on `day` if fewer than `limit` were counted; returns the
    /// count after this call, or `None` when the limit is reached.
    fn take_free_call<'a>(
        &'a self,
        client: &'a str,
        day: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Option<u64>>>;
}

impl<S: AccessStore + ?Sized> AccessStore for std::sync::Arc<S> {
    fn debit<'a>(&'a self, key: &'a ApiKeyDigest, amount: u64) -> BoxFuture<'a, Result<Debit>> {
        (**self).debit(key, amount)
    }
    fn credit<'a>(&'a self, key: &'a ApiKeyDigest, amount: u64) -> BoxFuture<'a, Result<u64>> {
        (**self).credit(key, amount)
    }
    fn take_free_call<'a>(
        &'a self,
        client: &'a str,
        day: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Option<u64>>> {
        (**self).take_free_call(client, day, limit)
    }
}
