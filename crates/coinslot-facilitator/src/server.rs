//! The facilitator HTTP API ([x402 v2] §7) as an axum [`Router`]: `POST /verify`,
//! `POST /settle`, `GET /supported`, `GET /health`.
//!
//! Bodies and status codes follow the reference facilitators: a refused payment is a 200 with
//! `isValid: false` / `success: false` and its reason; a body that is not a request is a 400
//! with a JSON error; a node or store that fails is a 502 / 503, never a 500 for bad input.
//!
//! [x402 v2]: https://github.com/x402-foundation/x402/blob/main/specs/x402-specification-v2.md

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coinslot_core::v1::SettleResponseV1;
use coinslot_core::{Error, Facilitator, VerifyRequest, limits};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tower_http::trace::TraceLayer;

/// The default limit on a request body: what a server may forward of a payment it decoded
/// within the shared [limits](coinslot_core::limits), and so never less than any payment a
/// coinslot paywall lets through.
pub const DEFAULT_BODY_LIMIT: usize = coinslot_core::limits::MAX_FACILITATOR_BODY_LEN;

/// The facilitator HTTP API, configured; [`into_router`](Self::into_router) makes the router.
///
/// ```
/// use coinslot_facilitator::{FacilitatorApi, LocalFacilitator};
///
/// let facilitator = LocalFacilitator::builder().build();
/// let app: axum::Router = FacilitatorApi::new(facilitator)
///     .with_bearer_token("s3cret")
///     .into_router();
/// ```
pub struct FacilitatorApi {
    facilitator: Arc<dyn Facilitator>,
    bearer_token: Option<String>,
    body_limit: usize,
}

impl std::fmt::Debug for FacilitatorApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacilitatorApi")
            .field("auth", &self.bearer_token.is_some())
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl FacilitatorApi {
    /// The API over `facilitator`, open, with the default body limit.
    pub fn new(facilitator: impl Facilitator + 'static) -> Self {
        Self {
            facilitator: Arc::new(facilitator),
            bearer_token: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Requires `Authorization: Bearer <token>` on every route but `/health`; the token is
    /// compared in constant time.
    #[must_use]
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// The largest request body accepted, in bytes (larger: 413). Below the default, a
    /// server in front may forward payments this facilitator refuses (which it then answers
    /// with a 402, not an outage).
    #[must_use]
    pub const fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The router, with a tracing span per request.
    pub fn into_router(self) -> Router {
        let state = Arc::clone(&self.facilitator);
        let mut paid = Router::new()
            .route("/verify", post(verify))
            .route("/settle", post(settle))
            .route("/supported", get(supported))
            .with_state(state);
        if let Some(token) = self.bearer_token {
            let expected: Arc<[u8; 32]> = Arc::new(Sha256::digest(token.as_bytes()).into());
            paid = paid.layer(middleware::from_fn_with_state(expected, authorize));
        }
        Router::new()
            .route("/health", get(health))
            .merge(paid)
            .fallback(not_found)
            .layer(DefaultBodyLimit::max(self.body_limit))
            .layer(TraceLayer::new_for_http())
    }
}

type Shared = Arc<dyn Facilitator>;

fn error_body(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// The status for a facilitator that could not answer: its input, or something behind it.
fn failure(error: &Error) -> Response {
    let status = match error {
        Error::Chain { .. } | Error::Transport { .. } | Error::FacilitatorResponse { .. } => {
            StatusCode::BAD_GATEWAY
        }
        Error::Store { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    if status != StatusCode::BAD_REQUEST {
        tracing::warn!(%error, "facilitator failure");
    }
    error_body(status, error.to_string())
}

/// Parses a `/verify` or `/settle` body; a malformed one is a 400 that says what is wrong.
///
/// The body is a JSON object (serde would also read an array of the fields in order), nested
/// at most one level deeper than a payment header may be.
fn parse(body: &[u8]) -> Result<VerifyRequest, String> {
    let invalid = |e: &dyn std::fmt::Display| format!("invalid request body: {e}");
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(invalid(&"expected a JSON object"));
    }
    limits::check_json_depth(body, limits::MAX_JSON_DEPTH + 1).map_err(|e| invalid(&e))?;
    serde_json::from_slice(body).map_err(|e| invalid(&e))
}

async fn verify(State(facilitator): State<Shared>, body: Bytes) -> Response {
    let request = match parse(&body) {
        Ok(request) => request,
        Err(message) => return error_body(StatusCode::BAD_REQUEST, message),
    };
    match facilitator.verify(&request).await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => failure(&error),
    }
}

async fn settle(State(facilitator): State<Shared>, body: Bytes) -> Response {
    let request = match parse(&body) {
        Ok(request) => request,
        Err(message) => return error_body(StatusCode::BAD_REQUEST, message),
    };
    match facilitator.settle(&request).await {
        // A v1 request gets the v1 shape (a v1 network name), as v1 servers expect.
        Ok(answer) if request.x402_version() == 1 => match SettleResponseV1::from_v2(&answer) {
            Ok(v1) => Json(v1).into_response(),
            Err(_) => Json(answer).into_response(),
        },
        Ok(answer) => Json(answer).into_response(),
        Err(error) => failure(&error),
    }
}

async fn supported(State(facilitator): State<Shared>) -> Response {
    match facilitator.supported().await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => failure(&error),
    }
}

async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

async fn not_found() -> Response {
    error_body(StatusCode::NOT_FOUND, "no such route")
}

async fn authorize(
    State(expected): State<Arc<[u8; 32]>>,
    request: Request,
    next: Next,
) -> Response {
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` is `Bearer`.
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim_start());
    // Hashing first makes the comparison constant-time in the token's length too.
    let accepted = presented.is_some_and(|token| {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        bool::from(digest.ct_eq(&*expected))
    });
    if accepted {
        return next.run(request).await;
    }
    let mut response = error_body(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
