//! Every answer this layer writes itself: the 402 challenge, a refused or failed payment, the
//! receipt headers, and the JSON errors. One place, so that every 402 carries the same headers.

use std::sync::Arc;

use bytes::Bytes;
use coinslot_core::limits::{MAX_HEADER_LEN, MAX_RESOURCE_URL_LEN};
use coinslot_core::v1::{PaymentRequiredV1, SettleResponseV1};
use coinslot_core::{
    ErrorReason, PaymentRequired, PaymentRequirements, ResourceInfo, SettleResponse, V2,
};
use http::header::{
    ACCESS_CONTROL_EXPOSE_HEADERS, CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue,
};
use http::{Response, StatusCode, Uri};

use crate::body::ResponseBody;
use crate::route::PaidRoute;

// The spec's header names (`coinslot_core::header`), lowercase as `HeaderName` wants them.
pub(crate) const PAYMENT_REQUIRED: HeaderName = HeaderName::from_static("payment-required");
pub(crate) const PAYMENT_SIGNATURE: HeaderName = HeaderName::from_static("payment-signature");
pub(crate) const PAYMENT_RESPONSE: HeaderName = HeaderName::from_static("payment-response");
pub(crate) const X_PAYMENT: HeaderName = HeaderName::from_static("x-payment");
pub(crate) const X_PAYMENT_RESPONSE: HeaderName = HeaderName::from_static("x-payment-response");

const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const EXPOSE: HeaderValue =
    HeaderValue::from_static("PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE");

/// The error of a 402 to a request without a payment (the spec's text).
pub(crate) const PAYMENT_HEADER_REQUIRED: &str = "PAYMENT-SIGNATURE header is required";
/// The error of a 402 to a payment for something not offered (the reference servers' text).
pub(crate) const NO_MATCHING_REQUIREMENTS: &str = "No matching payment requirements";
/// The error of a 402 to a `HEAD` with a payment: a `HEAD` learns the price, never pays it.
pub(crate) const HEAD_IS_NOT_CHARGED: &str =
    "a HEAD request is never charged: send the payment with the GET";
/// The longest error a 402 of a fixed-price route is checked to have room for.
const LONGEST_ERROR: usize = 256;

/// A request refused before any payment is looked at: the status and the message the client
/// gets as `{"error": message}`. An [access policy](crate::access) refuses with one (an unknown
/// API key: 401), and so does a [price function](crate::PaidRoute::priced_by) that cannot price
/// a request (a missing parameter: 400; a 5xx says the server could not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status of the answer.
    pub status: StatusCode,
    /// What the client is told.
    pub message: String,
}

impl Rejection {
    /// A rejection with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// A 400: the request cannot be served as sent.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The answer: `{"error": message}` with the status, never cached.
    pub(crate) fn response<B>(&self) -> Response<ResponseBody<B>> {
        json_error(self.status, &self.message)
    }
}

/// The offers and resource of one priced request: what every 402 for it repeats.
#[derive(Debug)]
pub(crate) struct Challenge<'a> {
    pub(crate) offers: Arc<[PaymentRequirements]>,
    pub(crate) base_url: &'a str,
    // Owned: the request head goes to the handler while a 402 may still be written. A
    // `Uri` clone shares its bytes.
    pub(crate) uri: Uri,
    pub(crate) route: &'a PaidRoute,
}

