//! `HttpFacilitator` against our API, and against servers that misbehave in the ways a real
//! facilitator cannot be made to on demand (named mocks: rate limiting, silence).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use coinslot_core::{Error, ErrorReason, Facilitator};
use coinslot_facilitator::store::MemoryStore;
use coinslot_facilitator::{FacilitatorApi, HttpFacilitator};
use coinslot_testkit::LocalChain;

use crate::common::{local, payment, serve};

/// Serves a bare router on loopback.
async fn serve_router(router: Router) -> String {
    coinslot_testkit::serve(router).await.unwrap()
}

#[tokio::test]
async fn the_client_verifies_settles_and_reads_supported_like_the_local_facilitator() {
    let chain = LocalChain::start().await.unwrap();
    let local = local(&chain, MemoryStore::new()).await;
    let url = serve(FacilitatorApi::new(local.clone()).with_bearer_token("t")).await;
    let remote = HttpFacilitator::new(&format!("{url}/"))
        .unwrap()
        .with_bearer_token("t");
    assert_eq!(
        remote.supported().await.unwrap(),
        local.supported().await.unwrap()
    );
    let request = payment(&chain).await;
    assert!(remote.verify(&request).await.unwrap().is_valid);
    let settled = remote.settle(&request).await.unwrap();
    assert!(settled.success, "{settled:?}");

    // A refusal by status (401) becomes a typed error with the facilitator's message.
    let unauthorized = HttpFacilitator::new(&url).unwrap();
    match unauthorized.verify(&request).await {
        Err(Error::FacilitatorResponse {
            status: 401,
            message,
        }) => {
            assert!(message.contains("bearer"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_request_the_facilitator_refuses_for_its_content_is_a_refused_payment() {
    // A real facilitator with a body limit below what a server forwards: it answers 413.
    let chain = LocalChain::start().await.unwrap();
    let local = local(&chain, MemoryStore::new()).await;
    let url = serve(FacilitatorApi::new(local).with_body_limit(512)).await;
    let remote = HttpFacilitator::new(&url).unwrap();
    let request = payment(&chain).await;

    let verified = remote.verify(&request).await.unwrap();
    assert!(!verified.is_valid);
    assert_eq!(verified.invalid_reason, Some(ErrorReason::InvalidPayload));
    assert!(
        verified.invalid_message.as_deref().unwrap().contains("413"),
        "{verified:?}"
    );
    let settled = remote.settle(&request).await.unwrap();
    assert!(!settled.success);
    assert_eq!(settled.error_reason, Some(ErrorReason::InvalidPayload));
    assert_eq!(crate::common::sent_by_settler(&chain).await, 0);
}

#[tokio::test]
async fn a_refusal_on_a_non_200_status_is_still_an_answer() {
    // Mock: a facilitator that answers refusals with 402, as some do.
    let router = Router::new().route(
        "/verify",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::PAYMENT_REQUIRED,
                axum::Json(
                    serde_json::json!({"isValid": false, "invalidReason": "insufficient_funds"}),
                ),
            )
        }),
    );
    let url = serve_router(router).await;
    let chain = LocalChain::start().await.unwrap();
    let answer = HttpFacilitator::new(&url)
        .unwrap()
        .verify(&payment(&chain).await)
        .await
        .unwrap();
    assert!(!answer.is_valid);
    assert_eq!(
        answer.invalid_reason.unwrap().as_str(),
        "insufficient_funds"
    );
}

#[tokio::test]
async fn supported_is_retried_on_429() {
    // Mock: a rate-limited facilitator that refuses twice, then answers.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let router = Router::new().route(
        "/supported",
        get(move || {
            let counter = Arc::clone(&counter);
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) < 2 {
                    (
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "0")],
                        "slow down",
                    )
                        .into_response()
                } else {
                    axum::Json(serde_json::json!({"kinds": [], "extensions": [], "signers": {}}))
                        .into_response()
                }
            }
        }),
    );
    let url = serve_router(router).await;
    let supported = HttpFacilitator::new(&url)
        .unwrap()
        .supported()
        .await
        .unwrap();
    assert!(supported.kinds.is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_silent_facilitator_times_out_as_a_transport_error() {
    // Mock: a facilitator that never answers.
    let router = Router::new().route(
        "/supported",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "late"
        }),
    );
    let url = serve_router(router).await;
    let client = HttpFacilitator::new(&url)
        .unwrap()
        .with_timeout(Duration::from_millis(200))
        .unwrap();
    assert!(matches!(
        client.supported().await,
        Err(Error::Transport { .. })
    ));
}

use axum::response::IntoResponse as _;
