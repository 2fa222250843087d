//! Paid requests end to end on anvil: a real facilitator (in-process and over HTTP), a real
//! server on loopback, payments signed by coinslot-evm's client.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider as _;
use alloy::sol_types::SolEvent as _;
use axum::Router;
use axum::routing::get;
use coinslot_core::v1::{PaymentPayloadV1, SettleResponseV1};
use coinslot_core::{PaymentRequired, PaymentRequirements, SchemeClient as _, SettleResponse};
use coinslot_evm::exact::ExactEvmClient;
use coinslot_testkit::LocalChain;
use coinslot_testkit::bindings::TestUsdc;
use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::common::{
    PRICE, Server, http_facilitator, local_facilitator, offer, serve, serve_with, usdc,
};

async fn signed(chain: &LocalChain, offer: &PaymentRequirements) -> String {
    ExactEvmClient::new(chain.accounts().payer.clone())
        .create_payment_payload(offer, None)
        .await
        .unwrap()
        .to_header()
        .unwrap()
}

async fn get_paid(server: &Server, path: &str, header: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", server.url))
        .header("payment-signature", header)
        .send()
        .await
        .unwrap()
}

fn receipt(response: &reqwest::Response) -> SettleResponse {
    SettleResponse::from_header(response.headers()["payment-response"].as_bytes()).unwrap()
}

fn refusal(response: &reqwest::Response) -> String {
    PaymentRequired::from_header(response.headers()["payment-required"].as_bytes())
        .unwrap()
        .error
        .unwrap()
}

/// The USDC moved to the payee by the transaction `hash`, read from its receipt's logs.
async fn paid_to_payee(chain: &LocalChain, hash: &str) -> U256 {
    let receipt = chain
        .provider()
        .get_transaction_receipt(hash.parse::<B256>().unwrap())
        .await
        .unwrap()
        .expect("the receipt names a mined transaction");
    assert!(receipt.status());
    receipt
        .inner
        .logs()
        .iter()
        .filter_map(|log| TestUsdc::Transfer::decode_log_data(log.data()).ok())
        .filter(|t| t.to == chain.accounts().payee.address())
        .map(|t| t.value)
        .sum()
}

async fn settler_transactions(chain: &LocalChain) -> u64 {
    let mut sent = 0;
    for settler in &chain.accounts().settlers {
        sent += chain
            .provider()
            .get_transaction_count(settler.address())
            .await
            .unwrap();
    }
    sent
}

#[tokio::test]
async fn pays_with_the_facilitator_in_process_and_over_http() {
    let chain = LocalChain::start().await.unwrap();
    let payer = chain.accounts().payer.address();
    let payee = chain.accounts().payee.address();
    let servers = [
        serve(&chain, local_facilitator(&chain).await).await,
        serve(&chain, http_facilitator(&chain).await).await,
    ];
    for server in &servers {
        let challenge = reqwest::get(format!("{}/paid", server.url)).await.unwrap();
        assert_eq!(challenge.status(), StatusCode::PAYMENT_REQUIRED);
        let offered =
            PaymentRequired::from_header(challenge.headers()["payment-required"].as_bytes())
                .unwrap();
        let (payer_before, payee_before) = (usdc(&chain, payer).await, usdc(&chain, payee).await);

        let response = get_paid(server, "/paid", &signed(&chain, &offered.accepts[0]).await).await;
        assert_eq!(response.status(), StatusCode::OK);
        let settled = receipt(&response);
        assert!(settled.success);
        assert_eq!(
            settled.payer.as_deref(),
            Some(payer.to_checksum(None).as_str())
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["payer"], payer.to_checksum(None));
        assert_eq!(body["amount"], PRICE.to_string());
        assert_eq!(body["settled"], false);

        assert_eq!(
            paid_to_payee(&chain, settled.transaction()).await,
            U256::from(PRICE)
        );
        assert_eq!(usdc(&chain, payee).await - payee_before, U256::from(PRICE));
        assert_eq!(payer_before - usdc(&chain, payer).await, U256::from(PRICE));
    }
    assert_eq!(servers.iter().map(Server::hits).sum::<usize>(), 2);
}