impl Challenge<'_> {
    /// The resource as a 402 describes it; made only when needed (a 402, a v1 payment), not
    /// on the path of a valid v2 payment.
    pub(crate) fn resource(&self) -> ResourceInfo {
        ResourceInfo {
            url: format!(
                "{}{}",
                self.base_url,
                self.uri.path_and_query().map_or("/", |p| p.as_str())
            ),
            description: Some(self.route.description.clone().unwrap_or_default()),
            mime_type: Some(self.route.mime_type.clone().unwrap_or_default()),
            other: coinslot_core::JsonObject::new(),
        }
    }

    /// A 402 (412 when a Permit2 allowance is missing, as the reference servers answer) whose
    /// `PAYMENT-REQUIRED` header and v1 JSON body both carry `error`.
    pub(crate) fn reject<B>(&self, error: &str) -> Response<ResponseBody<B>> {
        match self.encode(error) {
            Some(encoded) => encoded.response(),
            // The offers were checked to encode when the layer was built (dynamic ones are
            // checked here): a failure is the server's, and says so.
            None => json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "this route's price cannot be encoded",
            ),
        }
    }

    /// The answer `reject` sends, encoded; `None` if the offers do not encode, or do not fit
    /// in a header a client will decode ([`MAX_HEADER_LEN`]).
    ///
    /// The body is the v1 form of the same 402, for legacy clients; when no offer has a v1
    /// form (a network v1 has no name for), it is the v2 `PaymentRequired` itself, as the
    /// reference servers send, never a v1 body that offers nothing.
    pub(crate) fn encode(&self, error: &str) -> Option<EncodedChallenge> {
        let status = if error == ErrorReason::Permit2AllowanceRequired.as_str() {
            StatusCode::PRECONDITION_FAILED
        } else {
            StatusCode::PAYMENT_REQUIRED
        };
        let required = PaymentRequired {
            x402_version: V2::default(),
            error: Some(error.to_owned()),
            resource: self.resource(),
            accepts: self.offers.to_vec(),
            extensions: self.route.extensions.clone(),
        };
        let header = required.to_header().ok()?;
        if header.len() > MAX_HEADER_LEN {
            return None;
        }
        let v1 = PaymentRequiredV1::from_v2(&required);
        let body = if v1.accepts.is_empty() {
            serde_json::to_vec(&required)
        } else {
            serde_json::to_vec(&v1)
        }
        .ok()?;
        Some(EncodedChallenge {
            status,
            // Base64 is always a valid header value.
            header: HeaderValue::try_from(header).ok()?,
            body: body.into(),
        })
    }

    /// Whether every 402 of these offers fits in a header, whatever the request's URL (up to
    /// [`MAX_RESOURCE_URL_LEN`]) and the error it names: checked once for a fixed-price route.
    pub(crate) fn fits_any_request(
        offers: &Arc<[PaymentRequirements]>,
        base_url: &str,
        route: &PaidRoute,
    ) -> bool {
        let path_len = MAX_RESOURCE_URL_LEN.saturating_sub(base_url.len()).max(1);
        let longest = format!("/{}", "a".repeat(path_len - 1));
        let Ok(uri) = longest.parse::<Uri>() else {
            return false;
        };
        let challenge = Challenge {
            offers: Arc::clone(offers),
            base_url,
            uri,
            route,
        };
        challenge.encode(&"e".repeat(LONGEST_ERROR)).is_some()
    }

    /// The 402 to a payment whose settlement failed: the failed settle response as the receipt
    /// header, and the offers again so that the client can pay anew.
    pub(crate) fn settlement_failed<B>(
        &self,
        settle: &SettleResponse,
        x402_version: u8,
    ) -> Response<ResponseBody<B>> {
        let mut response = self.refused(settle.error_reason.as_ref(), "settlement failed");
        attach_receipt(&mut response, settle, x402_version);
        response
    }

    /// The 402 to a payment the facilitator refused: its reason, or `otherwise` when it gave
    /// none.
    pub(crate) fn refused<B>(
        &self,
        reason: Option<&ErrorReason>,
        otherwise: &str,
    ) -> Response<ResponseBody<B>> {
        self.reject(reason.map_or(otherwise, ErrorReason::as_str))
    }
}

/// A 402 ready to send: a fixed-price route's answer to a request without a payment is the
/// same every time, so it is encoded once, when the layer is built.
#[derive(Debug, Clone)]
pub(crate) struct EncodedChallenge {
    status: StatusCode,
    header: HeaderValue,
    body: Bytes,
}

impl EncodedChallenge {
    /// The response; its header and body share the encoded bytes.
    pub(crate) fn response<B>(&self) -> Response<ResponseBody<B>> {
        let mut response = json_response(self.status, self.body.clone());
        let headers = response.headers_mut();
        headers.insert(PAYMENT_REQUIRED, self.header.clone());
        response
    }
}

/// Puts the settlement receipt on a response: `PAYMENT-RESPONSE` for v2, `X-PAYMENT-RESPONSE`
/// for v1.
pub(crate) fn attach_receipt<B>(
    response: &mut Response<B>,
    settle: &SettleResponse,
    x402_version: u8,
) {
    let encoded = if x402_version == 1 {
        SettleResponseV1::from_v2(settle).and_then(|v1| v1.to_header())
    } else {
        settle.to_header()
    };
    match encoded {
        Ok(value) => {
            let name = if x402_version == 1 {
                X_PAYMENT_RESPONSE
            } else {
                PAYMENT_RESPONSE
            };
            insert(response, name, &value);
        }
        Err(e) => tracing::warn!(error = %e, "settlement receipt could not be encoded"),
    }
}

/// `{"error": message}` with `status`, never cached.
pub(crate) fn json_error<B>(status: StatusCode, message: &str) -> Response<ResponseBody<B>> {
    let body = serde_json::to_vec(&serde_json::json!({ "error": message }))
        .unwrap_or_else(|_| b"{}".to_vec());
    json_response(status, body)
}

fn json_response<B>(status: StatusCode, body: impl Into<Bytes>) -> Response<ResponseBody<B>> {
    let mut response = Response::new(ResponseBody::own(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, JSON);
    headers.insert(CACHE_CONTROL, NO_STORE);
    headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE);
    response
}

fn insert<B>(response: &mut Response<B>, name: HeaderName, value: &str) {
    // Base64 is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(value) {
        let headers = response.headers_mut();
        headers.insert(name, value);
        headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE);
    }
}
