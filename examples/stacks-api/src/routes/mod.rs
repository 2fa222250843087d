//! The service's routes: the free ones here, the paid ones by subject.

pub mod hashing;
pub mod kv;
pub mod locks;
pub mod memory;
pub mod paste;
pub mod queue;
pub mod sql;
pub mod stacks;
pub mod storage_limits;

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::usage::UsageLine;

/// `len` random letters and digits (62 to choose from each).
pub fn random_id(len: usize) -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A success: `body` with `ok: true` and the call's `tokenType`.
pub fn reply(caller: &Caller, body: impl serde::Serialize) -> Json<Value> {
    // Our answers are maps of plain data, which always serialize.
    let mut body = serde_json::to_value(body).unwrap_or_default();
    if let Some(fields) = body.as_object_mut() {
        fields.insert("ok".to_owned(), Value::Bool(true));
        fields.insert("tokenType".to_owned(), Value::from(caller.token.as_str()));
    }
    Json(body)
}

/// Metadata as stored (encoded JSON) back to JSON.
pub fn parse_metadata(text: Option<String>) -> Option<Value> {
    text.and_then(|m| serde_json::from_str(&m).ok())
}

/// What the service is, and where to read more.
#[utoipa::path(get, path = "/", tag = "free", summary = "The service, its tokens and its links",
    responses((status = 200, description = "{name, version, network, payTo, tokens, paidEndpoints, links}")))]
pub async fn index(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "name": "x402 Stacks API (coinslot)",
        "version": env!("CARGO_PKG_VERSION"),
        "network": state.pricing.network().caip2().as_str(),
        "payTo": state.catalog.pay_to,
        "tokens": state.catalog.tokens,
        "paidEndpoints": state.catalog.paid.len(),
        "links": {
            "openapi": "/openapi.json",
            "manifest": "/x402.json",
            "llms": "/llms.txt",
            "docs": "/docs",
            "dashboard": "/dashboard",
            "health": "/health",
        },
    }))
}

/// Alive.
#[utoipa::path(get, path = "/health", tag = "free", summary = "Liveness",
    responses((status = 200, description = "{status: \"ok\"}")))]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "free", summary = "The OpenAPI 3.1 document",
    responses((status = 200, description = "OpenAPI 3.1")))]
pub async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/json")],
        state.catalog.openapi.clone(),
    )
}

/// Every paid route and its offers, as the x402 v2 manifest.
#[utoipa::path(get, path = "/x402.json", tag = "free", summary = "The x402 v2 manifest of the paid routes",
    responses((status = 200, description = "{x402Version: 2, items[{resource, type, accepts, metadata}]}")))]
pub async fn manifest(State(state): State<AppState>) -> Json<Value> {
    Json(state.catalog.manifest.clone())
}

/// The service for a language model to read.
#[utoipa::path(get, path = "/llms.txt", tag = "free", summary = "The service in plain text for agents",
    responses((status = 200, description = "text/plain")))]
pub async fn llms(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.catalog.llms.clone(),
    )
}

/// A caller's own usage.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Usage {
    /// The account: `stx-…`, `evm-…` or `key-…`.
    pub account: String,
    /// Calls and spending by endpoint and token.
    pub usage: Vec<UsageLine>,
}

/// What the caller has spent here, by endpoint and token.
#[utoipa::path(get, path = "/usage", tag = "account", summary = "Your own calls and spending",
    responses((status = 200, body = Usage),
              (status = 401, body = ErrorBody)))]
pub async fn usage(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let account = caller.account()?.as_str().to_owned();
    let usage = state.usage.of_account(account.clone()).await?;
    Ok(reply(&caller, Usage { account, usage }))
}

/// The endpoints, rendered from the OpenAPI document in the browser.
#[utoipa::path(get, path = "/docs", tag = "free", summary = "The endpoints, as a page",
    responses((status = 200, description = "text/html")))]
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../../assets/docs.html"))
}

/// Calls and revenue by endpoint and token over time, drawn from `/dashboard/data`.
#[utoipa::path(get, path = "/dashboard", tag = "free", summary = "Calls and revenue, as a page with a chart",
    responses((status = 200, description = "text/html")))]
pub async fn dashboard() -> Html<&'static str> {
    Html(include_str!("../../assets/dashboard.html"))
}

/// What the dashboard draws: calls and revenue by hour and token over the last two days, and
/// by endpoint and token over all time.
#[utoipa::path(get, path = "/dashboard/data", tag = "free", summary = "The dashboard's figures",
    responses((status = 200, description = "{now, hours[{hourStart, token, calls, amount}], endpoints[{endpoint, token, calls, amount}], decimals}")))]
pub async fn dashboard_data(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.usage.dashboard(48).await?))
}
