//! [`PayerStores`]: one SQLite database file per account under `DATA_DIR/payers`, so that a
//! call can only ever open its own caller's data: isolation by construction, not by a `WHERE`
//! clause. The service's tables in it are named `x402_*`.

use std::path::PathBuf;

use rusqlite::{Connection, ErrorCode, OptionalExtension as _};

use crate::caller::{Account, Caller};
use crate::error::ApiError;
use crate::time::now_ms;

/// The most a payer's database may hold.
pub const MAX_DATABASE_BYTES: u64 = 64 * 1024 * 1024;
/// SQLite's page size, set on creation.
const PAGE_SIZE: u64 = 4096;

/// How often [`PayerStores::keep_swept`] sweeps every payer's database.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// The service's tables, created on first use.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS x402_kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    metadata TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS x402_locks (
    name TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS x402_jobs (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    data TEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS x402_jobs_order ON x402_jobs (queue, priority DESC, id);
CREATE TABLE IF NOT EXISTS x402_memories (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    metadata TEXT,
    embedding BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS x402_pastes (
    id TEXT PRIMARY KEY,
    content TEXT NOT NULL,
    title TEXT,
    language TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
";

/// The payer databases, each opened for one call at a time on a blocking thread.
#[derive(Debug, Clone)]
pub struct PayerStores {
    dir: PathBuf,
}

impl PayerStores {
    /// The databases under `dir`, created if missing.
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// Runs `work` on the caller's own database; refusals name how the call was paid.
    pub async fn for_caller<T, F>(&self, caller: &Caller, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PayerDb) -> Result<T, ApiError> + Send + 'static,
    {
        let account = caller.account()?;
        self.with(account, work).await
    }

    /// Deletes the expired rows of every payer's database, visited lately or not; how many
    /// databases it swept. (A call sweeps its own payer's database as it opens it.)
    pub async fn sweep_all(&self) -> Result<usize, ApiError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| ApiError::internal("cannot list the payer databases", e))?;
            let mut swept = 0;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|ext| ext == "sqlite") {
                    PayerDb::open(&path)?;
                    swept += 1;
                }
            }
            Ok(swept)
        })
        .await
        .map_err(|e| ApiError::internal("the sweep failed", e))?
    }

    /// Sweeps every payer's database every [`SWEEP_EVERY`], for as long as the runtime runs.
    pub fn keep_swept(&self) {
        let stores = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(refusal) = stores.sweep_all().await {
                    tracing::warn!(error = %refusal.message, "sweeping expired rows");
                }
            }
        });
    }

    /// Runs `work` on `account`'s database, created on first use, with expired rows gone.
    pub async fn with<T, F>(&self, account: &Account, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PayerDb) -> Result<T, ApiError> + Send + 'static,
    {
        let path = self.dir.join(format!("{}.sqlite", account.as_str()));
        tokio::task::spawn_blocking(move || {
            let mut db = PayerDb::open(&path)?;
            work(&mut db)
        })
        .await
        .map_err(|e| ApiError::internal("the storage task failed", e))?
    }
}

/// One payer's database, open.
#[derive(Debug)]
pub struct PayerDb {
    connection: Connection,
}

impl PayerDb {
    fn open(path: &std::path::Path) -> Result<Self, ApiError> {
        let connection =
            Connection::open(path).map_err(|e| ApiError::internal("cannot open storage", e))?;
        let setup = format!(
            "PRAGMA page_size = {PAGE_SIZE};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA max_page_count = {};
             {SCHEMA}",
            MAX_DATABASE_BYTES / PAGE_SIZE
        );
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .and_then(|()| connection.execute_batch(&setup))
            .map_err(storage_error)?;
        let db = Self { connection };
        db.sweep()?;
        Ok(db)
    }

    /// Deletes what has expired: answers never show it, and it takes no room.
    fn sweep(&self) -> Result<(), ApiError> {
        let now = now_ms();
        for table in ["x402_kv", "x402_pastes", "x402_locks"] {
            self.connection
                .execute(
                    &format!(
                        "DELETE FROM {table} WHERE expires_at IS NOT NULL AND expires_at <= ?1"
                    ),
                    [now],
                )
                .map_err(storage_error)?;
        }
        Ok(())
    }

    /// The connection.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// The rows `sql` selects with `params`, each made by `row`.
    pub fn rows<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, ApiError> {
        let mut statement = self.connection.prepare(sql).map_err(storage_error)?;
        let rows = statement.query_map(params, row).map_err(storage_error)?;
        rows.collect::<Result<_, _>>().map_err(storage_error)
    }

    /// The one row `sql` selects with `params`, made by `row`, if there is one.
    pub fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, ApiError> {
        self.connection
            .query_row(sql, params, row)
            .optional()
            .map_err(storage_error)
    }

    /// How many rows `table` holds (one of the service's own).
    pub fn count(&self, table: &'static str) -> Result<u64, ApiError> {
        self.connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(storage_error)
    }

    /// Deletes `table`'s row whose `column` is `value`; whether there was one.
    pub fn delete(
        &self,
        table: &'static str,
        column: &'static str,
        value: &str,
    ) -> Result<bool, ApiError> {
        self.connection
            .execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [value])
            .map(|deleted| deleted > 0)
            .map_err(storage_error)
    }

    /// Whether `table` has a row whose `column` is `value`.
    pub fn exists(
        &self,
        table: &'static str,
        column: &'static str,
        value: &str,
    ) -> Result<bool, ApiError> {
        self.connection
            .query_row(
                &format!("SELECT 1 FROM {table} WHERE {column} = ?1"),
                [value],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(storage_error)
    }
}

/// A database error as an answer: a full database is the payer's limit (413), anything else
/// ours.
pub fn storage_error(error: rusqlite::Error) -> ApiError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => database_full(),
        _ => ApiError::internal("storage failed", error),
    }
}

/// The payer's database has reached [`MAX_DATABASE_BYTES`]: the payer's 413.
pub fn database_full() -> ApiError {
    ApiError::too_large(format!(
        "storage is full: a payer's database holds at most {} MiB",
        MAX_DATABASE_BYTES / (1024 * 1024)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sweep_empties_expired_rows_of_payers_who_do_not_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let stores = PayerStores::new(dir.path().to_owned()).unwrap();
        let account = Account::of_payer("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM").unwrap();
        stores
            .with(&account, |db| {
                db.connection()
                    .execute(
                        "INSERT INTO x402_kv (key, value, created_at, updated_at, expires_at)
                         VALUES ('gone', 'v', 0, 0, 1), ('kept', 'v', 0, 0, NULL)",
                        [],
                    )
                    .map_err(storage_error)
            })
            .await
            .unwrap();
        let keys = || {
            let path = dir.path().join(format!("{}.sqlite", account.as_str()));
            let connection = Connection::open(path).unwrap();
            connection
                .query_row("SELECT group_concat(key) FROM x402_kv", [], |row| {
                    row.get::<_, String>(0)
                })
                .unwrap()
        };
        assert_eq!(keys(), "gone,kept");
        assert_eq!(stores.sweep_all().await.unwrap(), 1);
        assert_eq!(keys(), "kept");
    }
}
