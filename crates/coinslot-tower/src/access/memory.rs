//! [`MemoryAccessStore`]: access state in this process.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use coinslot_core::BoxFuture;

use super::store::{AccessStore, ApiKeyDigest, Debit};
use crate::error::Result;

/// Balances and counters in memory: lost on restart, not shared between processes.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> coinslot_tower::Result<()> {
/// use coinslot_tower::access::{AccessStore, ApiKeyDigest, Debit, MemoryAccessStore};
///
/// let store = MemoryAccessStore::new();
/// let key = ApiKeyDigest::of("sk-test");
/// store.credit(&key, 10).await?;
/// assert_eq!(store.debit(&key, 4).await?, Debit::Charged { remaining: 6 });
/// assert_eq!(store.debit(&key, 7).await?, Debit::Insufficient { balance: 6 });
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryAccessStore {
    balances: Mutex<HashMap<ApiKeyDigest, u64>>,
    free_calls: Mutex<FreeCalls>,
}

#[derive(Debug, Default)]
struct FreeCalls {
    day: u64,
    used: HashMap<String, u64>,
}

impl MemoryAccessStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl AccessStore for MemoryAccessStore {
    fn debit<'a>(&'a self, key: &'a ApiKeyDigest, amount: u64) -> BoxFuture<'a, Result<Debit>> {
        let mut balances = self.balances.lock().unwrap_or_else(PoisonError::into_inner);
        let debit = match balances.get_mut(key) {
            None => Debit::UnknownKey,
            Some(balance) if *balance < amount => Debit::Insufficient { balance: *balance },
            Some(balance) => {
                *balance -= amount;
                Debit::Charged {
                    remaining: *balance,
                }
            }
        };
        Box::pin(async move { Ok(debit) })
    }

    fn credit<'a>(&'a self, key: &'a ApiKeyDigest, amount: u64) -> BoxFuture<'a, Result<u64>> {
        let mut balances = self.balances.lock().unwrap_or_else(PoisonError::into_inner);
        let balance = balances.entry(*key).or_insert(0);
        *balance = balance.saturating_add(amount);
        let balance = *balance;
        Box::pin(async move { Ok(balance) })
    }

    fn take_free_call<'a>(
        &'a self,
        client: &'a str,
        day: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Option<u64>>> {
        let mut calls = self
            .free_calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if calls.day != day {
            // Counters of past days are of no use: start the day afresh.
            calls.day = day;
            calls.used.clear();
        }
        let used = calls.used.entry(client.to_owned()).or_insert(0);
        let taken = (*used < limit).then(|| {
            *used += 1;
            *used
        });
        Box::pin(async move { Ok(taken) })
    }
}