#[tokio::test]
async fn pays_in_v1_with_x_payment() {
    let chain = LocalChain::start().await.unwrap();
    let server = serve(&chain, local_facilitator(&chain).await).await;
    let payee_before = usdc(&chain, chain.accounts().payee.address()).await;
    let payment = ExactEvmClient::new(chain.accounts().payer.clone())
        .create_payment_payload(&offer(&chain), None)
        .await
        .unwrap();
    let header = PaymentPayloadV1::from_v2(&payment)
        .unwrap()
        .to_header()
        .unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/paid", server.url))
        .header("x-payment", header)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("payment-response").is_none());
    let settled =
        SettleResponseV1::from_header(response.headers()["x-payment-response"].as_bytes()).unwrap();
    assert!(settled.success);
    assert_eq!(settled.network, "base-sepolia");
    assert_eq!(
        paid_to_payee(&chain, settled.transaction.as_deref().unwrap()).await,
        U256::from(PRICE)
    );
    assert_eq!(
        usdc(&chain, chain.accounts().payee.address()).await - payee_before,
        U256::from(PRICE)
    );
}

#[tokio::test]
async fn one_payment_runs_the_handler_once() {
    let chain = LocalChain::start().await.unwrap();
    let server = serve(&chain, local_facilitator(&chain).await).await;
    let payee = chain.accounts().payee.address();

    // Sent again after it was used.
    let header = signed(&chain, &offer(&chain)).await;
    assert_eq!(
        get_paid(&server, "/paid", &header).await.status(),
        StatusCode::OK
    );
    let again = get_paid(&server, "/paid", &header).await;
    assert_eq!(again.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(refusal(&again), "duplicate_settlement");
    assert_eq!(server.hits(), 1);

    // Sent 20 times at once.
    let (payee_before, sent_before) = (
        usdc(&chain, payee).await,
        settler_transactions(&chain).await,
    );
    let header = signed(&chain, &offer(&chain)).await;
    let responses = join_all((0..20).map(|_| get_paid(&server, "/paid", &header))).await;
    let ok = responses
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(ok, 1);
    for refused in responses.iter().filter(|r| r.status() != StatusCode::OK) {
        assert_eq!(refused.status(), StatusCode::PAYMENT_REQUIRED);
        assert!(!refusal(refused).is_empty());
    }
    assert_eq!(server.hits(), 2);
    assert_eq!(usdc(&chain, payee).await - payee_before, U256::from(PRICE));
    assert_eq!(settler_transactions(&chain).await - sent_before, 1);
}

#[tokio::test]
async fn a_hundred_concurrent_payments_settle_a_hundred_transfers() {
    let chain = LocalChain::start().await.unwrap();
    let server = serve(&chain, local_facilitator(&chain).await).await;
    let payee = chain.accounts().payee.address();
    let payee_before = usdc(&chain, payee).await;
    let offer = offer(&chain);
    let headers = join_all((0..100).map(|_| signed(&chain, &offer))).await;
    let responses = join_all(headers.iter().map(|h| get_paid(&server, "/paid", h))).await;

    let mut hashes = std::collections::HashSet::new();
    let mut paid = U256::ZERO;
    for response in &responses {
        assert_eq!(response.status(), StatusCode::OK);
        let settled = receipt(response);
        assert!(
            hashes.insert(settled.transaction().to_owned()),
            "one transaction per payment"
        );
        paid += paid_to_payee(&chain, settled.transaction()).await;
    }
    assert_eq!(hashes.len(), 100);
    assert_eq!(paid, U256::from(100 * PRICE));
    assert_eq!(usdc(&chain, payee).await - payee_before, paid);
    assert_eq!(server.hits(), 100);
}

#[tokio::test]
async fn a_failing_handler_is_not_charged() {
    let chain = LocalChain::start().await.unwrap();
    let server = serve(&chain, local_facilitator(&chain).await).await;
    let payer = chain.accounts().payer.address();
    let (before, sent) = (
        usdc(&chain, payer).await,
        settler_transactions(&chain).await,
    );
    let response = get_paid(&server, "/fails", &signed(&chain, &offer(&chain)).await).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().get("payment-response").is_none());
    assert_eq!(response.text().await.unwrap(), "the handler failed");
    assert_eq!(usdc(&chain, payer).await, before);
    assert_eq!(settler_transactions(&chain).await, sent);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_failed_settlement_serves_no_content() {
    let chain = LocalChain::start().await.unwrap();
    // The handler empties the payer's account while it runs, so the settlement cannot pay.
    let drain = {
        let usdc = TestUsdc::new(
            coinslot_testkit::USDC,
            chain.provider_for(&chain.accounts().payer),
        );
        let payer = chain.accounts().payer.address();
        Router::new().route(
            "/paid/drain",
            get(move || {
                let usdc = usdc.clone();
                async move {
                    let balance = usdc.balanceOf(payer).call().await.unwrap();
                    usdc.transfer(Address::repeat_byte(0xdd), balance)
                        .send()
                        .await
                        .unwrap()
                        .watch()
                        .await
                        .unwrap();
                    "the secret content"
                }
            }),
        )
    };
    let server = serve_with(&chain, local_facilitator(&chain).await, drain).await;
    let payee_before = usdc(&chain, chain.accounts().payee.address()).await;
    let response = get_paid(
        &server,
        "/paid/drain",
        &signed(&chain, &offer(&chain)).await,
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED);
    let settled = receipt(&response);
    assert!(!settled.success);
    assert!(settled.error_reason.is_some());
    assert_eq!(refusal(&response), settled.error_reason.unwrap().as_str());
    assert!(!response.text().await.unwrap().contains("secret"));
    assert_eq!(
        usdc(&chain, chain.accounts().payee.address()).await,
        payee_before
    );
}

#[tokio::test]
async fn settle_before_handler_gives_the_handler_its_receipt() {
    let chain = LocalChain::start().await.unwrap();
    let server = serve(&chain, http_facilitator(&chain).await).await;
    let response = get_paid(&server, "/before", &signed(&chain, &offer(&chain)).await).await;
    assert_eq!(response.status(), StatusCode::OK);
    let settled = receipt(&response);
    assert_eq!(response.text().await.unwrap(), settled.transaction());
    assert_eq!(
        paid_to_payee(&chain, settled.transaction()).await,
        U256::from(PRICE)
    );
}

#[tokio::test]
async fn a_facilitator_lost_before_settlement_serves_nothing_and_charges_nothing() {
    let chain = LocalChain::start().await.unwrap();
    // The facilitator's HTTP service, which the handler shuts down while it runs: verify has
    // answered, settle finds nobody.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stop = std::sync::Arc::new(std::sync::Mutex::new(Some(stop)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let facilitator_url = format!("http://{}", listener.local_addr().unwrap());
    let api = coinslot_facilitator::FacilitatorApi::new(local_facilitator(&chain).await);
    let service = tokio::spawn(async move {
        axum::serve(listener, api.into_router())
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    let facilitator = coinslot_facilitator::HttpFacilitator::new(&facilitator_url).unwrap();
    let stopping = Router::new().route(
        "/paid/stop-facilitator",
        get(move || {
            let stop = stop.lock().unwrap().take();
            async move {
                if let Some(stop) = stop {
                    let _ = stop.send(());
                }
                "the secret content"
            }
        }),
    );
    let server = serve_with(&chain, facilitator, stopping).await;
    let payer = chain.accounts().payer.address();
    let before = usdc(&chain, payer).await;
    let header = signed(&chain, &offer(&chain)).await;
    let response = get_paid(&server, "/paid/stop-facilitator", &header).await;
    service.await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(response.headers().get("payment-response").is_none());
    let body = response.text().await.unwrap();
    assert!(body.contains("could not be settled"), "{body}");
    assert!(!body.contains("secret"));
    assert_eq!(usdc(&chain, payer).await, before);
    assert_eq!(settler_transactions(&chain).await, 0);
}

#[tokio::test]
async fn two_encodings_of_one_signature_run_one_handler() {
    let chain = LocalChain::start().await.unwrap();
    let in_process = local_facilitator(&chain).await;
    let remote = http_facilitator(&chain).await;
    two_encodings_run_one_handler(&chain, in_process).await;
    two_encodings_run_one_handler(&chain, remote).await;
}

async fn two_encodings_run_one_handler(
    chain: &LocalChain,
    facilitator: impl coinslot_core::Facilitator + 'static,
) {
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    let slow = Router::new().route(
        "/paid/slow",
        get(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async {
                tokio::time::sleep(std::time::Duration::from_millis(400)).await;
                "content"
            }
        }),
    );
    let server = serve_with(chain, facilitator, slow).await;
    let payee_before = usdc(chain, chain.accounts().payee.address()).await;

    // The same authorization with `v` as 27/28 and as 0/1: both verify, they are one payment.
    let first = signed(chain, &offer(chain)).await;
    let mut payment = coinslot_core::PaymentPayload::from_header(&first).unwrap();
    let signature = payment.payload["signature"].as_str().unwrap().to_owned();
    let v = u8::from_str_radix(&signature[signature.len() - 2..], 16).unwrap();
    let other = format!("{}{:02x}", &signature[..signature.len() - 2], v - 27);
    payment.payload.insert("signature".into(), other.into());
    let second = payment.to_header().unwrap();

    let (a, b) = tokio::join!(get_paid(&server, "/paid/slow", &first), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        get_paid(&server, "/paid/slow", &second).await
    });
    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!(b.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(refusal(&b), "duplicate_settlement");
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        usdc(chain, chain.accounts().payee.address()).await - payee_before,
        U256::from(PRICE)
    );
}
