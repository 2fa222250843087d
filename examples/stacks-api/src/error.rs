//! [`ApiError`]: every refusal as the reference service writes it, `{ok: false, error,
//! tokenType}` with the status that fits, and [`Body`], a JSON body read into one.

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

impl ApiError {
    /// The answer, naming `token`.
    pub fn answer(&self, token: TokenType) -> Response {
        let body = json!({"ok": false, "error": self.message, "tokenType": token.as_str()});
        (self.status, axum::Json(body)).into_response()
    }
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
