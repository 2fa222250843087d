//! The access policies: API keys with prepaid credit, a free tier per day; memory and SQLite.

use std::convert::Infallible;

use axum::body::Body;
use bytes::Bytes;
use coinslot_facilitator::HttpFacilitator;
use coinslot_tower::access::{
    AccessGrant, AccessStore, ApiKeyDigest, ApiKeys, FreeTier, MemoryAccessStore, SqliteAccessStore,
};
use coinslot_tower::{PaidRoute, PaymentLayer};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{Layer as _, ServiceExt as _, service_fn};

async fn call(layer: &PaymentLayer, request: Request<Body>) -> (StatusCode, Option<AccessGrant>) {
    // The inner service answers 500 when asked to (`/paid?fail`), and echoes the grant.
    let service = layer.layer(service_fn(|request: Request<Body>| async move {
        let grant = request.extensions().get::<AccessGrant>().cloned();
        let mut response = Response::new(Full::new(Bytes::new()));
        if request.uri().query() == Some("fail") {
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        }
        response.extensions_mut().insert(grant);
        Ok::<_, Infallible>(response)
    }));
    let response = service.oneshot(request).await.unwrap();
    let grant = response
        .extensions()
        .get::<Option<AccessGrant>>()
        .cloned()
        .flatten();
    (response.status(), grant)
}

fn layer(
    policies: impl FnOnce(coinslot_tower::PaymentLayerBuilder) -> coinslot_tower::PaymentLayerBuilder,
) -> PaymentLayer {
    let offer =
        coinslot_testkit::exact_requirements(alloy::primitives::Address::repeat_byte(1), 1000);
    let builder = PaymentLayer::builder(
        HttpFacilitator::new("http://127.0.0.1:9").unwrap(),
        "http://localhost",
    )
    .with_route(PaidRoute::get("/paid").accepts(offer));
    policies(builder).build().unwrap()
}

fn with_key(key: &str, path: &str) -> Request<Body> {
    Request::get(path)
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap()
}

