//! `/storage/queue`: named job queues, highest priority first, then oldest first. A pop takes
//! its jobs away in one transaction, so no job is handed out twice.

use axum::Json;
use axum::extract::{Query, State};
use rusqlite::params;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, Body, ErrorBody};
use crate::routes::{reply, storage_limits::check_len};
use crate::store::{PayerDb, storage_error};
use crate::time::now_ms;

/// Items one push may add.
pub const MAX_PUSH: usize = 100;
/// Items one pop or peek may take.
pub const MAX_POP: u32 = 100;
/// Jobs a payer may keep waiting, across its queues.
pub const MAX_JOBS: u64 = 10_000;
/// The largest item, as encoded JSON.
pub const MAX_ITEM_BYTES: usize = 16 * 1024;
/// The longest queue name.
pub const MAX_NAME_BYTES: usize = 128;

/// Items to add to a queue.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Push {
    /// The queue.
    pub name: String,
    /// The items: any JSON, up to 100, each up to 16 KiB.
    pub items: Vec<Value>,
    /// Their priority (higher first; default 0).
    #[serde(default)]
    pub priority: i64,
}

/// A queue and how many items to take.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
pub struct Take {
    /// The queue.
    pub name: String,
    /// How many: 1 to 100 (default 1).
    #[serde(default)]
    pub count: Option<u32>,
}

/// A queue.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
pub struct Named {
    /// The queue.
    pub name: String,
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request("name: a queue needs a name"));
    }
    check_len("name", name, MAX_NAME_BYTES)
}

fn check_count(count: Option<u32>) -> Result<u32, ApiError> {
    match count.unwrap_or(1) {
        n @ 1..=MAX_POP => Ok(n),
        n => Err(ApiError::bad_request(format!(
            "count {n}: between 1 and {MAX_POP}"
        ))),
    }
}

/// The first `count` jobs of `queue` in order, as `{id, data, priority}`.
fn first(db: &PayerDb, queue: &str, count: u32) -> Result<Vec<(i64, Value)>, ApiError> {
    db.rows(
        "SELECT id, data, priority FROM x402_jobs WHERE queue = ?1
         ORDER BY priority DESC, id LIMIT ?2",
        params![queue, count],
        |row| {
            let id: i64 = row.get(0)?;
            let data: String = row.get(1)?;
            let data = serde_json::from_str::<Value>(&data).unwrap_or(Value::String(data));
            let priority: i64 = row.get(2)?;
            Ok((id, json!({"id": id, "data": data, "priority": priority})))
        },
    )
}

/// Adds items to a queue.
#[utoipa::path(post, path = "/storage/queue/push", tag = "storage", summary = "Pushes items onto a queue",
    request_body = Push,
    responses((status = 200, description = "{ok, pushed, queue}"),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 402, description = "Payment required")))]
pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<Push>,
) -> Result<Json<Value>, ApiError> {
    check_name(&request.name)?;
    if request.items.is_empty() || request.items.len() > MAX_PUSH {
        return Err(ApiError::bad_request(format!(
            "items: 1 to {MAX_PUSH} per push"
        )));
    }
    let items = request
        .items
        .iter()
        .map(|item| {
            let text = item.to_string();
            check_len("an item", &text, MAX_ITEM_BYTES).map(|()| text)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (name, priority, pushed) = (request.name, request.priority, items.len());
    let queue = name.clone();
    state
        .stores
        .for_caller(&caller, move |db| {
            if db.count("x402_jobs")? + items.len() as u64 > MAX_JOBS {
                return Err(ApiError::too_large(format!(
                    "a payer keeps at most {MAX_JOBS} jobs waiting: pop or clear some first"
                )));
            }
            let tx = db.connection().transaction().map_err(storage_error)?;
            let now = now_ms();
            for item in items {
                tx.execute(
                    "INSERT INTO x402_jobs (queue, data, priority, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![queue, item, priority, now],
                )
                .map_err(storage_error)?;
            }
            tx.commit().map_err(storage_error)
        })
        .await?;
    Ok(reply(&caller, json!({"pushed": pushed, "queue": name})))
}

/// Takes the first items off a queue.
#[utoipa::path(post, path = "/storage/queue/pop", tag = "storage", summary = "Pops items off a queue",
    request_body = Take,
    responses((status = 200, description = "{ok, items[{id, data, priority}], count}"),
              (status = 400, body = ErrorBody), (status = 402, description = "Payment required")))]
