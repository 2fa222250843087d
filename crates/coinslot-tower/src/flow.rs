//! The paid flow of one priced request, step by step: the ways in before x402, the price, the
//! payment read and matched, claimed and verified, the handler, the settlement.
//!
//! Each step returns what the next needs, or the answer to send instead (`Err` of a
//! `Result<_, Answer<B>>`): a refusal is a response, never an error. Only the inner service's
//! own error passes up as `Err` of the whole.

use std::sync::Arc;

use coinslot_core::limits::MAX_RESOURCE_URL_LEN;
use coinslot_core::{ErrorReason, SettleResponse, VerifyRequest};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use tower_service::Service;

use crate::access::{Access, AccessGrant, AccessPolicy, AccessRequest};
use crate::body::ResponseBody;
use crate::matching::{Matched, match_payment, payment_header};
use crate::metering;
use crate::reject::{
    Challenge, HEAD_IS_NOT_CHARGED, PAYMENT_HEADER_REQUIRED, attach_receipt, json_error,
};
use crate::replay::{Claim, id_key, payload_key};
use crate::route::{CompiledRoute, SettlementTiming};
use crate::service::Shared;
use crate::verified::VerifiedPayment;

/// An answer the layer sends instead of going on.
pub(crate) type Answer<B> = Response<ResponseBody<B>>;

/// What the ways in before x402 decided.
enum Admission<B> {
    /// None of them: the request pays, or is asked to.
    Pay,
    /// One let the request in without a payment.
    Granted(Arc<dyn AccessPolicy>, AccessGrant),
    /// One refused it, or could not decide.
    Answered(Answer<B>),
}

pub(crate) async fn handle<S, ReqBody, ResBody>(
    shared: Arc<Shared>,
    route: usize,
    inner: S,
    request: Request<ReqBody>,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    let route = &shared.routes[route];
    let (parts, body) = request.into_parts();
    // A HEAD learns the price and is never charged: no way in is asked, no payment taken.
    let head = parts.method == Method::HEAD;
    if !head {
        match admit(&shared.policies, &parts).await {
            Admission::Pay => {}
            Admission::Granted(policy, grant) => {
                return serve_granted(inner, parts, body, &policy, grant).await;
            }
            Admission::Answered(answer) => return Ok(answer),
        }
    }
    let challenge = match price(&shared, route, &parts).await {
        Ok(Some(challenge)) => challenge,
        // Priced at nothing for this request: free.
        Ok(None) => return serve(inner, parts, body).await,
        Err(answer) => return Ok(answer),
    };
    let matched = match read_payment(&shared, route, &challenge, &parts, head) {
        Ok(matched) => matched,
        Err(answer) => return Ok(answer),
    };
    let (claim, payment) = match claim_and_verify(&shared, &challenge, &matched).await {
        Ok(verified) => verified,
        Err(answer) => return Ok(answer),
    };
    let response = match route.route.timing {
        SettlementTiming::BeforeHandler => {
            // From here the payment counts as used, whatever happens: money may move. A
            // metered payment is charged its maximum: nothing has been measured yet.
            let settled = match settle(&shared, &challenge, &matched, &matched.request).await {
                Ok(settled) => settled,
                Err(answer) => return Ok(answer),
            };
            let mut parts = parts;
            let payment = VerifiedPayment {
                settlement: Some(settled.clone()),
                ..payment
            };
            parts.extensions.insert(payment);
            let mut response = serve(inner, parts, body).await?;
            if metering::take_charge(&mut response).is_some() {
                tracing::warn!("x402 charge ignored: the route settles before its handler");
            }
            attach_receipt(&mut response, &settled, matched.x402_version);
            response
        }
        SettlementTiming::AfterHandler => {
            let mut parts = parts;
            parts.extensions.insert(payment);
            let mut response = serve(inner, parts, body).await?;
            let charge = metering::take_charge(&mut response);
            if response.status().as_u16() >= 400 {
                // The handler failed: nothing is charged, and its answer goes out as it is.
                return Ok(response);
            }
            let request = match metering::settle_request(&shared, &matched, charge) {
                Ok(request) => request,
                // The handler's own mistake: nothing is settled, nothing served.
                Err(answer) => return Ok(answer),
            };
            let settled = match settle(&shared, &challenge, &matched, &request).await {
                Ok(settled) => settled,
                // Unpaid content is never served: the handler's answer is dropped.
                Err(answer) => return Ok(answer),
            };
            attach_receipt(&mut response, &settled, matched.x402_version);
            response
        }
    };
    drop(claim);
    Ok(response)
}

/// Runs the inner service.
async fn serve<S, ReqBody, ResBody>(
    mut inner: S,
    parts: Parts,
    body: ReqBody,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    let response = inner.call(Request::from_parts(parts, body)).await?;
    Ok(response.map(ResponseBody::inner))
}

/// Asks the ways in before x402, in order.
async fn admit<B>(policies: &[Arc<dyn AccessPolicy>], parts: &Parts) -> Admission<B> {
    let has_payment = payment_header(&parts.headers).is_some();
    for policy in policies {
        let request = AccessRequest { parts, has_payment };
        match policy.check(request).await {
            Ok(Access::Continue) => {}
            Ok(Access::Grant(grant)) => return Admission::Granted(Arc::clone(policy), grant),
            Ok(Access::Refuse(rejection)) => return Admission::Answered(rejection.response()),
            Err(e) => {
                tracing::error!(error = %e, "x402 access policy failed");
                return Admission::Answered(json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "access check unavailable",
                ));
            }
        }
    }
    Admission::Pay
}

