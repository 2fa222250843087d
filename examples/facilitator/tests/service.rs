//! The service as an operator runs it: the binary, configured by environment and file, on the
//! local chain.

use std::process::Command;

use coinslot_core::{PaymentRequired, Price, SchemeClient as _, VerifyRequest};
use coinslot_evm::exact::ExactEvmClient;
use coinslot_stacks::PrivateKey;
use coinslot_stacks::exact::{ExactStacksClient, Sip010Token, StacksAsset, stacks_requirements};
use coinslot_stacks::network::StacksNetwork;
use coinslot_stacks::node::StacksNode;
use coinslot_testkit::stacks::{Funds, StacksDevnet, x402_stacks_server};
use coinslot_testkit::{LocalChain, ServiceProcess, USDC, exact_requirements};

/// The JSON answer to `request`.
async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    let bytes = request.send().await.unwrap().bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Starts the binary and returns it with its base URL, read from its "listening" line.
fn start(envs: &[(&str, String)]) -> (ServiceProcess, String) {
    let mut envs = envs.to_vec();
    envs.push(("PORT", "0".to_owned()));
    let service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_facilitator"),
        &envs,
        "Facilitator listening on http://127.0.0.1:",
        false,
    )
    .unwrap();
    let url = service.url().to_owned();
    (service, url)
}

