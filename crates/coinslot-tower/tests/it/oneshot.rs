//! The layer alone, through `ServiceExt::oneshot`: every branch that needs no chain.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use bytes::Bytes;
use coinslot_core::v1::{PaymentPayloadV1, PaymentRequiredV1};
use coinslot_core::{JsonObject, PaymentPayload, PaymentRequired, PaymentRequirements};
use coinslot_facilitator::HttpFacilitator;
use coinslot_tower::{PaidRoute, PaymentLayer, Rejection};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use tower::{Layer as _, ServiceExt as _, service_fn};

const BASE: &str = "https://api.example.com";

fn offer() -> PaymentRequirements {
    coinslot_testkit::exact_requirements(alloy::primitives::Address::repeat_byte(0x42), 1000)
}

/// The same price in USDC on Base mainnet.
fn mainnet_offer() -> PaymentRequirements {
    let mut offer = offer();
    offer.network = coinslot_core::Network::base();
    offer.asset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913".to_owned();
    offer
}

/// A facilitator nobody listens for: any call to it fails, as a facilitator that is down.
async fn unreachable_facilitator() -> HttpFacilitator {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    HttpFacilitator::new(&format!("http://{address}")).unwrap()
}

/// An inner service that counts its calls and answers "content".
fn content(
    calls: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<Body>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    service_fn(move |_request: Request<Body>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            let mut response = Response::new(Full::new(Bytes::from_static(b"content")));
            response
                .headers_mut()
                .insert("x-inner", "yes".parse().unwrap());
            Ok::<_, Infallible>(response)
        }
    })
}

async fn layer() -> PaymentLayer {
    PaymentLayer::builder(unreachable_facilitator().await, BASE)
        .with_route(PaidRoute::get("/either").accepts_all([offer(), mainnet_offer()]))
        .with_route(
            PaidRoute::get("/paid")
                .accepts(offer())
                .description("paid")
                .mime_type("text/plain"),
        )
        .with_route(PaidRoute::post("/priced/{item}").priced_by(|parts| {
            let item = parts
                .uri
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            Box::pin(async move {
                match item.as_str() {
                    "free" => Ok(Vec::new()),
                    "bad" => Err(Rejection::bad_request("no such item")),
                    _ => {
                        let mut offer = offer();
                        offer.amount = 5000u64.into();
                        Ok(vec![offer])
                    }
                }
            })
        }))
        .build()
        .unwrap()
}

async fn call(request: Request<Body>) -> (Response<Bytes>, usize) {
    let calls = Arc::new(AtomicUsize::new(0));
    let service = layer().await.layer(content(Arc::clone(&calls)));
    let response = service.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        Response::from_parts(parts, body),
        calls.load(Ordering::SeqCst),
    )
}

fn get(uri: &str) -> http::request::Builder {
    Request::get(uri).header("host", "attacker.example")
}

fn required(response: &Response<Bytes>) -> PaymentRequired {
    PaymentRequired::from_header(response.headers()["payment-required"].as_bytes()).unwrap()
}

#[tokio::test]
async fn free_routes_and_other_methods_pass_through_untouched() {
    for request in [
        get("/free").body(Body::empty()).unwrap(),
        Request::post("/paid").body(Body::empty()).unwrap(),
        get("/paid/more").body(Body::empty()).unwrap(),
    ] {
        let (response, calls) = call(request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-inner"], "yes");
        assert_eq!(response.body().as_ref(), b"content");
        assert!(response.headers().get("payment-required").is_none());
        assert_eq!(calls, 1);
    }
}

#[tokio::test]
async fn no_payment_gets_the_challenge_in_both_versions() {
    let (response, calls) = call(get("/paid?city=Paris").body(Body::empty()).unwrap()).await;
    assert_eq!(calls, 0);
    assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["content-type"], "application/json");
    let v2 = required(&response);
    assert_eq!(v2.accepts, vec![offer()]);
    assert_eq!(
        v2.error.as_deref(),
        Some("PAYMENT-SIGNATURE header is required")
    );
    // From the configured base URL, never from the Host header.
    assert_eq!(v2.resource.url, "https://api.example.com/paid?city=Paris");
    assert_eq!(v2.resource.description.as_deref(), Some("paid"));
    assert_eq!(v2.resource.mime_type.as_deref(), Some("text/plain"));

    let v1: PaymentRequiredV1 = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(v1.accepts.len(), 1);
    assert_eq!(v1.accepts[0].network, "base-sepolia");
    assert_eq!(v1.accepts[0].max_amount_required, 1000u64.into());
    assert_eq!(
        v1.accepts[0].resource,
        "https://api.example.com/paid?city=Paris"
    );

    // HEAD is priced like GET.
    let (response, calls) = call(Request::head("/paid").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (response.status(), calls),
        (StatusCode::PAYMENT_REQUIRED, 0)
    );
}

