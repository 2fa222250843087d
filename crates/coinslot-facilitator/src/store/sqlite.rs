//! [`SqliteStore`]: settlement records in a SQLite database, kept across restarts and shared
//! by the processes that open the same file.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use coinslot_core::{BoxFuture, Error, Result, SettleResponse};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::{Record, SettlementStore};

/// Settlement records in SQLite (WAL mode). A facilitator restarted on the same file refuses,
/// or answers as before, every payment it settled before the restart.
///
/// ```
/// # fn main() -> coinslot_core::Result<()> {
/// use coinslot_facilitator::store::SqliteStore;
///
/// let store = SqliteStore::open_in_memory()?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS coinslot_settlements (
        key        TEXT PRIMARY KEY NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('in_flight', 'pending', 'settled')),
        response   TEXT,
        updated_at INTEGER NOT NULL
    ) STRICT;
";

fn store_error(what: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
    move |e| Error::store(format!("sqlite {what} failed"), e)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let connection = Connection::open(path).map_err(store_error("open"))?;
        // WAL lets readers and one writer work at once; the busy timeout makes a second
        // process wait for the lock instead of failing.
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(store_error("pragma"))?;
        Self::init(connection)
    }

    /// A database that lives as long as this value (for tests and one-off tools).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory().map_err(store_error("open"))?)
    }

    fn init(connection: Connection) -> Result<Self> {
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(store_error("busy_timeout"))?;
        connection
            .execute_batch(SCHEMA)
            .map_err(store_error("schema"))?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `f` on the connection off the async threads.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().map_err(|_| Error::Store {
                message: "the sqlite connection's lock is poisoned".into(),
                source: None,
            })?;
            f(&mut connection)
        })
        .await
        .map_err(|e| Error::store("the sqlite task failed", e))?
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn read(connection: &Connection, key: &str) -> Result<Option<Record>> {
    let row: Option<(String, Option<String>)> = connection
        .query_row(
            "SELECT state, response FROM coinslot_settlements WHERE key = ?1",
            params![key],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(store_error("select"))?;
    let Some((state, text)) = row else {
        return Ok(None);
    };
    if state == "in_flight" {
        return Ok(Some(Record::InFlight));
    }
    let response: SettleResponse = text
        .as_deref()
        .ok_or_else(|| Error::Store {
            message: format!("the {state} record of {key} has no response"),
            source: None,
        })
        .and_then(|text| {
            serde_json::from_str(text).map_err(|e| Error::store("a stored response is corrupt", e))
        })?;
    Ok(Some(if state == "pending" {
        Record::Pending(response)
    } else {
        Record::Settled(response)
    }))
}

/// The `state` and `response` columns of a record.
fn columns(record: &Record) -> Result<(&'static str, Option<String>)> {
    let (state, response) = match record {
        Record::InFlight => ("in_flight", None),
        Record::Pending(response) => ("pending", Some(response)),
        Record::Settled(response) => ("settled", Some(response)),
    };
    let response = response
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::store("cannot encode the response", e))?;
    Ok((state, response))
}

impl SettlementStore for SqliteStore {
    fn claim<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        let key = key.to_owned();
        Box::pin(self.run(move |connection| {
            let inserted = connection
                .execute(
                    "INSERT INTO coinslot_settlements (key, state, updated_at)
                     VALUES (?1, 'in_flight', ?2) ON CONFLICT (key) DO NOTHING",
                    params![key, now()],
                )
                .map_err(store_error("insert"))?;
            if inserted == 1 {
                Ok(None)
            } else {
                read(connection, &key)
            }
        }))
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        let key = key.to_owned();
        Box::pin(self.run(move |connection| read(connection, &key)))
    }

    fn put<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        let key = key.to_owned();
        let columns = columns(record);
        Box::pin(async move {
            let (state, response) = columns?;
            self.run(move |connection| {
                connection
                    .execute(
                        "INSERT INTO coinslot_settlements (key, state, response, updated_at)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (key) DO UPDATE SET
                             state = excluded.state, response = excluded.response,
                             updated_at = excluded.updated_at",
                        params![key, state, response, now()],
                    )
                    .map_err(store_error("upsert"))?;
                Ok(())
            })
            .await
        })
    }

    fn finish_pending<'a>(
        &'a self,
        key: &'a str,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        let key = key.to_owned();
        let columns = columns(record);
        Box::pin(async move {
            let (state, response) = columns?;
            self.run(move |connection| {
                let updated = connection
                    .execute(
                        "UPDATE coinslot_settlements
                         SET state = ?2, response = ?3, updated_at = ?4
                         WHERE key = ?1 AND state = 'pending'",
                        params![key, state, response, now()],
                    )
                    .map_err(store_error("update"))?;
                Ok(updated == 1)
            })
            .await
        })
    }

    fn release<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        let key = key.to_owned();
        Box::pin(self.run(move |connection| {
            connection
                .execute(
                    "DELETE FROM coinslot_settlements WHERE key = ?1 AND state = 'in_flight'",
                    params![key],
                )
                .map_err(store_error("delete"))?;
            Ok(())
        }))
    }
}
