//! [`Payment<S>`]: the paywall around one inner service, and its [`ResponseFuture`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use coinslot_core::limits::MAX_RESOURCE_URL_LEN;
use coinslot_core::v1::{PaymentPayloadV1, PaymentRequirementsV1};
use coinslot_core::{
    BoxFuture, ErrorReason, Facilitator, PaymentPayload, PaymentRequirements, VerifyRequest,
    find_matching_requirements, match_payload_v1,
};
use http::header::HeaderValue;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::access::{Access, AccessPolicy, AccessRequest};
use crate::body::ResponseBody;
use crate::layer::RawPayment;
use crate::payment::VerifiedPayment;
use crate::reject::{
    Challenge, HEAD_IS_NOT_CHARGED, NO_MATCHING_REQUIREMENTS, PAYMENT_HEADER_REQUIRED,
    PAYMENT_SIGNATURE, X_PAYMENT, attach_receipt, json_error,
};
use crate::replay::{ReplayGuard, payment_key, scheme_key};
use crate::route::{CompiledRoute, SettlementTiming};

/// What every clone of a [`Payment`] service shares.
pub(crate) struct Shared {
    pub(crate) routes: Vec<CompiledRoute>,
    pub(crate) facilitator: Arc<dyn Facilitator>,
    pub(crate) base_url: String,
    pub(crate) policies: Vec<Arc<dyn AccessPolicy>>,
    pub(crate) guard: Arc<ReplayGuard>,
    pub(crate) raw_payment: Option<RawPayment>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("routes", &self.routes)
            .field("base_url", &self.base_url)
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// The service made by [`PaymentLayer`](crate::PaymentLayer): asks for payment on priced routes,
/// passes every other request to `S` untouched.
#[derive(Debug, Clone)]
pub struct Payment<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Payment<S> {
    pub(crate) const fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Payment<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let route = self
            .shared
            .routes
            .iter()
            .position(|route| route.matches(request.method(), request.uri().path()));
        let Some(route) = route else {
            return ResponseFuture::PassThrough {
                future: self.inner.call(request),
            };
        };
        // The commonest priced request, one without a payment, is answered from the 402
        // encoded when the layer was built (unless a way in before x402 must be asked first;
        // a HEAD asks none, as it is never charged).
        let has_payment = payment_header(request.headers()).is_some();
        if !has_payment
            && (self.shared.policies.is_empty() || request.method() == Method::HEAD)
            && let Some(challenge) = self.shared.routes[route].unpaid_challenge(request.uri())
        {
            return ResponseFuture::Ready {
                response: Some(challenge.response()),
            };
        }
        // The clone takes the place of the service that was polled ready, which goes with the
        // request (tower's rule for services called from a future).
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::Priced {
            future: Box::pin(handle(Arc::clone(&self.shared), route, ready, request)),
        }
    }
}

pin_project! {
    /// The future of [`Payment`]: the inner service's own future on free routes, the payment
    /// flow on priced ones.
    // pin-project-lite cannot carry docs on variant fields.
    #[allow(missing_docs)]
    #[project = FutureProj]
    pub enum ResponseFuture<F, B, E> {
        /// A request no priced route matched.
        PassThrough {
            #[pin]
            future: F,
        },
        /// A priced request.
        Priced {
            future: BoxFuture<'static, Result<Response<ResponseBody<B>>, E>>,
        },
        /// An answer known at once: the 402 to a request without a payment.
        Ready {
            response: Option<Response<ResponseBody<B>>>,
        },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            FutureProj::PassThrough { future } => future
                .poll(cx)
                .map(|result| result.map(|response| response.map(ResponseBody::inner))),
            FutureProj::Priced { future } => future.as_mut().poll(cx),
            FutureProj::Ready { response } => Poll::Ready(Ok(response
                .take()
                .expect("a ready response future is not polled after it completes"))),
        }
    }
}

impl<F, B, E> std::fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::PassThrough { .. } => "ResponseFuture::PassThrough",
            Self::Priced { .. } => "ResponseFuture::Priced",
            Self::Ready { .. } => "ResponseFuture::Ready",
        })
    }
}

/// A decoded payment, matched to one of the offers.
struct Matched {
    request: VerifyRequest,
    requirements: PaymentRequirements,
    /// The protocol version the answer speaks: the request's, or 2 for a raw payment.
    x402_version: u8,
}

