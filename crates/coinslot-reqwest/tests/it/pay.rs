//! Paying through the middleware and the plain client: balances move by exactly the price, and
//! the receipt names the real transaction.

use alloy::primitives::{B256, U256};
use alloy::providers::Provider as _;
use coinslot_core::SettleResponse;
use coinslot_reqwest::{AssetLimit, Limits, Payer, PayingClient, SpendingPolicy};
use coinslot_testkit::LocalChain;
use reqwest::StatusCode;
use reqwest_middleware::ClientBuilder;

use crate::{Counted, PRICE, server};

fn payer(wallet: Counted) -> Payer {
    Payer::builder()
        .with_wallet(wallet)
        .with_policy(
            SpendingPolicy::new().allow(
                AssetLimit::usdc_base_sepolia(Limits {
                    per_request: "0.01",
                    budget: "1",
                })
                .unwrap(),
            ),
        )
        .build()
}

async fn check_settled(chain: &LocalChain, receipt: &SettleResponse) {
    assert!(receipt.success);
    let mined = chain
        .provider()
        .get_transaction_receipt(receipt.transaction().parse::<B256>().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(mined.status());
}

#[tokio::test]
async fn the_middleware_and_the_client_pay_exactly_the_price() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let (payer_address, payee) = (
        chain.accounts().payer.address(),
        chain.accounts().payee.address(),
    );
    let wallet = Counted::new(&chain);

    let middleware = ClientBuilder::new(reqwest::Client::new())
        .with(payer(wallet.clone()))
        .build();
    let plain = PayingClient::new(reqwest::Client::new(), payer(wallet.clone()));
    let payee_before = chain.usdc_balance(payee).await.unwrap();
    let payer_before = chain.usdc_balance(payer_address).await.unwrap();

    let response = middleware.get(format!("{url}/paid")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    check_settled(
        &chain,
        response.extensions().get::<SettleResponse>().unwrap(),
    )
    .await;
    assert_eq!(response.text().await.unwrap(), "content");

    let response = plain
        .send(plain.post(format!("{url}/upload")).body("twelve bytes"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    check_settled(
        &chain,
        response.extensions().get::<SettleResponse>().unwrap(),
    )
    .await;
    assert_eq!(response.text().await.unwrap(), "got 12 bytes");
    assert_eq!(plain.payer().spent()[0].amount, "0.01");

    assert_eq!(wallet.signed(), 2);
    assert_eq!(
        chain.usdc_balance(payee).await.unwrap() - payee_before,
        U256::from(2 * PRICE)
    );
    assert_eq!(
        payer_before - chain.usdc_balance(payer_address).await.unwrap(),
        U256::from(2 * PRICE)
    );

    // A free answer is passed on as it is, with nothing signed.
    let response = plain
        .send(plain.get(format!("{url}/nothing-here")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(wallet.signed(), 2);
}

#[tokio::test]
async fn a_body_that_cannot_be_replayed_is_refused_before_signing() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let wallet = Counted::new(&chain);
    let client = PayingClient::new(reqwest::Client::new(), payer(wallet.clone()));
    let stream =
        futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"data"))]);
    let request = client
        .post(format!("{url}/upload"))
        .body(reqwest::Body::wrap_stream(stream));
    let error = client.send(request).await.unwrap_err();
    assert!(
        matches!(error, coinslot_reqwest::Error::BodyNotReplayable),
        "{error}"
    );
    assert_eq!(wallet.signed(), 0);
}
