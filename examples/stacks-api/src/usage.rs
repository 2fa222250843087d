//! [`UsageRecord`]: every paid call that was served (account, endpoint, token, amount, time),
//! in `DATA_DIR/usage.sqlite`.
//!
//! A call is recorded only once its payment settled: [`crate::caller::name_caller`] runs
//! inside the paywall and notes who called what in the response, [`record`] runs outside it and
//! writes the note down only if the answer that left the paywall is still a success (a failed
//! settlement turns it into 402).

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{Value, json};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::time::iso;

/// The record of paid calls.
#[derive(Debug, Clone)]
pub struct UsageRecord {
    connection: Arc<Mutex<Connection>>,
}

/// One served call, as [`crate::caller::name_caller`] notes it for [`record`].
#[derive(Debug, Clone)]
pub struct Billed {
    account: Option<String>,
    endpoint: String,
    token: &'static str,
    amount: i64,
}

/// What a payer has spent on one endpoint in one token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageLine {
    /// `METHOD /path` as routed.
    pub endpoint: String,
    /// The token (`STX`, `sBTC`, `USDCx`, `USDC`, `API_KEY`).
    pub token: String,
    /// Calls.
    pub calls: u64,
    /// Their total, in atomic units of the token.
    pub amount: String,
    /// The last call, RFC 3339.
    pub last_call: String,
}

impl Billed {
    /// `caller`'s call of `endpoint` (`METHOD /path`).
    pub fn new(caller: &Caller, endpoint: String) -> Self {
        Self {
            account: caller.account.as_ref().map(|a| a.as_str().to_owned()),
            endpoint,
            token: caller.token.as_str(),
            amount: caller.amount.parse().unwrap_or(i64::MAX),
        }
    }
}

impl UsageRecord {
    /// The record at `path`, created if missing.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(
            // Commits do not wait for the disk: a power cut may lose the last rows of a
            // statistic; waiting would double the cost of every call.
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS usage (
                 account TEXT,
                 endpoint TEXT NOT NULL,
                 token TEXT NOT NULL,
                 amount INTEGER NOT NULL,
                 at INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS usage_by_account ON usage (account, at);
             CREATE INDEX IF NOT EXISTS usage_by_time ON usage (at);",
        )?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let connection = connection
                .lock()
                .map_err(|_| ApiError::internal("the usage record failed", "poisoned lock"))?;
            work(&connection).map_err(|e| ApiError::internal("the usage record failed", e))
        })
        .await
        .map_err(|e| ApiError::internal("the usage record failed", e))?
    }

    async fn add(&self, billed: Billed) -> Result<(), ApiError> {
        let at = crate::time::now_ms();
        self.blocking(move |c| {
            c.execute(
                "INSERT INTO usage (account, endpoint, token, amount, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![billed.account, billed.endpoint, billed.token, billed.amount, at],
            )
            .map(drop)
        })
        .await
    }

    /// What `account` has spent, by endpoint and token.
    pub async fn of_account(&self, account: String) -> Result<Vec<UsageLine>, ApiError> {
        self.blocking(move |c| {
            let mut statement = c.prepare(
                "SELECT endpoint, token, count(*), sum(amount), max(at) FROM usage
                 WHERE account = ?1 GROUP BY endpoint, token ORDER BY endpoint, token",
            )?;
            let lines = statement.query_map([account], |row| {
                Ok(UsageLine {
                    endpoint: row.get(0)?,
                    token: row.get(1)?,
                    calls: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                    amount: row.get::<_, i64>(3)?.to_string(),
                    last_call: iso(row.get(4)?),
                })
            })?;
            lines.collect()
        })
        .await
    }
    /// Calls and revenue for the dashboard: by hour and token over the last `hours` hours,
    /// and by endpoint and token over all time.
    pub async fn dashboard(&self, hours: i64) -> Result<Value, ApiError> {
        let now = crate::time::now_ms();
        let since = now - hours * 3_600_000;
        self.blocking(move |c| {
            let mut by_hour = c.prepare(
                "SELECT at / 3600000, token, count(*), sum(amount) FROM usage WHERE at >= ?1
                 GROUP BY at / 3600000, token ORDER BY 1, 2",
            )?;
            let hours = by_hour
                .query_map([since], |row| {
                    Ok(json!({
                        "hourStart": row.get::<_, i64>(0)? * 3_600_000,
                        "token": row.get::<_, String>(1)?,
                        "calls": row.get::<_, i64>(2)?,
                        "amount": row.get::<_, i64>(3)?.to_string(),
                    }))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut by_endpoint = c.prepare(
                "SELECT endpoint, token, count(*), sum(amount) FROM usage
                 GROUP BY endpoint, token ORDER BY 3 DESC, 1, 2",
            )?;
            let endpoints = by_endpoint
                .query_map([], |row| {
                    Ok(json!({
                        "endpoint": row.get::<_, String>(0)?,
                        "token": row.get::<_, String>(1)?,
                        "calls": row.get::<_, i64>(2)?,
                        "amount": row.get::<_, i64>(3)?.to_string(),
                    }))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(json!({
                "now": now,
                "hours": hours,
                "endpoints": endpoints,
                // Atomic units per whole token, to show revenue in tokens; keys and free
                // calls count calls.
                "decimals": {"STX": 6, "sBTC": 8, "USDCx": 6, "USDC": 6, "API_KEY": 0, "FREE": 0},
            }))
        })
        .await
    }
}

/// Outside the paywall: writes down the calls whose answers left as successes.
pub async fn record(State(usage): State<UsageRecord>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status().as_u16() < 400
        && let Some(billed) = response.extensions_mut().remove::<Billed>()
        && let Err(error) = usage.add(billed).await
    {
        // The call was paid and served; losing its line is ours to log, not the client's.
        tracing::error!(error = %error.message, "a paid call was not recorded");
    }
    response
}
