//! The reference clients pay our server: `@x402/fetch` 2.27.0 (v2, `exact` by EIP-3009 and
//! Permit2, and metered `upto`) and the legacy `x402-fetch` 1.2.0 (v1), on anvil, through our
//! facilitator.

use alloy::primitives::U256;
use coinslot_testkit::reference::{ReferenceClient, reference_fetch};
use coinslot_testkit::{LocalChain, USDC};

use crate::common::{PRICE, local_facilitator, serve, usdc};
use crate::metered::MAXIMUM;

#[tokio::test]
async fn the_reference_clients_pay_our_server() {
    let chain = LocalChain::start().await.unwrap();
    let server = serve(&chain, local_facilitator(&chain).await).await;
    let payee = chain.accounts().payee.address();
    let key = alloy::hex::encode_prefixed(chain.accounts().payer.to_bytes());
    for (client, network) in [
        (ReferenceClient::FetchV2, "eip155:84532"),
        (ReferenceClient::FetchV1, "base-sepolia"),
    ] {
        let before = usdc(&chain, payee).await;
        let outcome = reference_fetch(client, &key, &format!("{}/paid", server.url))
            .await
            .unwrap();
        assert_eq!(outcome["status"], 200, "{client:?}: {outcome}");
        let receipt = &outcome["paymentResponse"];
        assert_eq!(receipt["success"], true, "{client:?}: {outcome}");
        assert_eq!(receipt["network"], network);
        assert!(receipt["transaction"].as_str().unwrap().starts_with("0x"));
        let body: serde_json::Value =
            serde_json::from_str(outcome["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            body["payer"],
            chain.accounts().payer.address().to_checksum(None)
        );
        assert_eq!(
            usdc(&chain, payee).await - before,
            U256::from(PRICE),
            "{client:?}"
        );
    }
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn the_reference_client_pays_our_permit2_and_metered_routes() {
    let chain = LocalChain::start().await.unwrap();
    let payer = &chain.accounts().payer;
    chain.approve_permit2(payer, USDC).await.unwrap();
    let (url, _) = crate::metered::serve(&chain).await;
    let payee = chain.accounts().payee.address();
    let key = alloy::hex::encode_prefixed(payer.to_bytes());
    for (path, charged) in [("/permit2", MAXIMUM), ("/meter/typed?charge=700", 700)] {
        let before = usdc(&chain, payee).await;
        let outcome = reference_fetch(ReferenceClient::FetchV2, &key, &format!("{url}{path}"))
            .await
            .unwrap();
        assert_eq!(outcome["status"], 200, "{path}: {outcome}");
        let receipt = &outcome["paymentResponse"];
        assert_eq!(receipt["success"], true, "{path}: {outcome}");
        assert_eq!(receipt["amount"], charged.to_string(), "{path}: {outcome}");
        assert_eq!(
            usdc(&chain, payee).await - before,
            U256::from(charged),
            "{path}"
        );
    }
}