/// POSTs `body` to `url` with the bearer token `k`; returns the JSON answer.
async fn post(url: &str, body: &serde_json::Value) -> serde_json::Value {
    let bytes = reqwest::Client::new()
        .post(url)
        .bearer_auth("k")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn the_service_settles_on_every_network_of_its_config_file() {
    let base = LocalChain::start().await.unwrap();
    let other = LocalChain::start_with_chain_id(31337).await.unwrap();
    let keys: Vec<String> = base.accounts().settlers[..2]
        .iter()
        .map(|k| alloy::primitives::hex::encode_prefixed(k.to_bytes()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("facilitator.json");
    let network = |chain: &LocalChain| {
        serde_json::json!({"rpcUrl": chain.rpc_url().to_string(), "assets": [USDC],
                           "receiptTimeoutSeconds": 5, "gasCaps": {"signature": 400000},
                           "eip2612GasSponsoring": true, "erc20ApprovalGasSponsoring": true})
    };
    let file = serde_json::json!({
        "store": dir.path().join("settlements.db"),
        "minimumAmount": "2000",
        "networks": [network(&base), network(&other)],
    });
    std::fs::write(&config, file.to_string()).unwrap();
    let (_service, url) = start(&[
        ("EVM_PRIVATE_KEY", keys.join(",")),
        ("FACILITATOR_API_KEY", "k".to_owned()),
        ("FACILITATOR_CONFIG", config.display().to_string()),
    ]);
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let unauthorized = client.get(format!("{url}/supported")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let supported: serde_json::Value =
        json_of(client.get(format!("{url}/supported")).bearer_auth("k")).await;
    let v2: Vec<(&str, &str)> = supported["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["x402Version"] == 2)
        .map(|k| {
            (
                k["scheme"].as_str().unwrap(),
                k["network"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        v2,
        [
            ("exact", "eip155:84532"),
            ("upto", "eip155:84532"),
            ("exact", "eip155:31337"),
            ("upto", "eip155:31337")
        ]
    );
    // `upto` payers name the first key as the facilitator that may settle; v1 has no `upto`.
    let first_key = base.accounts().settlers[0].address().to_checksum(None);
    for kind in supported["kinds"].as_array().unwrap() {
        if kind["scheme"] == "upto" {
            assert_eq!(kind["x402Version"], 2, "{kind}");
            assert_eq!(kind["extra"]["facilitatorAddress"], first_key, "{kind}");
        }
    }
    assert_eq!(
        supported["extensions"],
        serde_json::json!(["eip2612GasSponsoring", "erc20ApprovalGasSponsoring"])
    );
    assert_eq!(
        supported["signers"]["eip155:*"].as_array().unwrap().len(),
        2
    );

    // A payment on the second network settles there.
    let mut offer = exact_requirements(other.accounts().payee.address(), 5_000);
    offer.network = other.network();
    let payment = ExactEvmClient::new(other.accounts().payer.clone())
        .create_payment_payload(&offer, None)
        .await
        .unwrap();
    let request = serde_json::to_value(VerifyRequest::v2(payment, offer.clone())).unwrap();
    let settled = post(&format!("{url}/settle"), &request).await;
    assert_eq!(settled["success"], true, "{settled}");
    assert_eq!(settled["network"], "eip155:31337");
    assert_eq!(
        other
            .usdc_balance(other.accounts().payee.address())
            .await
            .unwrap(),
        alloy::primitives::U256::from(5_000)
    );

    // A payment below the configured minimum, and one in an asset outside the configured
    // list, are refused.
    let mut small = offer.clone();
    small.amount = 1_999u64.into();
    let mut foreign = offer;
    foreign.asset = alloy::primitives::Address::repeat_byte(0x55).to_checksum(None);
    for refused in [small, foreign] {
        let payment = ExactEvmClient::new(other.accounts().payer.clone())
            .create_payment_payload(&refused, None)
            .await
            .unwrap();
        let verified = post(
            &format!("{url}/verify"),
            &serde_json::to_value(VerifyRequest::v2(payment, refused)).unwrap(),
        )
        .await;
        assert_eq!(
            verified["invalidReason"], "invalid_payment_requirements",
            "{verified}"
        );
    }
}

/// A payer on `devnet` with 1 STX and 10,000 sats of sBTC, and a payee's address.
async fn stacks_parties(devnet: &StacksDevnet) -> (PrivateKey, String) {
    let payer = PrivateKey::from_bytes(&[7; 32]).unwrap();
    let payee = PrivateKey::from_bytes(&[8; 32])
        .unwrap()
        .address(false)
        .to_string();
    let funds = Funds {
        stx: 1_000_000,
        sbtc: 10_000,
        usdcx: 0,
    };
    devnet
        .fund(&payer.address(false).to_string(), funds)
        .await
        .unwrap();
    (payer, payee)
}

#[tokio::test]
async fn a_stacks_only_service_settles_on_the_devnet() {
    let devnet = StacksDevnet::start_testnet().await.unwrap();
    let (payer, payee) = stacks_parties(&devnet).await;
    let (_service, url) = start(&[
        ("FACILITATOR_API_KEY", "k".to_owned()),
        ("STACKS_NODE_URL", devnet.url().to_owned()),
    ]);
    let supported: serde_json::Value = json_of(
        reqwest::Client::new()
            .get(format!("{url}/supported"))
            .bearer_auth("k"),
    )
    .await;
    assert_eq!(
        supported["kinds"][0]["network"], "stacks:2147483648",
        "{supported}"
    );

    let offer = stacks_requirements(
        StacksNetwork::Testnet,
        &StacksAsset::Sip010(Sip010Token::sbtc_testnet()),
        &payee,
        &Price::parse("0.00001").unwrap(),
    )
    .unwrap();
    let client = ExactStacksClient::new(payer, StacksNetwork::Testnet)
        .with_node(StacksNode::new(devnet.url()));
    let payment = client.create_payment_payload(&offer, None).await.unwrap();
    let request = serde_json::to_value(VerifyRequest::v2(payment, offer)).unwrap();
    let verified = post(&format!("{url}/verify"), &request).await;
    assert_eq!(verified["isValid"], true, "{verified}");
    let settled = post(&format!("{url}/settle"), &request).await;
    assert_eq!(settled["success"], true, "{settled}");
    assert_eq!(settled["network"], "stacks:2147483648");
    assert_eq!(devnet.balances(&payee).await.unwrap().sbtc, 1_000);
}

/// The x402-stacks server middleware settles without verifying, and serves whenever the
/// settle answers success: it relies on a second settle of a payment failing. In front of
/// the service, one payment replayed, even many times at once, is served once.
#[tokio::test]
async fn a_settle_only_server_in_front_of_the_service_serves_a_payment_once() {
    let devnet = StacksDevnet::start_testnet().await.unwrap();
    let (payer, payee) = stacks_parties(&devnet).await;
    let (_service, url) = start(&[("STACKS_NODE_URL", devnet.url().to_owned())]);
    let server = x402_stacks_server(&devnet, &url, &payee, 1_000).unwrap();
    let http = reqwest::Client::new();
    let paid = format!("{}/paid", server.url());

    let unpaid = http.get(&paid).send().await.unwrap();
    assert_eq!(unpaid.status(), 402);
    let required =
        PaymentRequired::from_header(unpaid.headers()["payment-required"].as_bytes()).unwrap();
    let payment = ExactStacksClient::new(payer, StacksNetwork::Testnet)
        .with_node(StacksNode::new(devnet.url()))
        .create_payment_payload(&required.accepts[0], Some(&required.resource))
        .await
        .unwrap()
        .to_header()
        .unwrap();
    let get = || http.get(&paid).header("payment-signature", &payment).send();

    let first = get().await.unwrap();
    assert_eq!(first.status(), 200, "{:?}", first.text().await);
    let replays = futures_util::future::join_all((0..8).map(|_| get())).await;
    for replay in replays {
        let replay = replay.unwrap();
        assert_eq!(replay.status(), 402);
        let body: serde_json::Value =
            serde_json::from_slice(&replay.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"], "duplicate_settlement", "{body}");
        assert!(!body["transaction"].as_str().unwrap().is_empty(), "{body}");
    }
    let served: serde_json::Value = json_of(http.get(format!("{}/served", server.url()))).await;
    assert_eq!(served["served"], 1, "one payment, served once");
    assert_eq!(devnet.balances(&payee).await.unwrap().stx, 1_000);
}

#[test]
fn a_missing_key_is_a_clear_error_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_facilitator"))
        .env_remove("EVM_PRIVATE_KEY")
        .env_remove("STACKS_NODE_URL")
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("EVM_PRIVATE_KEY is required"), "{stderr}");
}
