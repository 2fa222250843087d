//! `/storage/sync`: named locks with expiry, one holder at a time. Each change runs in one
//! `BEGIN IMMEDIATE` transaction of the payer's database, so two calls at once, from any
//! number of processes, cannot both hold a lock.

use axum::Json;
use axum::extract::{Path, State};
use rusqlite::{OptionalExtension as _, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, Body, ErrorBody};
use crate::routes::{random_id, reply, storage_limits::check_len};
use crate::store::{PayerDb, storage_error};
use crate::time::{iso, now_ms};

/// The shortest hold, in seconds.
pub const MIN_LOCK_SECS: u64 = 10;
/// The longest hold, in seconds.
pub const MAX_LOCK_SECS: u64 = 300;
/// A hold when not told.
pub const DEFAULT_LOCK_SECS: u64 = 60;
/// Locks a payer may hold at once.
pub const MAX_LOCKS: u64 = 1_000;
/// The longest lock name.
pub const MAX_NAME_BYTES: usize = 256;
/// The length of a holder's token.
const TOKEN_LEN: usize = 32;

/// A lock to take.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LockRequest {
    /// The lock's name.
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
    /// How long to hold it: 10 to 300 seconds (default 60).
    #[serde(default)]
    #[schema(minimum = 10, maximum = 300)]
    pub ttl: Option<u64>,
}

/// A held lock to release or extend.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HeldLock {
    /// The lock's name.
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
    /// The token its holder got.
    pub token: String,
    /// For an extension: the new hold from now, 10 to 300 seconds (default 60).
    #[serde(default)]
    #[schema(minimum = 10, maximum = 300)]
    pub ttl: Option<u64>,
}

fn hold_ms(ttl: Option<u64>) -> Result<i64, ApiError> {
    match ttl.unwrap_or(DEFAULT_LOCK_SECS) {
        secs @ MIN_LOCK_SECS..=MAX_LOCK_SECS => Ok(i64::try_from(secs * 1000).unwrap_or(i64::MAX)),
        secs => Err(ApiError::bad_request(format!(
            "ttl {secs}: a lock is held {MIN_LOCK_SECS} to {MAX_LOCK_SECS} seconds"
        ))),
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request("name: a lock needs a name"));
    }
    check_len("name", name, MAX_NAME_BYTES)
}

/// Runs `work` in one immediate transaction: no other writer in between.
fn atomically<T>(
    db: &mut PayerDb,
    work: impl FnOnce(&rusqlite::Transaction<'_>, i64) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let tx = db
        .connection()
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage_error)?;
    let now = now_ms();
    tx.execute("DELETE FROM x402_locks WHERE expires_at <= ?1", [now])
        .map_err(storage_error)?;
    let answer = work(&tx, now)?;
    tx.commit().map_err(storage_error)?;
    Ok(answer)
}

/// Whether a lock was taken.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LockTaken {
    /// Whether the caller holds it now.
    pub acquired: bool,
    /// The token that releases or extends it; null when another holds it.
    pub token: Option<String>,
    /// When it expires, when taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Until when the other holder has it, when not taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_until: Option<String>,
}

/// Takes a lock if nobody holds it.
#[utoipa::path(post, path = "/storage/sync/lock", tag = "storage", summary = "Takes a lock",
    request_body = LockRequest,
    responses((status = 200, body = LockTaken),
              (status = 400, body = ErrorBody)))]
