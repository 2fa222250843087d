//! `/storage/kv`: a payer's key-value store, with metadata and optional expiry.

use axum::Json;
use axum::extract::{Path, Query, State};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, Body, ErrorBody};
use crate::routes::{parse_metadata, reply, storage_limits::*};
use crate::store::storage_error;
use crate::time::{iso, now_ms};

/// A value to keep.
#[derive(Debug, Deserialize, ToSchema)]
pub struct KvSet {
    /// The key: 1 to 256 bytes.
    #[schema(min_length = 1, max_length = 256)]
    pub key: String,
    /// The value: text up to 64 KiB.
    #[schema(max_length = 65536)]
    pub value: String,
    /// Any JSON, up to 4 KiB encoded.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// Seconds until it expires (1 s to 30 days); none keeps it.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2592000)]
    pub ttl: Option<u64>,
}

/// A value kept.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KvSaved {
    /// The key.
    pub key: String,
    /// Whether the key is new (else its value was replaced).
    pub created: bool,
    /// When it expires, if it does.
    pub expires_at: Option<String>,
}

/// Keeps a value under a key, replacing what was there.
#[utoipa::path(post, path = "/storage/kv", tag = "storage", summary = "Sets a key",
    request_body = KvSet,
    responses((status = 200, body = KvSaved),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<KvSet>,
) -> Result<Json<Value>, ApiError> {
    check_key(&request.key)?;
    check_len("value", &request.value, MAX_VALUE_BYTES)?;
    let metadata = request.metadata.as_ref().map(Value::to_string);
    if let Some(metadata) = &metadata {
        check_len("metadata", metadata, MAX_METADATA_BYTES)?;
    }
    let expires_at = expiry(request.ttl)?;
    let key = request.key.clone();
    let created = state
        .stores
        .for_caller(&caller, move |db| {
            let exists = db.exists("x402_kv", "key", &request.key)?;
            if !exists && db.count("x402_kv")? >= MAX_KEYS {
                return Err(ApiError::too_large(format!(
                    "a payer keeps at most {MAX_KEYS} keys: delete some first"
                )));
            }
            let now = now_ms();
            db.connection()
                .execute(
                    "INSERT INTO x402_kv (key, value, metadata, created_at, updated_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?5)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                       metadata = excluded.metadata, updated_at = excluded.updated_at,
                       expires_at = excluded.expires_at",
                    params![request.key, request.value, metadata, now, expires_at],
                )
                .map_err(storage_error)?;
            Ok(!exists)
        })
        .await?;
    Ok(reply(
        &caller,
        KvSaved {
            key,
            created,
            expires_at: expires_at.map(iso),
        },
    ))
}

/// A key's value, read.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KvEntry {
    /// The key.
    pub key: String,
    /// Its value.
    pub value: String,
    /// Its metadata, if it has some.
    pub metadata: Option<Value>,
    /// When it was first set.
    pub created_at: String,
    /// When it was last set.
    pub updated_at: String,
    /// When it expires, if it does.
    pub expires_at: Option<String>,
}

/// A key's value.
#[utoipa::path(get, path = "/storage/kv/{key}", tag = "storage", summary = "Reads a key",
    params(("key" = String, Path, description = "The key")),
    responses((status = 200, body = KvEntry),
              (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lookup = key.clone();
    let found = state
        .stores
        .for_caller(&caller, move |db| {
            db.row(
                "SELECT value, metadata, created_at, updated_at, expires_at FROM x402_kv WHERE key = ?1",
                [&lookup],
                |row| {
                    Ok(KvEntry {
                        key: lookup.clone(),
                        value: row.get(0)?,
                        metadata: parse_metadata(row.get(1)?),
                        created_at: iso(row.get(2)?),
                        updated_at: iso(row.get(3)?),
                        expires_at: row.get::<_, Option<i64>>(4)?.map(iso),
                    })
                },
            )
        })
        .await?;
    let found = found.ok_or_else(|| ApiError::not_found(format!("no key {key:?}")))?;
    Ok(reply(&caller, found))
}

/// What a delete did.
#[derive(Debug, Serialize, ToSchema)]
pub struct KvDeleted {
    /// Whether there was such a key.
    pub deleted: bool,
    /// The key.
    pub key: String,
}

/// Deletes a key.
#[utoipa::path(delete, path = "/storage/kv/{key}", tag = "storage", summary = "Deletes a key",
    params(("key" = String, Path, description = "The key")),
    responses((status = 200, body = KvDeleted)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let target = key.clone();
    let deleted = state
        .stores
        .for_caller(&caller, move |db| db.delete("x402_kv", "key", &target))
        .await?;
    Ok(reply(&caller, KvDeleted { deleted, key }))
}

/// Which keys to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KvList {
    /// Only keys that start with this (taken literally: `%` and `_` are not wildcards).
    pub prefix: Option<String>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A key as listed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KvKey {
    /// The key.
    pub key: String,
    /// Its metadata, if it has some.
    pub metadata: Option<Value>,
    /// When it was last set.
    pub updated_at: String,
}

/// Keys, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct KvKeys {
    /// The keys.
    pub keys: Vec<KvKey>,
    /// How many.
    pub count: usize,
}

/// The payer's keys, in order.
#[utoipa::path(get, path = "/storage/kv", tag = "storage", summary = "Lists keys",
    params(KvList),
    responses((status = 200, body = KvKeys),
              (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<KvList>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(query.limit)?;
    let prefix = query.prefix.unwrap_or_default();
    let keys = state
        .stores
        .for_caller(&caller, move |db| {
            // A range, not LIKE: the prefix is matched byte for byte, wildcards and all.
            db.rows(
                "SELECT key, metadata, updated_at FROM x402_kv
                 WHERE key >= ?1 AND substr(key, 1, length(?1)) = ?1 ORDER BY key LIMIT ?2",
                params![prefix, limit],
                |row| {
                    Ok(KvKey {
                        key: row.get(0)?,
                        metadata: parse_metadata(row.get(1)?),
                        updated_at: iso(row.get(2)?),
                    })
                },
            )
        })
        .await?;
    Ok(reply(
        &caller,
        KvKeys {
            count: keys.len(),
            keys,
        },
    ))
}
