//! `/storage/db`: SQL in the payer's own database, one statement per call, under the
//! rules of [`crate::sandbox`].

use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, Body, ErrorBody};
use crate::routes::reply;
use crate::sandbox;

/// The most rows a query returns.
pub const MAX_ROWS: usize = 1_000;
/// The most a query's rows may weigh, in bytes of their values.
pub const MAX_RESULT_BYTES: usize = 4 * 1024 * 1024;

/// One SQL statement and its parameters.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SqlRequest {
    /// One statement (no `;`-separated second one).
    pub query: String,
    /// Values for `?` placeholders: null, booleans, numbers, text.
    #[serde(default)]
    pub params: Vec<Value>,
}

fn bind(params: &[Value]) -> Result<Vec<SqlValue>, ApiError> {
    params
        .iter()
        .map(|param| match param {
            Value::Null => Ok(SqlValue::Null),
            Value::Bool(b) => Ok(SqlValue::Integer(i64::from(*b))),
            Value::Number(n) => n
                .as_i64()
                .map(SqlValue::Integer)
                .or_else(|| n.as_f64().map(SqlValue::Real))
                .ok_or_else(|| ApiError::bad_request(format!("params: {n} is out of range"))),
            Value::String(s) => Ok(SqlValue::Text(s.clone())),
            _ => Err(ApiError::bad_request(
                "params: null, booleans, numbers or text only",
            )),
        })
        .collect()
}

fn json_of(value: ValueRef<'_>) -> (Value, usize) {
    match value {
        ValueRef::Null => (Value::Null, 4),
        ValueRef::Integer(i) => (Value::from(i), 8),
        ValueRef::Real(f) => (Value::from(f), 8),
        ValueRef::Text(t) => (Value::from(String::from_utf8_lossy(t)), t.len()),
        // Bytes as base64, tagged so that they cannot be taken for text.
        ValueRef::Blob(b) => (
            json!({"base64": base64::engine::general_purpose::STANDARD.encode(b)}),
            b.len() * 4 / 3,
        ),
    }
}

/// A query's answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SqlRows {
    /// The columns' names.
    pub columns: Vec<String>,
    /// The rows, each a list of values in column order (a blob as `{base64}`).
    pub rows: Vec<Vec<Value>>,
    /// How many rows.
    pub row_count: usize,
    /// Whether more rows were left out (past 1000).
    pub truncated: bool,
}

/// A read-only query's rows.
#[utoipa::path(post, path = "/storage/db/query", tag = "storage", summary = "Runs a read-only SQL query",
    request_body = SqlRequest,
    responses((status = 200, body = SqlRows),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, body = ErrorBody)))]
pub async fn query(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<SqlRequest>,
) -> Result<Json<Value>, ApiError> {
    let params = bind(&request.params)?;
    let answer = state
        .stores
        .for_caller(&caller, move |db| {
            let connection = db.connection();
            sandbox::enter(connection)?;
            let refuse = |e: rusqlite::Error| sandbox::refusal(&e);
            let mut statement = connection.prepare(&request.query).map_err(refuse)?;
            if !statement.readonly() {
                return Err(ApiError::bad_request(
                    "a query only reads: send statements that write to /storage/db/execute",
                ));
            }
            let columns: Vec<String> = statement
                .column_names()
                .into_iter()
                .map(str::to_owned)
                .collect();
            let mut rows = statement
                .query(rusqlite::params_from_iter(params))
                .map_err(refuse)?;
            let (mut out, mut bytes, mut truncated) = (Vec::new(), 0usize, false);
            while let Some(row) = rows.next().map_err(refuse)? {
                if out.len() == MAX_ROWS {
                    truncated = true;
                    break;
                }
                let mut values = Vec::with_capacity(columns.len());
                for index in 0..columns.len() {
                    let (value, size) = json_of(row.get_ref(index).map_err(refuse)?);
                    bytes += size;
                    values.push(value);
                }
                if bytes > MAX_RESULT_BYTES {
                    return Err(ApiError::too_large(format!(
                        "the result passes {MAX_RESULT_BYTES} bytes: select fewer rows or columns"
                    )));
                }
                out.push(values);
            }
            Ok(SqlRows {
                columns,
                row_count: out.len(),
                rows: out,
                truncated,
            })
        })
        .await?;
    Ok(reply(&caller, answer))
}

/// A statement's effect.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SqlDone {
    /// `true`: it ran.
    pub success: bool,
    /// The rows it inserted, changed or deleted.
    pub rows_affected: usize,
}

/// A statement that writes: create, insert, update, delete, drop, in the payer's own tables.
#[utoipa::path(post, path = "/storage/db/execute", tag = "storage", summary = "Runs a SQL statement that writes",
    request_body = SqlRequest,
    responses((status = 200, body = SqlDone),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, body = ErrorBody)))]
pub async fn execute(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<SqlRequest>,
) -> Result<Json<Value>, ApiError> {
    let params = bind(&request.params)?;
    let affected = state
        .stores
        .for_caller(&caller, move |db| {
            let connection = db.connection();
            sandbox::enter(connection)?;
            let mut statement = connection
                .prepare(&request.query)
                .map_err(|e| sandbox::refusal(&e))?;
            statement
                .execute(rusqlite::params_from_iter(params))
                .map_err(|e| match e {
                    rusqlite::Error::ExecuteReturnedResults => ApiError::bad_request(
                        "this statement returns rows: send it to /storage/db/query",
                    ),
                    other => sandbox::refusal(&other),
                })
        })
        .await?;
    Ok(reply(
        &caller,
        SqlDone {
            success: true,
            rows_affected: affected,
        },
    ))
}

/// A table, view or index of the payer's.
#[derive(Debug, Serialize, ToSchema)]
pub struct SqlObject {
    /// Its name.
    pub name: String,
    /// `table`, `view` or `index`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The statement that made it.
    pub sql: String,
}

/// The payer's schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct SqlSchema {
    /// Its tables, views and indexes, by name.
    pub tables: Vec<SqlObject>,
}

/// The payer's own tables and views, with their definitions.
#[utoipa::path(get, path = "/storage/db/schema", tag = "storage", summary = "Lists your tables",
    responses((status = 200, body = SqlSchema)))]
pub async fn schema(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let tables = state
        .stores
        .for_caller(&caller, move |db| {
            db.rows(
                "SELECT name, type, sql FROM sqlite_schema
                 WHERE type IN ('table', 'view', 'index') AND sql IS NOT NULL
                   AND name NOT LIKE 'x402\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                   AND tbl_name NOT LIKE 'x402\\_%' ESCAPE '\\'
                 ORDER BY name",
                [],
                |row| {
                    Ok(SqlObject {
                        name: row.get(0)?,
                        kind: row.get(1)?,
                        sql: row.get(2)?,
                    })
                },
            )
        })
        .await?;
    Ok(reply(&caller, SqlSchema { tables }))
}