pub async fn lock(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<LockRequest>,
) -> Result<Json<Value>, ApiError> {
    let hold = check_name(&request.name).and_then(|()| hold_ms(request.ttl))?;
    let answer = state
        .stores
        .for_caller(&caller, move |db| {
            atomically(db, |tx, now| {
                let held: Option<i64> = tx
                    .query_row(
                        "SELECT expires_at FROM x402_locks WHERE name = ?1",
                        [&request.name],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(storage_error)?;
                if let Some(until) = held {
                    return Ok(LockTaken {
                        acquired: false,
                        token: None,
                        expires_at: None,
                        held_until: Some(iso(until)),
                    });
                }
                let count: i64 = tx
                    .query_row("SELECT count(*) FROM x402_locks", [], |row| row.get(0))
                    .map_err(storage_error)?;
                if u64::try_from(count).unwrap_or(0) >= MAX_LOCKS {
                    return Err(ApiError::too_large(format!(
                        "a payer holds at most {MAX_LOCKS} locks at once"
                    )));
                }
                let token = random_id(TOKEN_LEN);
                tx.execute(
                    "INSERT INTO x402_locks (name, token, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                    params![request.name, token, now, now + hold],
                )
                .map_err(storage_error)?;
                Ok(LockTaken {
                    acquired: true,
                    token: Some(token),
                    expires_at: Some(iso(now + hold)),
                    held_until: None,
                })
            })
        })
        .await?;
    Ok(reply(&caller, answer))
}

/// Whether a lock was released.
#[derive(Debug, Serialize, ToSchema)]
pub struct Released {
    /// Whether the caller held it, and now nobody does.
    pub released: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a token does not release or extend a lock.
const NOT_HELD: &str = "not held with this token (expired, or another holder's)";

/// Releases a lock its holder names by token.
#[utoipa::path(post, path = "/storage/sync/unlock", tag = "storage", summary = "Releases a lock",
    request_body = HeldLock,
    responses((status = 200, body = Released),
              (status = 400, body = ErrorBody)))]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<HeldLock>,
) -> Result<Json<Value>, ApiError> {
    check_name(&request.name)?;
    let answer = state
        .stores
        .for_caller(&caller, move |db| {
            atomically(db, |tx, _| {
                let released = tx
                    .execute(
                        "DELETE FROM x402_locks WHERE name = ?1 AND token = ?2",
                        params![request.name, request.token],
                    )
                    .map_err(storage_error)?;
                Ok(Released {
                    released: released > 0,
                    error: (released == 0).then(|| NOT_HELD.to_owned()),
                })
            })
        })
        .await?;
    Ok(reply(&caller, answer))
}

/// Whether a lock was extended.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Extended {
    /// Whether the caller holds it longer now.
    pub extended: bool,
    /// When it expires now, when extended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Holds a lock longer, from now.
#[utoipa::path(post, path = "/storage/sync/extend", tag = "storage", summary = "Extends a held lock",
    request_body = HeldLock,
    responses((status = 200, body = Extended),
              (status = 400, body = ErrorBody)))]
pub async fn extend(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<HeldLock>,
) -> Result<Json<Value>, ApiError> {
    let hold = check_name(&request.name).and_then(|()| hold_ms(request.ttl))?;
    let answer = state
        .stores
        .for_caller(&caller, move |db| {
            atomically(db, |tx, now| {
                let extended = tx
                    .execute(
                        "UPDATE x402_locks SET expires_at = ?3 WHERE name = ?1 AND token = ?2",
                        params![request.name, request.token, now + hold],
                    )
                    .map_err(storage_error)?;
                let extended = extended > 0;
                Ok(Extended {
                    extended,
                    expires_at: extended.then(|| iso(now + hold)),
                    error: (!extended).then(|| NOT_HELD.to_owned()),
                })
            })
        })
        .await?;
    Ok(reply(&caller, answer))
}

/// A lock's state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LockState {
    /// Whether someone holds it.
    pub locked: bool,
    /// Since when, if held.
    pub acquired_at: Option<String>,
    /// Until when, if held.
    pub expires_at: Option<String>,
}

/// Whether a lock is held, and until when.
#[utoipa::path(get, path = "/storage/sync/status/{name}", tag = "storage", summary = "A lock's state",
    params(("name" = String, Path, description = "The lock's name")),
    responses((status = 200, body = LockState)))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let held = state
        .stores
        .for_caller(&caller, move |db| {
            // Expired locks were swept when the database opened.
            db.row(
                "SELECT acquired_at, expires_at FROM x402_locks WHERE name = ?1",
                [name],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
            )
        })
        .await?;
    Ok(reply(
        &caller,
        LockState {
            locked: held.is_some(),
            acquired_at: held.map(|(acquired, _)| iso(acquired)),
            expires_at: held.map(|(_, expires)| iso(expires)),
        },
    ))
}

/// A lock held now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeldNow {
    /// Its name.
    pub name: String,
    /// Since when.
    pub acquired_at: String,
    /// Until when.
    pub expires_at: String,
}

/// The locks held now.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldLocks {
    /// By name.
    pub locks: Vec<HeldNow>,
    /// How many.
    pub count: usize,
}

/// The locks held now.
#[utoipa::path(get, path = "/storage/sync/list", tag = "storage", summary = "Lists held locks",
    responses((status = 200, body = HeldLocks)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let locks = state
        .stores
        .for_caller(&caller, move |db| {
            db.rows(
                "SELECT name, acquired_at, expires_at FROM x402_locks ORDER BY name",
                [],
                |row| {
                    Ok(HeldNow {
                        name: row.get(0)?,
                        acquired_at: iso(row.get(1)?),
                        expires_at: iso(row.get(2)?),
                    })
                },
            )
        })
        .await?;
    Ok(reply(
        &caller,
        HeldLocks {
            count: locks.len(),
            locks,
        },
    ))
}
