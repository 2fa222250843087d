//! The record of settlements: what makes settlement exactly-once across requests, processes
//! and restarts.
//!
//! A settlement is recorded under its key (a hash of the scheme's
//! [`PaymentId`](coinslot_core::PaymentId)) in one of three states:
//! being settled, sent but not confirmed, or settled. [`MemoryStore`] keeps the record for the
//! life of the process; `SqliteStore` (feature `sqlite`) keeps it on disk.

mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;

use coinslot_core::{BoxFuture, Result, SettleResponse};

pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;

/// What is known of one settlement.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Record {
    /// A facilitator claimed it and is settling it now (or stopped while doing so: nobody can
    /// tell whether its transaction went out, so the payment is not tried again).
    InFlight,
    /// Its transaction was sent but not confirmed in time; the answer names the transaction.
    Pending(SettleResponse),
    /// Final: settled, or a transaction was sent and failed. Every later settle of the same
    /// payment gets this answer.
    Settled(SettleResponse),
}

/// Where settlements are recorded. Implementations must make [`claim`](Self::claim) atomic:
/// of any number of concurrent claims of one key, across every process sharing the store,
/// exactly one wins.
pub trait SettlementStore: Send + Sync + 'static {
    /// Claims `key`: `None` if it was free and is now [`Record::InFlight`] for the caller,
    /// otherwise what is recorded.
    fn claim<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>>>;

    /// What is recorded under `key`.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>>>;

    /// Records the outcome of a claimed settlement.
    fn put<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<()>>;

    /// Records the outcome of a settlement found [`Record::Pending`], if it still is: `true`
    /// if this call replaced the pending record, `false` if another caller did first. Atomic,
    /// like [`claim`](Self::claim): of the callers that confirm one pending settlement, one
    /// learns it was first, and only that one answers success.
    fn finish_pending<'a>(
        &'a self,
        key: &'a str,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Gives up a claim when nothing was sent (the payment was refused, or the node was
    /// unreachable before sending), so that the payment can be tried again.
    fn release<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>>;
}

impl<T: SettlementStore + ?Sized> SettlementStore for std::sync::Arc<T> {
    fn claim<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        (**self).claim(key)
    }
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        (**self).get(key)
    }
    fn put<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        (**self).put(key, record)
    }
    fn finish_pending<'a>(
        &'a self,
        key: &'a str,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        (**self).finish_pending(key, record)
    }
    fn release<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        (**self).release(key)
    }
}
