//! `/storage/paste`: a payer's text snippets under short random ids.

use axum::Json;
use axum::extract::{Path, State};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, Body, ErrorBody};
use crate::routes::{random_id, reply, storage_limits::*};
use crate::store::storage_error;
use crate::time::{iso, now_ms};

/// The length of a paste id.
const ID_LEN: usize = 8;

/// A paste to keep.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasteCreate {
    /// The text, up to 256 KiB.
    pub content: String,
    /// A title, up to 200 bytes.
    #[serde(default)]
    pub title: Option<String>,
    /// The language, for highlighting (up to 32 bytes).
    #[serde(default)]
    pub language: Option<String>,
    /// Seconds until it expires (1 s to 30 days); none keeps it.
    #[serde(default)]
    pub ttl: Option<u64>,
}

/// A paste kept.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasteCreated {
    /// Its id: 8 letters and digits.
    pub id: String,
    /// When it was kept.
    pub created_at: String,
    /// When it expires, if it does.
    pub expires_at: Option<String>,
}

/// Keeps a paste.
#[utoipa::path(post, path = "/storage/paste", tag = "storage", summary = "Creates a paste",
    request_body = PasteCreate,
    responses((status = 200, body = PasteCreated),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<PasteCreate>,
) -> Result<Json<Value>, ApiError> {
    check_len("content", &request.content, MAX_PASTE_BYTES)?;
    check_len(
        "title",
        request.title.as_deref().unwrap_or(""),
        MAX_TITLE_BYTES,
    )?;
    check_len(
        "language",
        request.language.as_deref().unwrap_or(""),
        MAX_LANGUAGE_BYTES,
    )?;
    let expires_at = expiry(request.ttl)?;
    let (id, created_at) = state
        .stores
        .for_caller(&caller, move |db| {
            if db.count("x402_pastes")? >= MAX_PASTES {
                return Err(ApiError::too_large(format!(
                    "a payer keeps at most {MAX_PASTES} pastes: delete some first"
                )));
            }
            let now = now_ms();
            // 62^8 ids: a clash is rare, and a clash is tried again rather than overwritten.
            for _ in 0..8 {
                let id = random_id(ID_LEN);
                let inserted = db
                    .connection()
                    .execute(
                        "INSERT OR IGNORE INTO x402_pastes (id, content, title, language, created_at, expires_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![id, request.content, request.title, request.language, now, expires_at],
                    )
                    .map_err(storage_error)?;
                if inserted == 1 {
                    return Ok((id, now));
                }
            }
            Err(ApiError::internal("no free paste id", "eight clashes"))
        })
        .await?;
    Ok(reply(
        &caller,
        PasteCreated {
            id,
            created_at: iso(created_at),
            expires_at: expires_at.map(iso),
        },
    ))
}

/// A paste, read.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paste {
    /// Its id.
    pub id: String,
    /// The text.
    pub content: String,
    /// Its title, if it has one.
    pub title: Option<String>,
    /// Its language, if named.
    pub language: Option<String>,
    /// When it was kept.
    pub created_at: String,
    /// When it expires, if it does.
    pub expires_at: Option<String>,
}

/// A paste.
#[utoipa::path(get, path = "/storage/paste/{id}", tag = "storage", summary = "Reads a paste",
    params(("id" = String, Path, description = "The paste's id")),
    responses((status = 200, body = Paste),
              (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lookup = id.clone();
    let found = state
        .stores
        .for_caller(&caller, move |db| {
            db.row(
                "SELECT content, title, language, created_at, expires_at FROM x402_pastes WHERE id = ?1",
                [&lookup],
                |row| {
                    Ok(Paste {
                        id: lookup.clone(),
                        content: row.get(0)?,
                        title: row.get(1)?,
                        language: row.get(2)?,
                        created_at: iso(row.get(3)?),
                        expires_at: row.get::<_, Option<i64>>(4)?.map(iso),
                    })
                },
            )
        })
        .await?;
    let found = found.ok_or_else(|| ApiError::not_found(format!("no paste {id:?}")))?;
    Ok(reply(&caller, found))
}

/// What a delete did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasteDeleted {
    /// Whether there was such a paste.
    pub deleted: bool,
    /// Its id.
    pub id: String,
}

/// Deletes a paste.
#[utoipa::path(delete, path = "/storage/paste/{id}", tag = "storage", summary = "Deletes a paste",
    params(("id" = String, Path, description = "The paste's id")),
    responses((status = 200, body = PasteDeleted)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let target = id.clone();
    let deleted = state
        .stores
        .for_caller(&caller, move |db| db.delete("x402_pastes", "id", &target))
        .await?;
    Ok(reply(&caller, PasteDeleted { deleted, id }))
}
