//! [`SqliteAccessStore`]: access state in a SQLite database.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use coinslot_core::BoxFuture;
use rusqlite::{Connection, OptionalExtension as _, params};

use super::store::{AccessStore, ApiKeyDigest, Debit};
use crate::error::{Error, Result};

/// Balances and counters in SQLite (WAL mode): kept across restarts and shared by every process
/// that opens the same file. Each operation is one statement, so concurrent callers in any
/// process cannot overdraw a key or pass a free tier's limit.
///
/// A credit (a top-up, a refund) is on disk before it is answered. Debits and free-call
/// counters are committed without waiting for the disk (`synchronous = NORMAL`): a crash of
/// the process loses none of them, a power cut may roll back the last few (the key keeps
/// credit it spent), never a credit. That wait was most of the cost of a keyed call.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> coinslot_tower::Result<()> {
/// use coinslot_tower::access::{AccessStore, SqliteAccessStore};
///
/// let store = SqliteAccessStore::open_in_memory()?;
/// assert_eq!(store.take_free_call("203.0.113.7", 20_000, 1).await?, Some(1));
/// assert_eq!(store.take_free_call("203.0.113.7", 20_000, 1).await?, None);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteAccessStore {
    connection: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS coinslot_api_keys (
        key_digest BLOB PRIMARY KEY NOT NULL,
        balance    INTEGER NOT NULL CHECK (balance >= 0)
    ) STRICT;
    CREATE TABLE IF NOT EXISTS coinslot_free_calls (
        client TEXT NOT NULL,
        day    INTEGER NOT NULL,
        used   INTEGER NOT NULL,
        PRIMARY KEY (client, day)
    ) STRICT;
";

fn failed(what: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    move |e| Error::store(format!("sqlite {what} failed"), e)
}

/// SQLite integers are signed: amounts above `i64::MAX` are refused rather than wrapped.
fn to_sql(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|e| Error::store("amount above 2^63 - 1", e))
}

fn from_sql(value: i64) -> u64 {
    // The CHECK constraints keep stored values non-negative.
    u64::try_from(value).unwrap_or(0)
}

impl SqliteAccessStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let connection = Connection::open(path).map_err(failed("open"))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| connection.pragma_update(None, "synchronous", "NORMAL"))
            .map_err(failed("pragma"))?;
        Self::with_connection(connection)
    }

    /// A database that lives as long as this value.
    pub fn open_in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory().map_err(failed("open"))?)
    }

    fn with_connection(connection: Connection) -> Result<Self> {
        // Another process holding the write lock is waited for, not reported as an error.
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(failed("busy_timeout"))?;
        connection.execute_batch(SCHEMA).map_err(failed("schema"))?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            work(&connection.lock().unwrap_or_else(PoisonError::into_inner))
        })
        .await
        .map_err(|e| Error::store("the sqlite task stopped", e))?
    }
}

impl AccessStore for SqliteAccessStore {
    fn debit<'a>(&'a self, key: &'a ApiKeyDigest, amount: u64) -> BoxFuture<'a, Result<Debit>> {
        let digest = *key.as_bytes();
        Box::pin(self.blocking(move |db| {
            let amount = to_sql(amount)?;
            let charged: Option<i64> = db
                .query_row(
                    "UPDATE coinslot_api_keys SET balance = balance - ?2
                     WHERE key_digest = ?1 AND balance >= ?2 RETURNING balance",
                    params![digest, amount],
                    |row| row.get(0),
                )
                .optional()
                .map_err(failed("debit"))?;
            if let Some(remaining) = charged {
                return Ok(Debit::Charged {
                    remaining: from_sql(remaining),
                });
            }
            let balance: Option<i64> = db
                .query_row(
                    "SELECT balance FROM coinslot_api_keys WHERE key_digest = ?1",
                    params![digest],
                    |row| row.get(0),
                )
                .optional()
                .map_err(failed("balance"))?;
            Ok(balance.map_or(Debit::UnknownKey, |b| Debit::Insufficient {
                balance: from_sql(b),
            }))
        }))
    }

    fn credit<'a>(&'a self, key: &'a ApiKeyDigest, amount: u64) -> BoxFuture<'a, Result<u64>> {
        let digest = *key.as_bytes();
        Box::pin(self.blocking(move |db| {
            let amount = to_sql(amount)?;
            // Credit is money the operator was paid: this commit waits for the disk.
            db.pragma_update(None, "synchronous", "FULL")
                .map_err(failed("pragma"))?;
            let balance = db
                .query_row(
                    "INSERT INTO coinslot_api_keys (key_digest, balance) VALUES (?1, ?2)
                     ON CONFLICT (key_digest) DO UPDATE SET balance = balance + ?2
                     RETURNING balance",
                    params![digest, amount],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(failed("credit"));
            db.pragma_update(None, "synchronous", "NORMAL")
                .map_err(failed("pragma"))?;
            Ok(from_sql(balance?))
        }))
    }

    fn take_free_call<'a>(
        &'a self,
        client: &'a str,
        day: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Option<u64>>> {
        let client = client.to_owned();
        Box::pin(self.blocking(move |db| {
            if limit == 0 {
                return Ok(None);
            }
            let (day, limit) = (to_sql(day)?, to_sql(limit)?);
            db.execute(
                "DELETE FROM coinslot_free_calls WHERE day < ?1",
                params![day],
            )
            .map_err(failed("sweep"))?;
            let used: Option<i64> = db
                .query_row(
                    "INSERT INTO coinslot_free_calls (client, day, used) VALUES (?1, ?2, 1)
                     ON CONFLICT (client, day) DO UPDATE SET used = used + 1 WHERE used < ?3
                     RETURNING used",
                    params![client, day, limit],
                    |row| row.get(0),
                )
                .optional()
                .map_err(failed("free call"))?;
            Ok(used.map(from_sql))
        }))
    }
}
