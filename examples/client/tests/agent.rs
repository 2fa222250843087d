//! The client as the end-to-end suite drives it: the binary, configured by environment, paying
//! a coinslot server on the local chain. Its last line is the suite's JSON.

use std::process::Command;

use alloy::primitives::U256;
use coinslot_evm::exact::ExactEvmFacilitator;
use coinslot_facilitator::LocalFacilitator;
use coinslot_testkit::LocalChain;
use coinslot_tower::{PaidRoute, PaymentLayer};
use serde_json::Value;

async fn server(chain: &LocalChain) -> String {
    let settler = chain.accounts().settlers[0].clone();
    let exact = ExactEvmFacilitator::connect(chain.rpc_url().as_str(), [settler])
        .await
        .unwrap();
    let facilitator = LocalFacilitator::builder().with_scheme(exact).build();
    let port = coinslot_testkit::Loopback::bind().await.unwrap();
    let offer = coinslot_testkit::exact_requirements(chain.accounts().payee.address(), 1000);
    let layer = PaymentLayer::builder(facilitator, port.url())
        .with_route(PaidRoute::get("/weather").accepts(offer))
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route(
            "/weather",
            axum::routing::get(|| async { axum::Json(serde_json::json!({"weather": "sunny"})) }),
        )
        .layer(layer);
    port.serve(app)
}

async fn run(envs: &[(&str, String)]) -> (Option<i32>, Value) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_client"));
    command
        .env_remove("EVM_PRIVATE_KEY")
        .env_remove("STACKS_PRIVATE_KEY")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())));
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    (output.status.code(), serde_json::from_str(last).unwrap())
}

#[tokio::test]
async fn pays_and_prints_the_suites_json() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let payee = chain.accounts().payee.address();
    let key = alloy::hex::encode_prefixed(chain.accounts().payer.to_bytes());
    let before = chain.usdc_balance(payee).await.unwrap();
    let envs = [
        ("EVM_PRIVATE_KEY", key.clone()),
        ("RESOURCE_SERVER_URL", url.clone()),
        ("ENDPOINT_PATH", "/weather".to_owned()),
    ];

    let (code, outcome) = run(&envs).await;
    assert_eq!(code, Some(0), "{outcome}");
    assert_eq!(outcome["success"], true);
    assert_eq!(outcome["status_code"], 200);
    assert_eq!(outcome["data"], serde_json::json!({"weather": "sunny"}));
    assert_eq!(outcome["payment_response"]["success"], true);
    assert!(
        outcome["payment_response"]["transaction"]
            .as_str()
            .unwrap()
            .starts_with("0x")
    );
    assert_eq!(
        chain.usdc_balance(payee).await.unwrap() - before,
        U256::from(1000)
    );

    // Over the cap: refused before signing, exit 1, and the JSON says why.
    let mut capped = envs.to_vec();
    capped.push(("MAX_PER_REQUEST", "$0.0001".to_owned()));
    let (code, outcome) = run(&capped).await;
    assert_eq!(code, Some(1));
    assert_eq!(outcome["success"], false);
    assert!(
        outcome["error"].as_str().unwrap().contains("above the cap"),
        "{outcome}"
    );
    assert_eq!(
        chain.usdc_balance(payee).await.unwrap() - before,
        U256::from(1000)
    );

    let (code, outcome) = run(&envs[1..]).await;
    assert_eq!(code, Some(1));
    assert!(
        outcome["error"]
            .as_str()
            .unwrap()
            .contains("EVM_PRIVATE_KEY or STACKS_PRIVATE_KEY is required")
    );
}