/// Serves a request a way in let through, and tells the policy how it went.
async fn serve_granted<S, ReqBody, ResBody>(
    inner: S,
    mut parts: Parts,
    body: ReqBody,
    policy: &Arc<dyn AccessPolicy>,
    grant: AccessGrant,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    parts.extensions.insert(grant.clone());
    let response = serve(inner, parts, body).await?;
    if let Err(e) = policy.finished(&grant, response.status()).await {
        tracing::warn!(error = %e, "x402 access policy could not record a call");
    }
    Ok(response)
}

/// The offers of this request as the 402 would name them; `None` when it is priced at
/// nothing. A URL past the shared limit is a 414: a 402 names it, and a v1 payment carries it
/// to the facilitator, and neither would be read whole.
async fn price<'a, B>(
    shared: &'a Shared,
    route: &'a CompiledRoute,
    parts: &Parts,
) -> Result<Option<Challenge<'a>>, Answer<B>> {
    let offers = route
        .offers(parts)
        .await
        .map_err(|rejection| rejection.response())?;
    if offers.is_empty() {
        return Ok(None);
    }
    let target_len = parts.uri.path_and_query().map_or(1, |p| p.as_str().len());
    if shared.base_url.len() + target_len > MAX_RESOURCE_URL_LEN {
        return Err(json_error(
            StatusCode::URI_TOO_LONG,
            &format!("a priced URL may have at most {MAX_RESOURCE_URL_LEN} bytes"),
        ));
    }
    Ok(Some(Challenge {
        offers,
        base_url: &shared.base_url,
        uri: parts.uri.clone(),
        route: &route.route,
    }))
}

/// The request's payment, decoded and matched to an offer; or the 402 (to a request without
/// one, to a HEAD, to one that does not decode or pays for something not offered).
// The answer goes straight out; boxing it would cost an allocation on every 402.
#[allow(clippy::result_large_err)]
fn read_payment<B>(
    shared: &Shared,
    route: &CompiledRoute,
    challenge: &Challenge<'_>,
    parts: &Parts,
    head: bool,
) -> Result<Matched, Answer<B>> {
    let header = payment_header(&parts.headers);
    let Some((x402_version, header)) = header.filter(|_| !head) else {
        if head && header.is_some() {
            return Err(challenge.reject(HEAD_IS_NOT_CHARGED));
        }
        return Err(match route.unpaid_challenge(&parts.uri) {
            Some(ready) => ready.response(),
            None => challenge.reject(PAYMENT_HEADER_REQUIRED),
        });
    };
    match_payment(x402_version, header, challenge, shared.read_raw)
        .map_err(|e| challenge.reject(&e))
}

/// Claims the payment for this request (one payment runs one handler) and has the facilitator
/// verify it. A claim is given back when the payment is refused or cannot be verified: nothing
/// ran and nothing moved.
async fn claim_and_verify<B>(
    shared: &Shared,
    challenge: &Challenge<'_>,
    matched: &Matched,
) -> Result<(Claim, VerifiedPayment), Answer<B>> {
    let request = &matched.request;
    // The payment's id when the facilitator gives one: the same for every encoding of one
    // authorization. Otherwise the payment's canonical bytes.
    let key = shared.facilitator.payment_id(request).map_or_else(
        || {
            payload_key(
                matched.x402_version,
                request.scheme(),
                request.network_name(),
                request.payload(),
            )
        },
        |id| id_key(&id),
    );
    let Some(claim) = shared.guard.claim(key) else {
        return Err(challenge.reject(ErrorReason::DuplicateSettlement.as_str()));
    };
    let verified = match shared.facilitator.verify(request).await {
        Ok(verified) => verified,
        Err(e) => {
            claim.release();
            return Err(facilitator_failed("verified", &e));
        }
    };
    if !verified.is_valid {
        claim.release();
        return Err(challenge.refused(
            verified.invalid_reason.as_ref(),
            ErrorReason::InvalidPayment.as_str(),
        ));
    }
    let requirements = &matched.requirements;
    let payment = VerifiedPayment {
        payer: verified.payer.unwrap_or_default(),
        scheme: requirements.scheme.clone(),
        network: requirements.network.clone(),
        asset: requirements.asset.clone(),
        amount: requirements.amount,
        x402_version: matched.x402_version,
        requirements: requirements.clone(),
        settlement: None,
    };
    Ok((claim, payment))
}

/// Settles the payment as `request` says (for a metered one, its charge): its receipt, or the
/// answer to send instead of the content (the facilitator could not be reached, or the
/// settlement failed).
async fn settle<B>(
    shared: &Shared,
    challenge: &Challenge<'_>,
    matched: &Matched,
    request: &VerifyRequest,
) -> Result<SettleResponse, Answer<B>> {
    let settled = shared
        .facilitator
        .settle(request)
        .await
        .map_err(|e| facilitator_failed("settled", &e))?;
    if settled.success {
        Ok(settled)
    } else {
        Err(challenge.settlement_failed(&settled, matched.x402_version))
    }
}

/// The answer when the facilitator could not do its work: it, or the chain behind it, could
/// not be reached or failed (a payment it refuses is a 402, never this).
fn facilitator_failed<B>(what: &str, error: &coinslot_core::Error) -> Answer<B> {
    tracing::error!(error = %error, "x402 facilitator {what} failed");
    json_error(
        StatusCode::BAD_GATEWAY,
        &format!("the payment could not be {what}: the facilitator is unavailable"),
    )
}
