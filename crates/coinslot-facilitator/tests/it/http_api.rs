//! The HTTP API's bodies and status codes, on a real socket.

use coinslot_facilitator::FacilitatorApi;
use coinslot_facilitator::store::MemoryStore;
use coinslot_testkit::LocalChain;
use serde_json::{Value, json};

use crate::common::{local, payment, serve};

async fn call(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn routes_answer_with_the_reference_bodies_and_statuses() {
    let chain = LocalChain::start().await.unwrap();
    let url = serve(
        FacilitatorApi::new(local(&chain, MemoryStore::new()).await).with_body_limit(8 * 1024),
    )
    .await;
    let request = serde_json::to_vec(&payment(&chain).await).unwrap();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, body) = call(get.clone(), &format!("{url}/health"), None, None).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));

    let (status, body) = call(get.clone(), &format!("{url}/supported"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["kinds"],
        json!([
            {"x402Version": 2, "scheme": "exact", "network": "eip155:84532"},
            {"x402Version": 1, "scheme": "exact", "network": "base-sepolia"}
        ])
    );
    let settler = crate::common::settler(&chain).address().to_checksum(None);
    assert_eq!(body["signers"], json!({"eip155:*": [settler]}));
    assert_eq!(body["extensions"], json!([]));

    let (status, body) = call(
        post.clone(),
        &format!("{url}/verify"),
        None,
        Some(request.clone()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["isValid"], true, "{body}");

    // A refused payment: 200 with the reason.
    let mut refused: Value = serde_json::from_slice(&request).unwrap();
    refused["paymentRequirements"]["amount"] = json!("1");
    let (status, body) = call(
        post.clone(),
        &format!("{url}/verify"),
        None,
        Some(serde_json::to_vec(&refused).unwrap()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["isValid"], false);
    assert_eq!(
        body["invalidReason"],
        "invalid_exact_evm_payload_authorization_value_mismatch"
    );
    let (status, body) = call(
        post.clone(),
        &format!("{url}/settle"),
        None,
        Some(serde_json::to_vec(&refused).unwrap()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], false);
    assert_eq!(body["transaction"], "");
    assert_eq!(body["network"], "eip155:84532");

    // A scheme nobody handles: a refusal too, not an error.
    let mut unknown: Value = serde_json::from_slice(&request).unwrap();
    unknown["paymentRequirements"]["scheme"] = json!("teleport");
    let (status, body) = call(
        post.clone(),
        &format!("{url}/verify"),
        None,
        Some(serde_json::to_vec(&unknown).unwrap()),
    )
    .await;
    assert_eq!(
        (status, &body["invalidReason"]),
        (200, &json!("unsupported_scheme"))
    );

    // Malformed bodies: 400 with a JSON error, never a 500.
    for (name, body) in [
        ("not json", b"{".to_vec()),
        ("empty", Vec::new()),
        ("an array", b"[]".to_vec()),
        (
            "no version",
            br#"{"paymentPayload":{},"paymentRequirements":{}}"#.to_vec(),
        ),
        (
            "version 3",
            br#"{"x402Version":3,"paymentPayload":{},"paymentRequirements":{}}"#.to_vec(),
        ),
        ("missing requirements", {
            let mut v: Value = serde_json::from_slice(&request).unwrap();
            v.as_object_mut().unwrap().remove("paymentRequirements");
            serde_json::to_vec(&v).unwrap()
        }),
        ("requirements as an array", {
            let mut v: Value = serde_json::from_slice(&request).unwrap();
            let r = v["paymentRequirements"].clone();
            v["paymentRequirements"] = json!([
                r["scheme"],
                r["network"],
                r["amount"],
                r["asset"],
                r["payTo"],
                r["maxTimeoutSeconds"],
                r["extra"]
            ]);
            serde_json::to_vec(&v).unwrap()
        }),
        ("accepted as an array", {
            let mut v: Value = serde_json::from_slice(&request).unwrap();
            v["paymentPayload"]["accepted"] = json!(["exact"]);
            serde_json::to_vec(&v).unwrap()
        }),
        ("amount a number", {
            let mut v: Value = serde_json::from_slice(&request).unwrap();
            v["paymentRequirements"]["amount"] = json!(10000);
            serde_json::to_vec(&v).unwrap()
        }),
    ] {
        for route in ["verify", "settle"] {
            let (status, reply) = call(
                post.clone(),
                &format!("{url}/{route}"),
                None,
                Some(body.clone()),
            )
            .await;
            assert_eq!(status, 400, "{name} /{route}");
            assert!(
                reply["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{name}: {reply}"
            );
        }
    }

    // Too large: 413.
    let (status, _) = call(
        post.clone(),
        &format!("{url}/verify"),
        None,
        Some(vec![b' '; 9000]),
    )
    .await;
    assert_eq!(status, 413);
    // Unknown route: 404 with a JSON error; wrong method: 405.
    let (status, body) = call(get.clone(), &format!("{url}/nope"), None, None).await;
    assert_eq!((status, body["error"].is_string()), (404, true));
    let (status, _) = call(get, &format!("{url}/verify"), None, None).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn a_bearer_token_guards_everything_but_health() {
    let chain = LocalChain::start().await.unwrap();
    let url = serve(
        FacilitatorApi::new(local(&chain, MemoryStore::new()).await).with_bearer_token("s3cret"),
    )
    .await;
    let get = reqwest::Method::GET;
    assert_eq!(
        call(get.clone(), &format!("{url}/health"), None, None)
            .await
            .0,
        200
    );
    for token in [
        None,
        Some("wrong"),
        Some("s3cre"),
        Some("S3CRET"),
        Some("s3cret2"),
    ] {
        let (status, body) = call(get.clone(), &format!("{url}/supported"), token, None).await;
        assert_eq!(status, 401, "{token:?}");
        assert!(body["error"].is_string());
    }
    let request = serde_json::to_vec(&payment(&chain).await).unwrap();
    let (status, _) = call(
        reqwest::Method::POST,
        &format!("{url}/settle"),
        None,
        Some(request),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(crate::common::sent_by_settler(&chain).await, 0);
    assert_eq!(
        call(get, &format!("{url}/supported"), Some("s3cret"), None)
            .await
            .0,
        200
    );
}
