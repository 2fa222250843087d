//! The server as the end-to-end suite drives it: the binary, configured by environment, in
//! front of a facilitator on the local chain.

use std::sync::Arc;

use coinslot::evm::EvmChain;
use coinslot::evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot::evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot::facilitator::{FacilitatorApi, LocalFacilitator};
use coinslot::reqwest::{AssetLimit, Limits, Payer, PayingClient, SpendingPolicy};
use coinslot::{PaymentRequired, SettleResponse};
use coinslot_testkit::{LocalChain, ServiceProcess};

/// A facilitator for `exact` and `upto` on the local chain, over loopback HTTP.
async fn facilitator(chain: &LocalChain) -> String {
    let settler = chain.accounts().settlers[0].clone();
    let evm = EvmChain::http(chain.rpc_url().as_str())
        .unwrap()
        .with_signer(settler)
        .build()
        .await
        .unwrap();
    let evm = Arc::new(evm);
    let local = LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(Arc::clone(&evm)))
        .with_scheme(UptoEvmFacilitator::new(evm))
        .build();
    coinslot_testkit::serve(FacilitatorApi::new(local).into_router())
        .await
        .unwrap()
}

/// The payer's client, paying up to a cent a request in the local USDC.
fn paying_client(chain: &LocalChain) -> PayingClient {
    PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(ExactEvmClient::new(chain.accounts().payer.clone()))
            .with_wallet(UptoEvmClient::new(chain.accounts().payer.clone()))
            .with_policy(
                SpendingPolicy::new().allow(
                    AssetLimit::usdc_base_sepolia(Limits {
                        per_request: "$0.01",
                        budget: "$1",
                    })
                    .unwrap(),
                ),
            )
            .build(),
    )
}

#[tokio::test]
async fn serves_free_fixed_and_dynamic_routes_and_closes() {
    let chain = LocalChain::start().await.unwrap();
    let payee = chain.accounts().payee.address();
    let mut server = ServiceProcess::start(
        env!("CARGO_BIN_EXE_server"),
        &[
            ("PORT", "0".to_owned()),
            ("FACILITATOR_URL", facilitator(&chain).await),
            ("EVM_PAYEE_ADDRESS", payee.to_checksum(None)),
        ],
        "Server listening",
        false,
    )
    .unwrap();
    let url = server.url().to_owned();
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{url}{path}")).send();

    let health: serde_json::Value =
        serde_json::from_slice(&get("/health").await.unwrap().bytes().await.unwrap()).unwrap();
    assert_eq!(health, serde_json::json!({"status": "ok"}));
    assert_eq!(get("/free").await.unwrap().status(), 200);

    for (path, amount) in [
        ("/exact/evm/eip3009", 1000u64),
        ("/weather", 1000),
        ("/words?count=7", 700),
        ("/exact/evm/permit2", 1000),
        ("/upto/evm/permit2", 1000),
    ] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status(), 402, "{path}");
        let required =
            PaymentRequired::from_header(response.headers()["payment-required"].as_bytes())
                .unwrap();
        assert_eq!(required.accepts[0].amount, amount.into(), "{path}");
        assert_eq!(required.accepts[0].pay_to, payee.to_checksum(None));
        assert_eq!(required.resource.url, format!("{url}{path}"));
    }
    for bad in [
        "/words",
        "/words?count=0",
        "/words?count=1001",
        "/words?count=x",
    ] {
        assert_eq!(get(bad).await.unwrap().status(), 400, "{bad}");
    }

    let client = paying_client(&chain);
    let before = chain.usdc_balance(payee).await.unwrap();
    let words: serde_json::Value = client
        .send(client.get(format!("{url}/words?count=7")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(words["words"].as_str().unwrap().split(' ').count(), 7);
    assert_eq!(words["paid"], "700");
    assert_eq!(
        chain.usdc_balance(payee).await.unwrap() - before,
        coinslot::evm::alloy::primitives::U256::from(700)
    );

    // The metered route writes seven words and charges them, of the ten its maximum buys.
    chain
        .approve_permit2(&chain.accounts().payer, coinslot_testkit::USDC)
        .await
        .unwrap();
    for (path, charged) in [("/exact/evm/permit2", 1000u64), ("/upto/evm/permit2", 700)] {
        let before = chain.usdc_balance(payee).await.unwrap();
        let response = client
            .send(client.get(format!("{url}{path}")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let receipt = response
            .extensions()
            .get::<SettleResponse>()
            .unwrap()
            .clone();
        assert_eq!(receipt.amount, Some(charged.into()), "{path}");
        assert_eq!(
            chain.usdc_balance(payee).await.unwrap() - before,
            coinslot::evm::alloy::primitives::U256::from(charged),
            "{path}"
        );
    }

    assert_eq!(
        http.post(format!("{url}/close"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(server.wait().unwrap(), "POST /close exits with success");
}

#[test]
fn a_missing_payee_is_a_clear_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env_remove("EVM_PAYEE_ADDRESS")
        .env_remove("STACKS_PAYEE_ADDRESS")
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("EVM_PAYEE_ADDRESS or STACKS_PAYEE_ADDRESS is required")
    );
}

/// A route priced only on Stacks has no v1 form: its 402 body is the v2 `PaymentRequired`, as
/// the reference servers send, not a v1 body that offers nothing.
#[tokio::test]
async fn a_402_without_a_v1_offer_carries_the_v2_challenge_in_its_body() {
    let payee = coinslot::stacks::PrivateKey::from_bytes(&[3; 32])
        .unwrap()
        .address(false)
        .to_string();
    let server = ServiceProcess::start(
        env!("CARGO_BIN_EXE_server"),
        &[
            ("PORT", "0".to_owned()),
            ("FACILITATOR_URL", "http://127.0.0.1:9".to_owned()),
            ("STACKS_PAYEE_ADDRESS", payee.clone()),
        ],
        "Server listening",
        false,
    )
    .unwrap();
    let response = reqwest::get(format!("{}/exact/stacks/stx", server.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 402);
    let header =
        PaymentRequired::from_header(response.headers()["payment-required"].as_bytes()).unwrap();
    let body: PaymentRequired = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body, header);
    assert_eq!(body.accepts[0].pay_to, payee);
}

/// Our paying client, through the server, paying on the Python reference facilitator (PyPI
/// `x402` 2.25, which refuses lower-case addresses in its simulation).
#[tokio::test]
async fn our_client_pays_the_server_in_front_of_the_python_reference_facilitator() {
    let chain = LocalChain::start().await.unwrap();
    let key = coinslot::evm::alloy::primitives::hex::encode_prefixed(
        chain.accounts().settlers[0].to_bytes(),
    );
    let facilitator =
        coinslot_testkit::reference::python_reference_facilitator(chain.rpc_url().as_ref(), &key)
            .unwrap();
    let payee = chain.accounts().payee.address();
    let server = ServiceProcess::start(
        env!("CARGO_BIN_EXE_server"),
        &[
            ("PORT", "0".to_owned()),
            ("FACILITATOR_URL", facilitator.url().to_owned()),
            ("EVM_PAYEE_ADDRESS", payee.to_checksum(None)),
        ],
        "Server listening",
        false,
    )
    .unwrap();
    let client = paying_client(&chain);
    let response = client
        .send(client.get(format!("{}/weather", server.url())))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        chain.usdc_balance(payee).await.unwrap(),
        coinslot::evm::alloy::primitives::U256::from(1000)
    );
}
