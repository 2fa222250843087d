//! Our client pays the reference server (`@x402/hono` 2.27.0), settled by our facilitator and by
//! the reference facilitator, on anvil.

use alloy::primitives::U256;
use coinslot_core::SettleResponse;
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot_facilitator::{FacilitatorApi, LocalFacilitator};
use coinslot_reqwest::{AssetLimit, Limits, Payer, PayingClient, SpendingPolicy};
use coinslot_testkit::LocalChain;
use coinslot_testkit::reference::{reference_facilitator_service, reference_server};
use reqwest::StatusCode;

async fn our_facilitator(chain: &LocalChain) -> String {
    let settler = chain.accounts().settlers[0].clone();
    let exact = ExactEvmFacilitator::connect(chain.rpc_url().as_str(), [settler])
        .await
        .unwrap();
    let local = LocalFacilitator::builder().with_scheme(exact).build();
    coinslot_testkit::serve(FacilitatorApi::new(local).into_router())
        .await
        .unwrap()
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
    let client = PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(ExactEvmClient::new(chain.accounts().payer.clone()))
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
    );
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
