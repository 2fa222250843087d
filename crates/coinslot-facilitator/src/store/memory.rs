//! [`MemoryStore`]: settlement records in a map, for one process.

use std::collections::HashMap;
use std::sync::Mutex;

use coinslot_core::{BoxFuture, Error, Result};

use super::{Record, SettlementStore};

/// Settlement records held in memory: exactly-once within one process. A restart forgets
/// them; the chain still refuses an authorization it has used, but use `SqliteStore` where a
/// restarted facilitator must answer as it did before.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Record>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Record>) -> T) -> Result<T> {
        let mut records = self.records.lock().map_err(|_| Error::Store {
            message: "the memory store's lock is poisoned".into(),
            source: None,
        })?;
        Ok(f(&mut records))
    }
}

impl SettlementStore for MemoryStore {
    fn claim<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(async move {
            self.with(|records| match records.get(key) {
                Some(record) => Some(record.clone()),
                None => {
                    records.insert(key.to_owned(), Record::InFlight);
                    None
                }
            })
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(async move { self.with(|records| records.get(key).cloned()) })
    }

    fn put<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.with(|records| {
                records.insert(key.to_owned(), record.clone());
            })
        })
    }

    fn finish_pending<'a>(
        &'a self,
        key: &'a str,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            self.with(|records| match records.get_mut(key) {
                Some(pending @ Record::Pending(_)) => {
                    *pending = record.clone();
                    true
                }
                _ => false,
            })
        })
    }

    fn release<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.with(|records| {
                if records.get(key) == Some(&Record::InFlight) {
                    records.remove(key);
                }
            })
        })
    }
}