/// The payment header of a request: `PAYMENT-SIGNATURE` (v2) first, then `X-PAYMENT` (v1).
fn payment_header(headers: &HeaderMap) -> Option<(u8, &HeaderValue)> {
    headers
        .get(PAYMENT_SIGNATURE)
        .map(|v| (2, v))
        .or_else(|| headers.get(X_PAYMENT).map(|v| (1, v)))
}

/// Decodes the payment and finds the offer it is for; `Err` is the 402's error text.
fn match_payment(
    x402_version: u8,
    header: &HeaderValue,
    challenge: &Challenge<'_>,
    raw_payment: Option<RawPayment>,
) -> Result<Matched, String> {
    let v2 = |payload: PaymentPayload| -> Result<Matched, String> {
        let requirements = find_matching_requirements(challenge.offers, &payload.accepted)
            .ok_or(NO_MATCHING_REQUIREMENTS)?
            .clone();
        Ok(Matched {
            request: VerifyRequest::v2(payload, requirements.clone()),
            requirements,
            x402_version: 2,
        })
    };
    if x402_version == 2 {
        let payload = PaymentPayload::from_header(header.as_bytes())
            .map_err(|e| format!("invalid_payload: PAYMENT-SIGNATURE: {e}"))?;
        return v2(payload);
    }
    let payload = match PaymentPayloadV1::from_header(header.as_bytes()) {
        Ok(payload) => payload,
        Err(e) => {
            // Not x402 v1 JSON: perhaps a chain's own raw form, which a scheme crate reads.
            if let Some(payload) =
                raw_payment.and_then(|read| read(header.as_bytes(), challenge.offers))
            {
                return v2(payload);
            }
            return Err(format!("invalid_payload: X-PAYMENT: {e}"));
        }
    };
    // The v1 offers are the v2 ones whose network has a v1 name, in the same order; the first
    // that the core's v1 rule matches is the one.
    let resource = challenge.resource();
    let (requirements, v1) = challenge
        .offers
        .iter()
        .find_map(|offer| {
            let v1 = PaymentRequirementsV1::from_v2(offer, &resource).ok()?;
            match_payload_v1(std::slice::from_ref(&v1), &payload)?;
            Some((offer.clone(), v1))
        })
        .ok_or(NO_MATCHING_REQUIREMENTS)?;
    Ok(Matched {
        requirements,
        request: VerifyRequest::V1 {
            payment_payload: payload,
            payment_requirements: v1,
        },
        x402_version: 1,
    })
}

/// The answer when the facilitator could not do its work: it, or the chain behind it, could
/// not be reached or failed (a payment it refuses is a 402, never this).
fn facilitator_failed<B>(what: &str, error: &coinslot_core::Error) -> Response<ResponseBody<B>> {
    tracing::error!(error = %error, "x402 facilitator {what} failed");
    json_error(
        StatusCode::BAD_GATEWAY,
        &format!("the payment could not be {what}: the facilitator is unavailable"),
    )
}

