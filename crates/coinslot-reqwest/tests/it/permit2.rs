//! Permit2 and `upto` through the paying client: a metered payment reserves its maximum in the
//! budget and spends what the receipt says was charged; the cap applies to the maximum; a payer
//! without a Permit2 allowance gets a typed error, pays once it has approved.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use axum::Router;
use axum::routing::get;
use coinslot_core::{Charge, SchemeClient, SettleResponse, TokenAmount};
use coinslot_evm::EvmChain;
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot_evm::permit2;
use coinslot_evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot_facilitator::LocalFacilitator;
use coinslot_reqwest::{
    AssetLimit, Error, Limits, Payer, PayingClient, RefusalReason, SpendingPolicy,
};
use coinslot_testkit::{LocalChain, USDC, permit2_requirements, upto_requirements};
use coinslot_tower::{PaidRoute, PaymentLayer};
use reqwest::StatusCode;

/// The most a metered request costs: 0.01 USDC.
const MAXIMUM: u64 = 10_000;
/// What it is charged: 0.0025 USDC.
const CHARGE: u64 = 2_500;

/// Our server: `/metered` up to [`MAXIMUM`] charging [`CHARGE`], `/permit2` an `exact`
/// payment of [`MAXIMUM`] through Permit2, `/sponsored` the same offering
/// `eip2612GasSponsoring` (its facilitator submits payers' EIP-2612 permits), and
/// `/metered/gasless` the metered one offering `erc20ApprovalGasSponsoring` (its facilitator
/// funds and broadcasts payers' signed approvals).
async fn server(chain: &LocalChain) -> String {
    let evm = EvmChain::builder(chain.provider().clone())
        .with_receipt_timeout(Duration::from_secs(20))
        .with_signers(chain.accounts().settlers.clone())
        .build()
        .await
        .unwrap();
    let evm = Arc::new(evm);
    let upto = UptoEvmFacilitator::new(Arc::clone(&evm)).with_erc20_approval_gas_sponsoring();
    let payee = chain.accounts().payee.address();
    let metered = upto_requirements(payee, USDC, MAXIMUM, upto.facilitator_address());
    let facilitator = LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(evm).with_eip2612_gas_sponsoring())
        .with_scheme(upto)
        .build();
    // USDC through Permit2, naming its EIP-712 domain, and offering EIP-2612 sponsorship.
    let mut sponsored = permit2_requirements(payee, USDC, MAXIMUM);
    if let Some(extra) = sponsored.extra.as_mut() {
        extra.insert("name".into(), "USDC".into());
        extra.insert("version".into(), "2".into());
    }
    let port = coinslot_testkit::Loopback::bind().await.unwrap();
    let layer = PaymentLayer::builder(facilitator, port.url())
        .with_route(PaidRoute::get("/metered").accepts(metered.clone()))
        .with_route(
            PaidRoute::get("/metered/gasless")
                .accepts(metered)
                .with_extensions(permit2::erc20_approval_declaration()),
        )
        .with_route(PaidRoute::get("/permit2").accepts(permit2_requirements(payee, USDC, MAXIMUM)))
        .with_route(
            PaidRoute::get("/sponsored")
                .accepts(sponsored)
                .with_extensions(permit2::eip2612_declaration()),
        )
        .build()
        .unwrap();
    let charged = || async {
        let mut response = axum::response::IntoResponse::into_response("a few words");
        response
            .extensions_mut()
            .insert(Charge::from(TokenAmount::from(CHARGE)));
        response
    };
    let app = Router::new()
        .route("/metered", get(charged))
        .route("/metered/gasless", get(charged))
        .route("/permit2", get(|| async { "content" }))
        .route("/sponsored", get(|| async { "content" }))
        .layer(layer);
    port.serve(app)
}

