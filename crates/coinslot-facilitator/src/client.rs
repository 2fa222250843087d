//! [`HttpFacilitator`]: a facilitator reached over HTTP, behind the same [`Facilitator`] trait
//! as a local one.

use std::time::Duration;

use coinslot_core::v1::SettleResponseV1;
use coinslot_core::{
    BoxFuture, Error, ErrorReason, Facilitator, PaymentId, Result, SettleRequest, SettleResponse,
    SupportedResponse, VerifyRequest, VerifyResponse,
};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

/// How long a call may take by default: a settlement waits for its transaction's receipt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);
/// Tries of `/supported` when the facilitator answers 429 (the reference clients' policy).
const SUPPORTED_TRIES: u32 = 3;
/// The first wait after a 429; doubled each time, unless `Retry-After` says otherwise.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest `Retry-After` honoured.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A remote facilitator: `POST {base}/verify`, `POST {base}/settle`, `GET {base}/supported`.
///
/// A refused payment is an `Ok` answer whatever the status, as long as the body is a verify or
/// settle answer. A request the facilitator refuses for what it carries (400, 413, 414, 415,
/// 422, 431: a body it cannot read, or too large) is a refusal of that payment too, with the
/// reason `invalid_payload` and the facilitator's text, logged as a warning: the payment is
/// bad, not the facilitator. Any other status without an answer is
/// [`Error::FacilitatorResponse`] with the status and the facilitator's error text; no answer
/// is [`Error::Transport`].
///
/// ```
/// use coinslot_facilitator::HttpFacilitator;
///
/// let facilitator = HttpFacilitator::new("https://x402.org/facilitator")
///     .unwrap()
///     .with_bearer_token("s3cret");
/// # let _ = facilitator;
/// ```
#[derive(Clone)]
pub struct HttpFacilitator {
    client: reqwest::Client,
    base: Url,
    bearer_token: Option<String>,
    identify: Option<IdentifyPayment>,
}

/// A function that gives a request's [`PaymentId`] without a round trip, as the remote
/// facilitator's schemes would (for EVM `exact`: `coinslot_evm::exact::payment_id`); `None`
/// for a payment it does not know.
pub type IdentifyPayment = fn(&VerifyRequest) -> Option<PaymentId>;

impl std::fmt::Debug for HttpFacilitator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpFacilitator")
            .field("base", &self.base.as_str())
            .field("auth", &self.bearer_token.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpFacilitator {
    /// A facilitator at `base` (`http://127.0.0.1:4022`, `https://x402.org/facilitator`).
    pub fn new(base: &str) -> Result<Self> {
        let mut base =
            Url::parse(base).map_err(|e| Error::transport("invalid facilitator URL", e))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Self {
            client: client(DEFAULT_TIMEOUT)?,
            base,
            bearer_token: None,
            identify: None,
        })
    }

    /// Sends `Authorization: Bearer <token>`.
    #[must_use]
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// The most a call may take (default 90 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.client = client(timeout)?;
        Ok(self)
    }

    /// Uses `client` (proxies, TLS roots, connection pools of your own).
    #[must_use]
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// How to name a payment whatever its encoding, as the remote facilitator's schemes would
    /// ([`Facilitator::payment_id`]). A server's replay guard uses it to know two encodings of
    /// one signature for one payment; without it, the guard goes by the payment's bytes.
    #[must_use]
    pub const fn with_payment_ids(mut self, identify: IdentifyPayment) -> Self {
        self.identify = Some(identify);
        self
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::transport("invalid facilitator URL", e))
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.bearer_token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Posts `request` to `path`; the answer is `T` if the body has the field `answer_key`.
    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        request: &VerifyRequest,
        answer_key: &str,
    ) -> Result<T> {
        let body = serde_json::to_vec(request)?;
        let response = self
            .authorized(self.client.post(self.url(path)?))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| Error::transport(format!("POST /{path} failed"), e))?;
        read(response, path, Some(answer_key)).await
    }
}

fn client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::transport("cannot build the HTTP client", e))
}

/// Reads an answer: `T` when the body is one (for verify and settle: when it has
/// `answer_key`, whatever the status), otherwise the facilitator's error.
async fn read<T: DeserializeOwned>(
    response: reqwest::Response,
    path: &str,
    answer_key: Option<&str>,
) -> Result<T> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::transport(format!("reading the /{path} answer failed"), e))?;
    let value: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    let is_answer = match (answer_key, &value) {
        (Some(key), Some(value)) => value.get(key).is_some(),
        (None, Some(_)) => status.is_success(),
        _ => false,
    };
    if is_answer && let Some(value) = value {
        return serde_json::from_value(value).map_err(|e| Error::FacilitatorResponse {
            status: status.as_u16(),
            message: format!("the /{path} answer does not parse: {e}"),
        });
    }
    let message = value
        .as_ref()
        .and_then(|v| v.get("error").or_else(|| v.get("message")))
        .and_then(|m| m.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&bytes);
            text.chars().take(200).collect()
        });
    Err(Error::FacilitatorResponse {
        status: status.as_u16(),
        message,
    })
}

/// The facilitator's text when it refused the request for what it carries (see
/// [`HttpFacilitator`]), or the error as it was.
fn refused_request(path: &str, error: Error) -> Result<String> {
    match error {
        Error::FacilitatorResponse { status, message }
            if matches!(status, 400 | 413 | 414 | 415 | 422 | 431) =>
        {
            tracing::warn!(status, %message, "the facilitator refused a /{path} request");
            Ok(format!(
                "the facilitator refused the request ({status}): {message}"
            ))
        }
        other => Err(other),
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_BACKOFF))
}

impl Facilitator for HttpFacilitator {
    fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
        Box::pin(async move {
            match self.post("verify", request, "isValid").await {
                Err(error) => refused_request("verify", error).map(|message| {
                    VerifyResponse::invalid(ErrorReason::InvalidPayload, None).with_message(message)
                }),
                answer => answer,
            }
        })
    }

    fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>> {
        Box::pin(async move {
            let answer: serde_json::Value = match self.post("settle", request, "success").await {
                Ok(answer) => answer,
                Err(error) => {
                    let message = refused_request("settle", error)?;
                    return Ok(SettleResponse::failure(
                        ErrorReason::InvalidPayload,
                        request.network()?,
                        None,
                    )
                    .with_message(message));
                }
            };
            // A v1 facilitator names the network the v1 way (`base-sepolia`).
            if request.x402_version() == 1
                && let Ok(v1) = serde_json::from_value::<SettleResponseV1>(answer.clone())
                && let Ok(v2) = v1.to_v2()
            {
                return Ok(v2);
            }
            serde_json::from_value(answer).map_err(|e| Error::FacilitatorResponse {
                status: 200,
                message: format!("the /settle answer does not parse: {e}"),
            })
        })
    }

    fn supported(&self) -> BoxFuture<'_, Result<SupportedResponse>> {
        Box::pin(async move {
            let url = self.url("supported")?;
            let mut backoff = FIRST_BACKOFF;
            let mut attempt = 1;
            loop {
                let response = self
                    .authorized(self.client.get(url.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::transport("GET /supported failed", e))?;
                if response.status() != StatusCode::TOO_MANY_REQUESTS || attempt == SUPPORTED_TRIES
                {
                    return read(response, "supported", None).await;
                }
                tokio::time::sleep(retry_after(&response).unwrap_or(backoff)).await;
                backoff *= 2;
                attempt += 1;
            }
        })
    }

    fn payment_id(&self, request: &VerifyRequest) -> Option<PaymentId> {
        self.identify.and_then(|identify| identify(request))
    }
}
