//! `/storage/memory`: a payer's vector memory. Each text is embedded on this machine with
//! all-MiniLM-L6-v2 and kept beside its unit vector; a search ranks every memory of the payer by
//! cosine similarity to the query's vector (brute force: a payer keeps at most 10 000).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use coinslot_example_inference::{Embedder, cosine};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, Body, ErrorBody};
use crate::routes::{parse_metadata, reply, storage_limits::*};
use crate::store::{PayerDb, storage_error};
use crate::time::{iso, now_ms};

/// A text to remember.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemoryItem {
    /// Its id: 1 to 256 bytes; storing an id again replaces it.
    #[schema(min_length = 1, max_length = 256)]
    pub id: String,
    /// The text: up to 8 KiB (the model reads its first 256 tokens).
    #[schema(min_length = 1, max_length = 8192)]
    pub text: String,
    /// Any JSON, up to 4 KiB encoded.
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// Texts to remember.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Store {
    /// 1 to 100 items.
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<MemoryItem>,
}

/// What a store did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stored {
    /// How many items were kept.
    pub stored: usize,
    /// Their ids, in order.
    pub ids: Vec<String>,
    /// The length of each vector.
    pub dimensions: usize,
}

/// Stores texts with their embeddings.
#[utoipa::path(post, path = "/storage/memory/store", tag = "storage", summary = "Remembers texts, embedded for semantic search",
    request_body = Store,
    responses((status = 200, body = Stored),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn store(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<Store>,
) -> Result<Json<Value>, ApiError> {
    let items = request.items;
    if items.is_empty() || items.len() > MAX_MEMORY_BATCH {
        return Err(ApiError::bad_request(format!(
            "items: 1 to {MAX_MEMORY_BATCH} per call, got {}",
            items.len()
        )));
    }
    let mut rows = Vec::with_capacity(items.len());
    for item in &items {
        check_identifier("id", &item.id)?;
        if item.text.trim().is_empty() {
            return Err(ApiError::bad_request("text: a memory needs some text"));
        }
        check_len("text", &item.text, MAX_MEMORY_TEXT_BYTES)?;
        let metadata = item.metadata.as_ref().map(Value::to_string);
        if let Some(metadata) = &metadata {
            check_len("metadata", metadata, MAX_METADATA_BYTES)?;
        }
        rows.push((item.id.clone(), item.text.clone(), metadata));
    }
    let texts: Vec<String> = items.into_iter().map(|item| item.text).collect();
    let vectors = embed(&state.embedder, texts).await?;

    let ids: Vec<String> = rows.iter().map(|(id, ..)| id.clone()).collect();
    let stored = state
        .stores
        .for_caller(&caller, move |db| {
            let transaction = db
                .connection()
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(storage_error)?;
            let now = now_ms();
            for ((id, text, metadata), vector) in rows.iter().zip(&vectors) {
                transaction
                    .execute(
                        "INSERT INTO x402_memories (id, text, metadata, embedding, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                         ON CONFLICT (id) DO UPDATE SET text = excluded.text,
                           metadata = excluded.metadata, embedding = excluded.embedding,
                           updated_at = excluded.updated_at",
                        params![id, text, metadata, to_blob(vector), now],
                    )
                    .map_err(storage_error)?;
            }
            let count: i64 = transaction
                .query_row("SELECT count(*) FROM x402_memories", [], |row| row.get(0))
                .map_err(storage_error)?;
            if u64::try_from(count).unwrap_or(0) > MAX_MEMORIES {
                // Dropping the transaction rolls the whole call back.
                return Err(ApiError::too_large(format!(
                    "a payer keeps at most {MAX_MEMORIES} memories: delete some first"
                )));
            }
            transaction.commit().map_err(storage_error)?;
            Ok(rows.len())
        })
        .await?;
    Ok(reply(
        &caller,
        Stored {
            stored,
            ids,
            dimensions: coinslot_example_inference::EMBEDDING_DIMENSIONS,
        },
    ))
}

/// A question to the memory.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Search {
    /// The text to compare with (up to 8 KiB).
    #[schema(min_length = 1, max_length = 8192)]
    pub query: String,
    /// At most this many results: 1 to 100 (default 10).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The least cosine similarity a result has: -1 to 1 (default 0.5).
    #[serde(default)]
    #[schema(minimum = -1, maximum = 1)]
    pub threshold: Option<f32>,
}

/// A memory close to the query.
#[derive(Debug, Serialize, ToSchema)]
pub struct Found {
    /// Its id.
    pub id: String,
    /// Its text.
    pub text: String,
    /// Its metadata, if it has some.
    pub metadata: Option<Value>,
    /// The cosine similarity of its text to the query: 1 is the same meaning.
    pub similarity: f32,
}

/// The memories closest to a query.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// Closest first.
    pub results: Vec<Found>,
    /// How many there are.
    pub count: usize,
}