fn usdc_limit(per_request: &str, budget: &str) -> SpendingPolicy {
    SpendingPolicy::new().allow(
        AssetLimit::usdc_base_sepolia(Limits {
            per_request,
            budget,
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn a_metered_payment_reserves_its_maximum_and_spends_its_charge() {
    let chain = LocalChain::start().await.unwrap();
    let payer = chain.accounts().payer.clone();
    // The one-time approval, as an agent holding gas sends it.
    permit2::approve(&chain.provider_for(&payer), USDC, U256::MAX)
        .await
        .unwrap();
    assert_eq!(
        permit2::allowance(chain.provider(), USDC, payer.address())
            .await
            .unwrap(),
        U256::MAX
    );
    let url = server(&chain).await;
    let client = PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(UptoEvmClient::new(payer.clone()))
            .with_policy(usdc_limit("0.01", "0.015"))
            .build(),
    );
    let payee_before = chain
        .usdc_balance(chain.accounts().payee.address())
        .await
        .unwrap();

    // Each call holds 0.01 while in flight and spends 0.0025: three fit in a budget of 0.015,
    // which would allow one if the maximum were spent.
    for spent in ["0.0025", "0.005", "0.0075"] {
        let response = client
            .send(client.get(format!("{url}/metered")))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let receipt = response.extensions().get::<SettleResponse>().unwrap();
        assert_eq!(receipt.amount, Some(TokenAmount::from(CHARGE)));
        assert_eq!(client.payer().spent()[0].amount, spent);
    }
    assert_eq!(
        chain
            .usdc_balance(chain.accounts().payee.address())
            .await
            .unwrap()
            - payee_before,
        U256::from(3 * CHARGE)
    );

    // With 0.0075 left, a maximum of 0.01 is refused before anything is signed.
    let error = client
        .send(client.get(format!("{url}/metered")))
        .await
        .unwrap_err();
    let Error::NoAcceptableOffer { refusals } = &error else {
        panic!("{error}")
    };
    assert!(
        matches!(refusals[0].reason, RefusalReason::OverBudget { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn the_cap_per_request_applies_to_the_maximum_signed() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let client = PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(UptoEvmClient::new(chain.accounts().payer.clone()))
            .with_policy(usdc_limit("0.005", "1"))
            .build(),
    );
    let error = client
        .send(client.get(format!("{url}/metered")))
        .await
        .unwrap_err();
    let Error::NoAcceptableOffer { refusals } = &error else {
        panic!("{error}")
    };
    assert!(
        matches!(refusals[0].reason, RefusalReason::OverRequestCap { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn without_a_permit2_allowance_the_client_stops_with_a_typed_error_then_pays() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let payer = chain.accounts().others[0].clone();
    chain
        .mint_usdc(payer.address(), U256::from(MAXIMUM))
        .await
        .unwrap();
    let client = PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(ExactEvmClient::new(payer.clone()))
            .with_policy(usdc_limit("0.01", "1"))
            .build(),
    );

    let error = client
        .send(client.get(format!("{url}/permit2")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Permit2AllowanceRequired { .. }),
        "{error}"
    );
    assert_eq!(client.payer().spent()[0].amount, "0");

    permit2::approve(&chain.provider_for(&payer), USDC, U256::MAX)
        .await
        .unwrap();
    let response = client
        .send(client.get(format!("{url}/permit2")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(client.payer().spent()[0].amount, "0.01");
    assert_eq!(
        chain.usdc_balance(payer.address()).await.unwrap(),
        U256::ZERO
    );
}

/// A payer with USDC worth [`MAXIMUM`], no ether and no allowance, paying through `wallet`
/// (built for it), within a cent a request.
async fn gasless_payer<W: SchemeClient + 'static>(
    chain: &LocalChain,
    wallet: impl FnOnce(PrivateKeySigner) -> W,
) -> (PrivateKeySigner, PayingClient) {
    let payer = PrivateKeySigner::random();
    chain
        .mint_usdc(payer.address(), U256::from(MAXIMUM))
        .await
        .unwrap();
    let client = PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(wallet(payer.clone()))
            .with_policy(usdc_limit("0.01", "1"))
            .build(),
    );
    (payer, client)
}

#[tokio::test]
async fn a_payer_without_gas_or_allowance_pays_a_route_that_sponsors_its_permit() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let (payer, client) = gasless_payer(&chain, |payer| {
        ExactEvmClient::new(payer).with_provider(chain.provider().clone())
    })
    .await;
    let response = client
        .send(client.get(format!("{url}/sponsored")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        chain.usdc_balance(payer.address()).await.unwrap(),
        U256::ZERO
    );
    assert_eq!(client.payer().spent()[0].amount, "0.01");

    // Where the route does not offer it, the same payer stops at the allowance.
    chain
        .mint_usdc(payer.address(), U256::from(MAXIMUM))
        .await
        .unwrap();
    let error = client
        .send(client.get(format!("{url}/permit2")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Permit2AllowanceRequired { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_payer_without_gas_or_allowance_pays_a_metered_route_that_sponsors_its_approval() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let (payer, client) = gasless_payer(&chain, |payer| {
        UptoEvmClient::new(payer).with_provider(chain.provider().clone())
    })
    .await;
    let response = client
        .send(client.get(format!("{url}/metered/gasless")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        chain.usdc_balance(payer.address()).await.unwrap(),
        U256::from(MAXIMUM - CHARGE)
    );
    assert_eq!(client.payer().spent()[0].amount, "0.0025");
    assert_eq!(
        permit2::allowance(chain.provider(), USDC, payer.address())
            .await
            .unwrap(),
        U256::MAX,
        "its approval landed"
    );

    // Approved now: the next call signs no approval and pays as any other (with the balance
    // for its maximum again).
    chain
        .mint_usdc(payer.address(), U256::from(CHARGE))
        .await
        .unwrap();
    let response = client
        .send(client.get(format!("{url}/metered/gasless")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(client.payer().spent()[0].amount, "0.005");
}