async fn api_keys_charge_per_call(store: impl AccessStore + Clone) {
    let key = ApiKeyDigest::of("sk-live-1");
    store.credit(&key, 3).await.unwrap();
    let layer = layer(|b| b.with_access_policy(ApiKeys::new(store.clone(), 1)));

    let (status, grant) = call(&layer, with_key("sk-live-1", "/paid")).await;
    assert_eq!(status, StatusCode::OK);
    let grant = grant.unwrap();
    assert_eq!(
        (grant.policy, grant.charged, grant.remaining),
        ("api_key", 1, 2)
    );
    assert_eq!(grant.client, key.to_hex());

    // A server failure gives the credit back.
    let (status, _) = call(&layer, with_key("sk-live-1", "/paid?fail")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let bearer = Request::get("/paid")
        .header("authorization", "Bearer sk-live-1")
        .body(Body::empty())
        .unwrap();
    let (status, grant) = call(&layer, bearer).await;
    assert_eq!((status, grant.unwrap().remaining), (StatusCode::OK, 1));
    let (status, _) = call(&layer, with_key("sk-live-1", "/paid")).await;
    assert_eq!(status, StatusCode::OK);

    // Spent: the request goes on to x402.
    let (status, grant) = call(&layer, with_key("sk-live-1", "/paid")).await;
    assert_eq!((status, grant), (StatusCode::PAYMENT_REQUIRED, None));
    // Unknown: refused outright.
    let (status, _) = call(&layer, with_key("sk-unknown", "/paid")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // No key, free route: nothing is charged.
    let (status, _) = call(&layer, with_key("sk-unknown", "/free")).await;
    assert_eq!(status, StatusCode::OK);
}

async fn free_tier_counts_per_client(store: impl AccessStore + Clone) {
    let tier = FreeTier::by_header(store, 2, http::HeaderName::from_static("x-client"));
    let layer = layer(|b| b.with_access_policy(tier));
    let from = |client: &str| {
        Request::get("/paid")
            .header("x-client", client)
            .body(Body::empty())
            .unwrap()
    };
    for remaining in [1, 0] {
        let (status, grant) = call(&layer, from("alice")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(grant.unwrap().remaining, remaining);
    }
    assert_eq!(
        call(&layer, from("alice")).await.0,
        StatusCode::PAYMENT_REQUIRED
    );
    assert_eq!(call(&layer, from("bob")).await.0, StatusCode::OK);
    // A paying request does not spend free calls; nor does an unnamed client get any.
    let paying = Request::get("/paid")
        .header("x-client", "carol")
        .header("payment-signature", "e30=")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&layer, paying).await.0, StatusCode::PAYMENT_REQUIRED);
    let (_, grant) = call(&layer, from("carol")).await;
    assert_eq!(grant.unwrap().remaining, 1);
    assert_eq!(
        call(&layer, Request::get("/paid").body(Body::empty()).unwrap())
            .await
            .0,
        StatusCode::PAYMENT_REQUIRED
    );
}

#[tokio::test]
async fn api_keys_in_memory() {
    api_keys_charge_per_call(std::sync::Arc::new(MemoryAccessStore::new())).await;
}

#[tokio::test]
async fn api_keys_in_sqlite() {
    api_keys_charge_per_call(SqliteAccessStore::open_in_memory().unwrap()).await;
}

#[tokio::test]
async fn free_tier_in_memory() {
    free_tier_counts_per_client(std::sync::Arc::new(MemoryAccessStore::new())).await;
}

#[tokio::test]
async fn free_tier_in_sqlite() {
    free_tier_counts_per_client(SqliteAccessStore::open_in_memory().unwrap()).await;
}

#[tokio::test]
async fn api_key_first_then_free_tier() {
    let store = std::sync::Arc::new(MemoryAccessStore::new());
    store.credit(&ApiKeyDigest::of("k"), 1).await.unwrap();
    let layer = layer(|b| {
        b.with_access_policy(ApiKeys::new(store.clone(), 1))
            .with_access_policy(FreeTier::by_header(
                store.clone(),
                1,
                http::HeaderName::from_static("x-client"),
            ))
    });
    let request = || {
        Request::get("/paid")
            .header("x-api-key", "k")
            .header("x-client", "a")
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(call(&layer, request()).await.1.unwrap().policy, "api_key");
    assert_eq!(call(&layer, request()).await.1.unwrap().policy, "free_tier");
    assert_eq!(
        call(&layer, request()).await.0,
        StatusCode::PAYMENT_REQUIRED
    );
}

#[tokio::test]
async fn sqlite_state_survives_a_restart_and_concurrent_debits_never_overdraw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.db");
    let key = ApiKeyDigest::of("sk");
    {
        let store = SqliteAccessStore::open(&path).unwrap();
        store.credit(&key, 10).await.unwrap();
        assert_eq!(store.take_free_call("alice", 7, 1).await.unwrap(), Some(1));
    }
    let store = SqliteAccessStore::open(&path).unwrap();
    assert_eq!(store.take_free_call("alice", 7, 1).await.unwrap(), None);
    // A new day starts afresh.
    assert_eq!(store.take_free_call("alice", 8, 1).await.unwrap(), Some(1));

    let other = SqliteAccessStore::open(&path).unwrap();
    let debits = (0..25).map(|i| {
        let store = if i % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        tokio::spawn(async move { store.debit(&key, 1).await.unwrap() })
    });
    let charged = futures_util::future::join_all(debits)
        .await
        .into_iter()
        .filter(|d| {
            matches!(
                d.as_ref().unwrap(),
                coinslot_tower::access::Debit::Charged { .. }
            )
        })
        .count();
    assert_eq!(charged, 10);
    assert_eq!(store.credit(&key, 0).await.unwrap(), 0);
}