async fn handle<S, ReqBody, ResBody>(
    shared: Arc<Shared>,
    route: usize,
    mut inner: S,
    request: Request<ReqBody>,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    let route = &shared.routes[route];
    let (mut parts, body) = request.into_parts();
    let has_payment = payment_header(&parts.headers).is_some();
    // A HEAD learns the price and is never charged: no way in is asked, no payment taken.
    let head = parts.method == Method::HEAD;
    let policies = if head { &[][..] } else { &shared.policies[..] };

    for policy in policies {
        let access = match policy
            .check(AccessRequest {
                parts: &parts,
                has_payment,
            })
            .await
        {
            Ok(access) => access,
            Err(e) => {
                tracing::error!(error = %e, "x402 access policy failed");
                return Ok(json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "access check unavailable",
                ));
            }
        };
        match access {
            Access::Continue => {}
            Access::Refuse(refusal) => return Ok(json_error(refusal.status, &refusal.message)),
            Access::Grant(grant) => {
                parts.extensions.insert(grant.clone());
                let response = inner.call(Request::from_parts(parts, body)).await?;
                if let Err(e) = policy.finished(&grant, response.status()).await {
                    tracing::warn!(error = %e, "x402 access policy could not record a call");
                }
                return Ok(response.map(ResponseBody::inner));
            }
        }
    }

    let offers = match route.offers(&parts).await {
        Ok(offers) => offers,
        Err(e) => return Ok(json_error(e.status, &e.message)),
    };
    if offers.is_empty() {
        let response = inner.call(Request::from_parts(parts, body)).await?;
        return Ok(response.map(ResponseBody::inner));
    }
    // A 402 names the URL, and a v1 payment carries it to the facilitator: past the shared
    // limit, neither would be read whole.
    let target_len = parts.uri.path_and_query().map_or(1, |p| p.as_str().len());
    if shared.base_url.len() + target_len > MAX_RESOURCE_URL_LEN {
        return Ok(json_error(
            StatusCode::URI_TOO_LONG,
            &format!("a priced URL may have at most {MAX_RESOURCE_URL_LEN} bytes"),
        ));
    }
    let challenge = Challenge {
        offers: &offers,
        base_url: &shared.base_url,
        uri: parts.uri.clone(),
        route: &route.route,
    };

    let payment = payment_header(&parts.headers).filter(|_| !head);
    let Some((x402_version, header)) = payment else {
        if head && has_payment {
            return Ok(challenge.reject(HEAD_IS_NOT_CHARGED));
        }
        return Ok(match route.unpaid_challenge(&parts.uri) {
            Some(ready) => ready.response(),
            None => challenge.reject(PAYMENT_HEADER_REQUIRED),
        });
    };
    let matched = match match_payment(x402_version, header, &challenge, shared.raw_payment) {
        Ok(matched) => matched,
        Err(error) => return Ok(challenge.reject(&error)),
    };
    let x402_version = matched.x402_version;
    // The facilitator's name for the payment when it has one: the same for every encoding of
    // one authorization. Otherwise the payment's canonical bytes.
    let key = shared
        .facilitator
        .payment_key(&matched.request)
        .map_or_else(
            || {
                payment_key(
                    x402_version,
                    matched.request.scheme(),
                    matched.request.network_name(),
                    matched.request.payload(),
                )
            },
            |name| scheme_key(&name),
        );
    let Some(claim) = shared.guard.claim(key) else {
        return Ok(challenge.reject(ErrorReason::DuplicateSettlement.as_str()));
    };

    let verified = match shared.facilitator.verify(&matched.request).await {
        Ok(verified) => verified,
        Err(e) => {
            claim.release();
            return Ok(facilitator_failed("verified", &e));
        }
    };
    if !verified.is_valid {
        claim.release();
        let reason = verified
            .invalid_reason
            .as_ref()
            .map_or(ErrorReason::InvalidPayment.as_str(), ErrorReason::as_str);
        return Ok(challenge.reject(reason));
    }
    let mut payment = VerifiedPayment {
        payer: verified.payer.unwrap_or_default(),
        scheme: matched.requirements.scheme.clone(),
        network: matched.requirements.network.clone(),
        asset: matched.requirements.asset.clone(),
        amount: matched.requirements.amount,
        x402_version,
        requirements: matched.requirements.clone(),
        settlement: None,
    };

    let response = match route.route.timing {
        SettlementTiming::BeforeHandler => {
            // From here the payment counts as used, whatever happens: money may move.
            let settled = match shared.facilitator.settle(&matched.request).await {
                Ok(settled) => settled,
                Err(e) => return Ok(facilitator_failed("settled", &e)),
            };
            if !settled.success {
                return Ok(challenge.settlement_failed(&settled, x402_version));
            }
            payment.settlement = Some(settled.clone());
            parts.extensions.insert(payment);
            let mut response = inner
                .call(Request::from_parts(parts, body))
                .await?
                .map(ResponseBody::inner);
            attach_receipt(&mut response, &settled, x402_version);
            response
        }
        SettlementTiming::AfterHandler => {
            parts.extensions.insert(payment);
            let response = inner.call(Request::from_parts(parts, body)).await?;
            if response.status().as_u16() >= 400 {
                // The handler failed: nothing is charged, and its answer goes out as it is.
                return Ok(response.map(ResponseBody::inner));
            }
            let settled = match shared.facilitator.settle(&matched.request).await {
                Ok(settled) => settled,
                Err(e) => return Ok(facilitator_failed("settled", &e)),
            };
            if !settled.success {
                // Unpaid content is never served: the handler's answer is dropped.
                return Ok(challenge.settlement_failed(&settled, x402_version));
            }
            let mut response = response.map(ResponseBody::inner);
            attach_receipt(&mut response, &settled, x402_version);
            response
        }
    };
    drop(claim);
    Ok(response)
}