pub async fn pop(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<Take>,
) -> Result<Json<Value>, ApiError> {
    let count = check_name(&request.name).and_then(|()| check_count(request.count))?;
    let items = state
        .stores
        .for_caller(&caller, move |db| {
            db.connection()
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(storage_error)?;
            let taken = first(db, &request.name, count).and_then(|jobs| {
                for (id, _) in &jobs {
                    db.connection()
                        .execute("DELETE FROM x402_jobs WHERE id = ?1", [id])
                        .map_err(storage_error)?;
                }
                Ok(jobs)
            });
            let end = if taken.is_ok() { "COMMIT" } else { "ROLLBACK" };
            db.connection().execute_batch(end).map_err(storage_error)?;
            taken
        })
        .await?;
    let items: Vec<Value> = items.into_iter().map(|(_, item)| item).collect();
    Ok(reply(
        &caller,
        json!({"count": items.len(), "items": items}),
    ))
}

/// The first items of a queue, left in it.
#[utoipa::path(get, path = "/storage/queue/peek", tag = "storage", summary = "Peeks at a queue",
    params(Take),
    responses((status = 200, description = "{ok, items[{id, data, priority}], count}"),
              (status = 400, body = ErrorBody), (status = 402, description = "Payment required")))]
pub async fn peek(
    State(state): State<AppState>,
    caller: Caller,
    Query(request): Query<Take>,
) -> Result<Json<Value>, ApiError> {
    let count = check_name(&request.name).and_then(|()| check_count(request.count))?;
    let items = state
        .stores
        .for_caller(&caller, move |db| first(db, &request.name, count))
        .await?;
    let items: Vec<Value> = items.into_iter().map(|(_, item)| item).collect();
    Ok(reply(
        &caller,
        json!({"count": items.len(), "items": items}),
    ))
}

/// How many items wait in a queue. Popped items leave the queue, so nothing is ever
/// processing, completed or failed here: those counts are 0, in the reference's shape.
#[utoipa::path(get, path = "/storage/queue/status", tag = "storage", summary = "A queue's counts",
    params(Named),
    responses((status = 200, description = "{ok, queue, pending, processing, completed, failed}"),
              (status = 400, body = ErrorBody), (status = 402, description = "Payment required")))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Query(request): Query<Named>,
) -> Result<Json<Value>, ApiError> {
    check_name(&request.name)?;
    let queue = request.name.clone();
    let pending: i64 = state
        .stores
        .for_caller(&caller, move |db| {
            db.connection()
                .query_row(
                    "SELECT count(*) FROM x402_jobs WHERE queue = ?1",
                    [queue],
                    |row| row.get(0),
                )
                .map_err(storage_error)
        })
        .await?;
    Ok(reply(
        &caller,
        json!({"queue": request.name, "pending": pending, "processing": 0, "completed": 0, "failed": 0}),
    ))
}

/// Empties a queue.
#[utoipa::path(post, path = "/storage/queue/clear", tag = "storage", summary = "Empties a queue",
    request_body = Named,
    responses((status = 200, description = "{ok, cleared, queue}"),
              (status = 400, body = ErrorBody), (status = 402, description = "Payment required")))]
pub async fn clear(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<Named>,
) -> Result<Json<Value>, ApiError> {
    check_name(&request.name)?;
    let queue = request.name.clone();
    let cleared = state
        .stores
        .for_caller(&caller, move |db| {
            db.connection()
                .execute("DELETE FROM x402_jobs WHERE queue = ?1", [queue])
                .map_err(storage_error)
        })
        .await?;
    Ok(reply(
        &caller,
        json!({"cleared": cleared, "queue": request.name}),
    ))
}
