//! `/storage/queue`: named job queues, highest priority first, then oldest first. A pop takes
//! its jobs away in one transaction, so no job is handed out twice.

use axum::Json;
use axum::extract::{Query, State};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    /// The items: any JSON, up to 100, each up to 16 KiB.
    pub items: Vec<Value>,
    /// Their priority (higher first; default 0).
    #[serde(default)]
    pub priority: i64,
}

/// A queue and how many items to take.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Take {
    /// The queue.
    #[schema(min_length = 1, max_length = 128)]
    #[param(min_length = 1, max_length = 128)]
    pub name: String,
    /// How many: 1 to 100 (default 1).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    #[param(minimum = 1, maximum = 100)]
    pub count: Option<u32>,
}

/// A queue.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Named {
    /// The queue.
    #[schema(min_length = 1, max_length = 128)]
    #[param(min_length = 1, max_length = 128)]
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

/// A job, taken or peeked at.
#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    /// Its id, in push order.
    pub id: i64,
    /// The item pushed.
    pub data: Value,
    /// Its priority.
    pub priority: i64,
}

/// Jobs, first first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Jobs {
    /// The jobs.
    pub items: Vec<Job>,
    /// How many.
    pub count: usize,
}

impl From<Vec<Job>> for Jobs {
    fn from(items: Vec<Job>) -> Self {
        Self {
            count: items.len(),
            items,
        }
    }
}

/// The first `count` jobs of `queue` in order.
fn first(db: &PayerDb, queue: &str, count: u32) -> Result<Vec<Job>, ApiError> {
    db.rows(
        "SELECT id, data, priority FROM x402_jobs WHERE queue = ?1
         ORDER BY priority DESC, id LIMIT ?2",
        params![queue, count],
        |row| {
            let data: String = row.get(1)?;
            Ok(Job {
                id: row.get(0)?,
                data: serde_json::from_str::<Value>(&data).unwrap_or(Value::String(data)),
                priority: row.get(2)?,
            })
        },
    )
}

/// What a push did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pushed {
    /// How many items went onto the queue.
    pub pushed: usize,
    /// The queue.
    pub queue: String,
}

/// Adds items to a queue.
#[utoipa::path(post, path = "/storage/queue/push", tag = "storage", summary = "Pushes items onto a queue",
    request_body = Push,
    responses((status = 200, body = Pushed),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
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
    Ok(reply(
        &caller,
        Pushed {
            pushed,
            queue: name,
        },
    ))
}

/// Takes the first items off a queue.
#[utoipa::path(post, path = "/storage/queue/pop", tag = "storage", summary = "Pops items off a queue",
    request_body = Take,
    responses((status = 200, body = Jobs),
              (status = 400, body = ErrorBody)))]
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
                for job in &jobs {
                    db.connection()
                        .execute("DELETE FROM x402_jobs WHERE id = ?1", [job.id])
                        .map_err(storage_error)?;
                }
                Ok(jobs)
            });
            let end = if taken.is_ok() { "COMMIT" } else { "ROLLBACK" };
            db.connection().execute_batch(end).map_err(storage_error)?;
            taken
        })
        .await?;
    Ok(reply(&caller, Jobs::from(items)))
}

/// The first items of a queue, left in it.
#[utoipa::path(get, path = "/storage/queue/peek", tag = "storage", summary = "Peeks at a queue",
    params(Take),
    responses((status = 200, body = Jobs),
              (status = 400, body = ErrorBody)))]
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
    Ok(reply(&caller, Jobs::from(items)))
}

/// A queue's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueStatus {
    /// The queue.
    pub queue: String,
    /// Items waiting.
    pub pending: i64,
    /// Always 0: a popped item has left the queue.
    pub processing: i64,
    /// Always 0.
    pub completed: i64,
    /// Always 0.
    pub failed: i64,
}

/// How many items wait in a queue. Popped items leave the queue, so nothing is ever
/// processing, completed or failed here: those counts are 0, in the reference's shape.
#[utoipa::path(get, path = "/storage/queue/status", tag = "storage", summary = "A queue's counts",
    params(Named),
    responses((status = 200, body = QueueStatus),
              (status = 400, body = ErrorBody)))]
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
        QueueStatus {
            queue: request.name,
            pending,
            processing: 0,
            completed: 0,
            failed: 0,
        },
    ))
}

/// What a clear did.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCleared {
    /// How many items were dropped.
    pub cleared: usize,
    /// The queue.
    pub queue: String,
}

/// Empties a queue.
#[utoipa::path(post, path = "/storage/queue/clear", tag = "storage", summary = "Empties a queue",
    request_body = Named,
    responses((status = 200, body = QueueCleared),
              (status = 400, body = ErrorBody)))]
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
        QueueCleared {
            cleared,
            queue: request.name,
        },
    ))
}