/// The payer's memories closest in meaning to a query.
#[utoipa::path(post, path = "/storage/memory/search", tag = "storage", summary = "Searches memories by meaning",
    request_body = Search,
    responses((status = 200, body = SearchResults),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<Search>,
) -> Result<Json<Value>, ApiError> {
    let limit = match request.limit.unwrap_or(DEFAULT_SEARCH_RESULTS) {
        n @ 1..=MAX_SEARCH_RESULTS => n as usize,
        n => {
            return Err(ApiError::bad_request(format!(
                "limit {n}: between 1 and {MAX_SEARCH_RESULTS}"
            )));
        }
    };
    let threshold = request.threshold.unwrap_or(0.5);
    if !(-1.0..=1.0).contains(&threshold) {
        return Err(ApiError::bad_request(format!(
            "threshold {threshold}: between -1 and 1"
        )));
    }
    if request.query.trim().is_empty() {
        return Err(ApiError::bad_request("query: search for some text"));
    }
    check_len("query", &request.query, MAX_MEMORY_TEXT_BYTES)?;
    let query = embed(&state.embedder, vec![request.query])
        .await?
        .pop()
        .unwrap_or_default();

    let results = state
        .stores
        .for_caller(&caller, move |db| {
            let mut scored: Vec<(f32, i64)> = db
                .rows("SELECT rowid, embedding FROM x402_memories", [], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
                })?
                .into_iter()
                .map(|(rowid, blob)| (cosine(&query, &from_blob(&blob)), rowid))
                .filter(|(similarity, _)| *similarity >= threshold)
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            scored.truncate(limit);
            scored
                .into_iter()
                .map(|(similarity, rowid)| found(db, rowid, similarity))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(reply(
        &caller,
        SearchResults {
            count: results.len(),
            results,
        },
    ))
}

fn found(db: &PayerDb, rowid: i64, similarity: f32) -> Result<Found, ApiError> {
    db.row(
        "SELECT id, text, metadata FROM x402_memories WHERE rowid = ?1",
        [rowid],
        |row| {
            Ok(Found {
                id: row.get(0)?,
                text: row.get(1)?,
                metadata: parse_metadata(row.get(2)?),
                similarity,
            })
        },
    )?
    .ok_or_else(|| ApiError::internal("a memory vanished during a search", rowid))
}

/// Memories to forget.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Forget {
    /// Their ids: 1 to 100.
    #[schema(min_items = 1, max_items = 100)]
    pub ids: Vec<String>,
}

/// How many memories went.
#[derive(Debug, Serialize, ToSchema)]
pub struct Forgotten {
    /// How many were there and are now gone.
    pub deleted: usize,
}

/// Deletes memories by id.
#[utoipa::path(post, path = "/storage/memory/delete", tag = "storage", summary = "Deletes memories",
    request_body = Forget,
    responses((status = 200, body = Forgotten),
              (status = 400, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<Forget>,
) -> Result<Json<Value>, ApiError> {
    if request.ids.is_empty() || request.ids.len() > MAX_MEMORY_BATCH {
        return Err(ApiError::bad_request(format!(
            "ids: 1 to {MAX_MEMORY_BATCH} per call, got {}",
            request.ids.len()
        )));
    }
    let deleted = state
        .stores
        .for_caller(&caller, move |db| {
            let mut deleted = 0;
            for id in &request.ids {
                deleted += usize::from(db.delete("x402_memories", "id", id)?);
            }
            Ok(deleted)
        })
        .await?;
    Ok(reply(&caller, Forgotten { deleted }))
}

/// A page of memories.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// After skipping this many (default 0).
    pub offset: Option<u32>,
}

/// A memory as listed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// Its id.
    pub id: String,
    /// Its text.
    pub text: String,
    /// Its metadata, if it has some.
    pub metadata: Option<Value>,
    /// When it was first stored.
    pub created_at: String,
    /// When it was last stored.
    pub updated_at: String,
}

/// A page of the payer's memories.
#[derive(Debug, Serialize, ToSchema)]
pub struct Memories {
    /// Oldest first.
    pub items: Vec<Memory>,
    /// How many the payer keeps in all.
    pub total: u64,
}

/// The payer's memories, oldest first.
#[utoipa::path(get, path = "/storage/memory/list", tag = "storage", summary = "Lists memories",
    params(Page),
    responses((status = 200, body = Memories),
              (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(page.limit)?;
    let offset = page.offset.unwrap_or(0);
    let memories = state
        .stores
        .for_caller(&caller, move |db| {
            let items = db.rows(
                "SELECT id, text, metadata, created_at, updated_at FROM x402_memories
                 ORDER BY created_at, id LIMIT ?1 OFFSET ?2",
                params![limit, offset],
                |row| {
                    Ok(Memory {
                        id: row.get(0)?,
                        text: row.get(1)?,
                        metadata: parse_metadata(row.get(2)?),
                        created_at: iso(row.get(3)?),
                        updated_at: iso(row.get(4)?),
                    })
                },
            )?;
            Ok(Memories {
                items,
                total: db.count("x402_memories")?,
            })
        })
        .await?;
    Ok(reply(&caller, memories))
}

/// How many memories a clear took.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cleared {
    /// How many were there.
    pub cleared: usize,
}

/// Forgets every memory of the payer.
#[utoipa::path(post, path = "/storage/memory/clear", tag = "storage", summary = "Deletes every memory",
    responses((status = 200, body = Cleared)))]
pub async fn clear(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let cleared = state
        .stores
        .for_caller(&caller, |db| {
            db.connection()
                .execute("DELETE FROM x402_memories", [])
                .map_err(storage_error)
        })
        .await?;
    Ok(reply(&caller, Cleared { cleared }))
}

/// The texts' vectors, computed on a blocking thread: the model keeps a core busy for
/// milliseconds per text.
async fn embed(embedder: &Arc<Embedder>, texts: Vec<String>) -> Result<Vec<Vec<f32>>, ApiError> {
    let embedder = Arc::clone(embedder);
    tokio::task::spawn_blocking(move || embedder.embed(&texts))
        .await
        .map_err(|e| ApiError::internal("the embedding task failed", e))?
        .map_err(|e| ApiError::internal("embedding failed", e))
}

/// A vector as stored: its floats, little-endian.
fn to_blob(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_blob(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4)
        .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_survives_its_blob() {
        let vector = vec![0.5, -1.25, f32::MIN_POSITIVE, 3.0e-7];
        assert_eq!(from_blob(&to_blob(&vector)), vector);
    }
}
