//! Our client pays the reference server (`@x402/hono` 2.27.0), settled by our facilitator and by
//! the reference facilitator, on anvil.

use std::sync::Arc;

use alloy::primitives::U256;
use coinslot_core::{SettleResponse, TokenAmount};
use coinslot_evm::EvmChain;
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot_evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot_facilitator::{FacilitatorApi, LocalFacilitator};
use coinslot_reqwest::{AssetLimit, Limits, Payer, PayingClient, SpendingPolicy};
use coinslot_testkit::reference::{
    reference_facilitator_service, reference_server, reference_server_in_process,
};
use coinslot_testkit::{LocalChain, USDC};
use reqwest::StatusCode;

/// Our facilitator, `exact` and `upto` on the local chain, behind its HTTP API.
async fn our_facilitator(chain: &LocalChain) -> String {
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

/// The payer, paying `exact` and `upto` up to a cent a request in the local USDC.
fn paying_client(chain: &LocalChain) -> PayingClient {
    let payer = chain.accounts().payer.clone();
    PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(ExactEvmClient::new(payer.clone()))
            .with_wallet(UptoEvmClient::new(payer))
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
async fn our_client_pays_the_reference_server() {
    let chain = LocalChain::start().await.unwrap();
    let payee = chain.accounts().payee.address();
    let reference_facilitator = reference_facilitator_service(
        chain.rpc_url().as_str(),
        &alloy::hex::encode_prefixed(chain.accounts().settlers[1].to_bytes()),
    )
    .unwrap();
    let client = paying_client(&chain);
    for facilitator_url in [
        our_facilitator(&chain).await,
        reference_facilitator.url().to_owned(),
    ] {
        let server = reference_server(&payee.to_checksum(None), &facilitator_url).unwrap();
        let before = chain.usdc_balance(payee).await.unwrap();
        let response = client
            .send(client.get(format!("{}/weather", server.url())))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "settled by {facilitator_url}"
        );
        let receipt = response
            .extensions()
            .get::<SettleResponse>()
            .cloned()
            .unwrap();
        assert!(receipt.success);
        assert!(receipt.transaction().starts_with("0x"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["from"], "@x402/hono");
        assert_eq!(
            chain.usdc_balance(payee).await.unwrap() - before,
            U256::from(1000)
        );
    }
}

/// The reference server's Permit2 routes, settled by its own facilitator in-process and by ours:
/// `exact` through Permit2 moves its price, the metered `upto` the 700 its handler names of the
/// 1000 signed, and our budget spends what the receipts say.
#[tokio::test]
async fn our_client_pays_the_reference_servers_permit2_and_upto_routes() {
    let chain = LocalChain::start().await.unwrap();
    let payee = chain.accounts().payee.address().to_checksum(None);
    chain
        .approve_permit2(&chain.accounts().payer, USDC)
        .await
        .unwrap();
    let client = paying_client(&chain);
    let theirs = reference_server_in_process(
        &payee,
        chain.rpc_url().as_str(),
        &alloy::hex::encode_prefixed(chain.accounts().settlers[1].to_bytes()),
    )
    .unwrap();
    let ours = reference_server(&payee, &our_facilitator(&chain).await).unwrap();
    let mut spent = U256::ZERO;
    for server in [&theirs, &ours] {
        for (path, charged) in [("/exact/evm/permit2", 1000u64), ("/upto/evm/permit2", 700)] {
            let before = chain.usdc_balance(payee.parse().unwrap()).await.unwrap();
            let response = client
                .send(client.get(format!("{}{path}", server.url())))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let receipt = response.extensions().get::<SettleResponse>().unwrap();
            assert!(receipt.success, "{path}: {receipt:?}");
            assert_eq!(
                chain.usdc_balance(payee.parse().unwrap()).await.unwrap() - before,
                U256::from(charged),
                "{path}"
            );
            spent += U256::from(charged);
            let budget = client.payer().spent();
            assert_eq!(
                budget[0].amount,
                TokenAmount::from(spent).to_decimal_string(6),
                "{path}"
            );
        }
    }
}
