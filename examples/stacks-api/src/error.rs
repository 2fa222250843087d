//! [`ApiError`]: every refusal as the reference service writes it, `{ok: false, error,
//! tokenType}` with the status that fits; [`Body`], a JSON body read into one; and
//! [`shape_refusals`], which gives the refusals of the layers around the handlers (a query
//! string that does not read among them) the same shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::caller::TokenType;

/// A refusal: a status and a message for the client. Its answer names how the call was paid
/// (`tokenType`): [`crate::caller::name_caller`] writes that in, once, for every refusal of a
/// paid route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// What went wrong, for the client to read.
    pub message: String,
}

impl ApiError {
    /// A refusal with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: nothing by that name.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 413: past one of the payer's limits.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    /// 409: the state does not allow it (a lock held by another).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// A failure of ours, logged; the client reads only that it was ours.
    pub fn internal(what: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{what}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{what}: internal error"),
        )
    }
}

/// The body of every refusal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Always `false`.
    pub ok: bool,
    /// What went wrong.
    pub error: String,
    /// The token the call was paid in (`STX`, `sBTC`, `USDCx`, `USDC`), or how it got in
    /// (`API_KEY`, `FREE`).
    pub token_type: String,
}

/// Marks an answer already in the service's refusal shape.
#[derive(Debug, Clone, Copy)]
struct Shaped;

impl ApiError {
    /// The answer, naming `token`.
    pub fn answer(&self, token: TokenType) -> Response {
        let body = json!({"ok": false, "error": self.message, "tokenType": token.as_str()});
        let mut response = (self.status, axum::Json(body)).into_response();
        response.extensions_mut().insert(Shaped);
        response
    }
}

/// The largest refusal body [`shape_refusals`] reads: axum's and the paywall's are a line.
const MAX_FOREIGN_REFUSAL: usize = 16 * 1024;

/// Gives the 4xx answers made outside the handlers (axum's router and extractors: 404, 405,
/// a query that does not read; the paywall's unknown API key) the service's shape, keeping
/// their status, message and headers. The 402 keeps x402's shape, and so does any refusal
/// whose JSON says more than an `error` (a client may need the rest).
pub async fn shape_refusals(request: Request, next: axum::middleware::Next) -> Response {
    let keyed = request.headers().contains_key("x-api-key");
    let response = next.run(request).await;
    let status = response.status();
    if !status.is_client_error()
        || status == StatusCode::PAYMENT_REQUIRED
        || response.extensions().get::<Shaped>().is_some()
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FOREIGN_REFUSAL).await else {
        return ApiError::new(status, status.canonical_reason().unwrap_or("refused"))
            .answer(TokenType::default());
    };
    let message = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(fields)) => match (fields.len(), fields.get("error")) {
            (1, Some(serde_json::Value::String(error))) => error.clone(),
            _ => return Response::from_parts(parts, axum::body::Body::from(bytes)),
        },
        _ => String::from_utf8_lossy(&bytes).trim().to_owned(),
    };
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_owned()
    } else {
        message
    };
    let token = if keyed {
        TokenType::ApiKey
    } else {
        TokenType::default()
    };
    let mut answer = ApiError::new(status, message).answer(token);
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

impl IntoResponse for ApiError {
    /// The answer with the default token, carrying the refusal for the caller middleware to
    /// answer again with the caller's.
    fn into_response(self) -> Response {
        let mut response = self.answer(TokenType::default());
        response.extensions_mut().insert(self);
        response
    }
}

/// A JSON request body; one that does not read is a 400 (413 past the size limit) in the
/// service's error shape, saying why.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_refusal(&rejection)),
        }
    }
}

fn json_refusal(rejection: &JsonRejection) -> ApiError {
    let status = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, rejection.body_text())
}