#[tokio::test]
async fn the_challenge_encoded_at_build_is_the_one_a_request_would_get() {
    // `/paid` is answered with the 402 encoded when the layer was built; `/paid?x=1` has its
    // own encoded for it. They differ only in the resource's URL.
    let (ready, calls) = call(get("/paid").body(Body::empty()).unwrap()).await;
    assert_eq!(calls, 0);
    let (computed, _) = call(get("/paid?x=1").body(Body::empty()).unwrap()).await;
    assert_eq!(ready.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(ready.status(), computed.status());
    let names = |r: &Response<Bytes>| {
        r.headers()
            .keys()
            .map(|k| k.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&ready), names(&computed));
    for name in [
        "cache-control",
        "content-type",
        "access-control-expose-headers",
    ] {
        assert_eq!(ready.headers()[name], computed.headers()[name], "{name}");
    }
    let mut expected = required(&computed);
    expected.resource.url = "https://api.example.com/paid".to_owned();
    assert_eq!(required(&ready), expected);
    let body = String::from_utf8(computed.body().to_vec())
        .unwrap()
        .replace("/paid?x=1", "/paid");
    assert_eq!(ready.body().as_ref(), body.as_bytes());
}

#[tokio::test]
async fn bad_payments_are_refused_with_a_reason() {
    let mut other = offer();
    other.amount = 1u64.into();
    let unoffered = PaymentPayload::new(other, JsonObject::new(), None)
        .to_header()
        .unwrap();
    let mut v1_other =
        PaymentPayloadV1::from_v2(&PaymentPayload::new(offer(), JsonObject::new(), None)).unwrap();
    v1_other.network = "base".to_owned();
    let cases = [
        (
            "payment-signature",
            "not base64!".to_owned(),
            "invalid_payload: PAYMENT-SIGNATURE",
        ),
        (
            "payment-signature",
            "e30=".to_owned(),
            "invalid_payload: PAYMENT-SIGNATURE",
        ),
        ("x-payment", "W10=".to_owned(), "invalid_payload: X-PAYMENT"),
        (
            "payment-signature",
            unoffered,
            "No matching payment requirements",
        ),
        (
            "x-payment",
            v1_other.to_header().unwrap(),
            "No matching payment requirements",
        ),
    ];
    for (name, value, error) in cases {
        let (response, calls) = call(
            get("/paid")
                .header(name, &value)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED, "{value}");
        assert_eq!(calls, 0);
        let got = required(&response).error.unwrap();
        assert!(got.starts_with(error), "{got:?} for {value:?}");
        let v1: PaymentRequiredV1 = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(v1.error.as_deref(), Some(got.as_str()));
    }
}

#[tokio::test]
async fn a_facilitator_that_is_down_gives_502_and_no_content() {
    let v2 = PaymentPayload::new(offer(), JsonObject::new(), None);
    let v1 = PaymentPayloadV1::from_v2(&v2).unwrap();
    for (name, value) in [
        ("payment-signature", v2.to_header().unwrap()),
        ("x-payment", v1.to_header().unwrap()),
    ] {
        let (response, calls) = call(
            get("/paid")
                .header(name, value)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(calls, 0);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(
            body["error"],
            "the payment could not be verified: the facilitator is unavailable"
        );
        assert!(!String::from_utf8_lossy(response.body()).contains("content"));
    }
}

#[tokio::test]
async fn dynamic_prices_come_from_the_request() {
    let (response, calls) = call(Request::post("/priced/book").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (response.status(), calls),
        (StatusCode::PAYMENT_REQUIRED, 0)
    );
    assert_eq!(required(&response).accepts[0].amount, 5000u64.into());

    let (response, calls) = call(Request::post("/priced/free").body(Body::empty()).unwrap()).await;
    assert_eq!((response.status(), calls), (StatusCode::OK, 1));

    let (response, calls) = call(Request::post("/priced/bad").body(Body::empty()).unwrap()).await;
    assert_eq!((response.status(), calls), (StatusCode::BAD_REQUEST, 0));
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["error"], "no such item");
}

#[tokio::test]
async fn inner_errors_pass_through_unchanged() {
    #[derive(Debug, PartialEq)]
    struct Down;
    let service = layer().await.layer(service_fn(|_: Request<Body>| async {
        Err::<Response<Full<Bytes>>, _>(Down)
    }));
    let error = service
        .oneshot(get("/free").body(Body::empty()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(error, Down);
}

#[tokio::test]
async fn works_on_a_plain_hyper_service_over_a_socket() {
    use hyper::server::conn::http1;
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let service = layer()
        .await
        .layer(service_fn(|_: Request<hyper::body::Incoming>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello"))))
        }));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    let client = reqwest::Client::new();
    let free = client.get(format!("{url}/free")).send().await.unwrap();
    assert_eq!(free.text().await.unwrap(), "hello");
    let paid = client.get(format!("{url}/paid")).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::PAYMENT_REQUIRED);
    assert!(paid.headers().contains_key("payment-required"));
}

#[test]
fn bad_configuration_is_refused_at_build() {
    let facilitator = HttpFacilitator::new("http://127.0.0.1:9").unwrap();
    let error = PaymentLayer::builder(facilitator.clone(), "api.example.com")
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("invalid public base url"),
        "{error}"
    );
    let error = PaymentLayer::builder(facilitator, BASE)
        .with_route(PaidRoute::get("paid").accepts(offer()))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("must start with '/'"), "{error}");
}

#[tokio::test]
async fn a_route_offers_several_ways_to_pay() {
    let (response, _) = call(get("/either").body(Body::empty()).unwrap()).await;
    assert_eq!(required(&response).accepts, vec![offer(), mainnet_offer()]);
    let v1: PaymentRequiredV1 = serde_json::from_slice(response.body()).unwrap();
    let networks: Vec<&str> = v1.accepts.iter().map(|o| o.network.as_str()).collect();
    assert_eq!(networks, ["base-sepolia", "base"]);
    // A payment for the second offer, in either version, is matched and goes to the facilitator
    // (down here: 502, not "No matching payment requirements").
    let v2 = PaymentPayload::new(mainnet_offer(), JsonObject::new(), None);
    let v1 = PaymentPayloadV1::from_v2(&v2).unwrap();
    for (name, value) in [
        ("payment-signature", v2.to_header().unwrap()),
        ("x-payment", v1.to_header().unwrap()),
    ] {
        let (response, calls) = call(
            get("/either")
                .header(name, value)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            (response.status(), calls),
            (StatusCode::BAD_GATEWAY, 0),
            "{name}"
        );
    }
}
