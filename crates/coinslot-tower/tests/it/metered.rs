//! Metered (`upto`) routes end to end on anvil: the payer signs a maximum, the handler names
//! what the request cost (a typed [`Charge`] or the reference's `Settlement-Overrides` header,
//! which never reaches the client), and exactly that moves; a charge the handler cannot justify
//! is its error and moves nothing; a payer without a Permit2 allowance gets a 412.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::U256;
use axum::Router;
use axum::extract::{Extension, Path};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse as _;
use axum::routing::get;
use coinslot_core::{
    Charge, PaymentRequired, PaymentRequirements, SchemeClient as _, SettleResponse, TokenAmount,
};
use coinslot_evm::EvmChain;
use coinslot_evm::exact::ExactEvmFacilitator;
use coinslot_evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot_facilitator::LocalFacilitator;
use coinslot_testkit::{LocalChain, Loopback, USDC, permit2_requirements, upto_requirements};
use coinslot_tower::{PaidRoute, PaymentLayer, VerifiedPayment};
use futures_util::future::join_all;

/// The most a request may cost: 0.01 USDC.
pub(crate) const MAXIMUM: u64 = 10_000;

/// The `charge` query parameter, as the handler is asked to write it (`%25` is `%`).
fn charge_of(uri: &Uri) -> Option<String> {
    let charge = uri.query()?.strip_prefix("charge=")?;
    Some(charge.replace("%25", "%"))
}

/// A server with one metered route, `/meter/{how}`: `typed` names `?charge=` as a typed
/// [`Charge`], `header` in `Settlement-Overrides`, `none` names nothing, `fails` names a
/// charge and answers 500; and `/permit2`, [`MAXIMUM`] in `exact` through Permit2. Returns its
/// URL and the metered offer.
pub(crate) async fn serve(chain: &LocalChain) -> (String, PaymentRequirements) {
    let evm = EvmChain::builder(chain.provider().clone())
        .with_receipt_timeout(Duration::from_secs(20))
        .with_signers(chain.accounts().settlers.clone())
        .build()
        .await
        .unwrap();
    let evm = Arc::new(evm);
    let upto = UptoEvmFacilitator::new(Arc::clone(&evm));
    let offer = upto_requirements(
        chain.accounts().payee.address(),
        USDC,
        MAXIMUM,
        upto.facilitator_address(),
    );
    let facilitator = LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(evm))
        .with_scheme(upto)
        .build();
    let port = Loopback::bind().await.unwrap();
    let url = port.url().to_owned();
    let layer = PaymentLayer::builder(facilitator, url.clone())
        .with_route(PaidRoute::get("/meter/{how}").accepts(offer.clone()))
        .with_route(PaidRoute::get("/permit2").accepts(permit2_requirements(
            chain.accounts().payee.address(),
            USDC,
            MAXIMUM,
        )))
        .with_decimals(USDC.to_checksum(None), 6)
        .build()
        .unwrap();
    let charged = |how: &str, charge: Option<String>| {
        let mut headers = HeaderMap::new();
        let mut typed = None;
        match (how, charge) {
            ("typed", Some(charge)) => typed = Some(Charge::parse(&charge).unwrap()),
            ("header" | "fails", Some(charge)) => {
                let value = format!(r#"{{"amount":"{charge}"}}"#);
                headers.insert("settlement-overrides", value.parse().unwrap());
            }
            _ => {}
        }
        (headers, typed)
    };
    let app = Router::new()
        .route(
            "/meter/{how}",
            get(
                move |Path(how): Path<String>,
                      uri: Uri,
                      Extension(payment): Extension<VerifiedPayment>| async move {
                    let (headers, typed) = charged(&how, charge_of(&uri));
                    let status = if how == "fails" {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    };
                    let body = format!("at most {}", payment.amount);
                    let mut response = (status, headers, body).into_response();
                    if let Some(charge) = typed {
                        response.extensions_mut().insert(charge);
                    }
                    response
                },
            ),
        )
        .route("/permit2", get(|| async { "paid through Permit2" }))
        .layer(layer);
    port.serve(app);
    (url, offer)
}

async fn signed(
    key: &alloy::signers::local::PrivateKeySigner,
    offer: &PaymentRequirements,
) -> String {
    UptoEvmClient::new(key.clone())
        .create_payment_payload(offer, None)
        .await
        .unwrap()
        .to_header()
        .unwrap()
}

async fn get_paid(url: &str, path: &str, header: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{url}{path}"))
        .header("payment-signature", header)
        .send()
        .await
        .unwrap()
}

fn receipt(response: &reqwest::Response) -> SettleResponse {
    SettleResponse::from_header(response.headers()["payment-response"].as_bytes()).unwrap()
}

async fn payee_usdc(chain: &LocalChain) -> U256 {
    chain
        .usdc_balance(chain.accounts().payee.address())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_metered_route_settles_what_its_handler_names() {
    let chain = LocalChain::start().await.unwrap();
    let payer = chain.accounts().payer.clone();
    chain.approve_permit2(&payer, USDC).await.unwrap();
    let (url, offer) = serve(&chain).await;

    let cases = [
        ("/meter/typed?charge=1234", 1_234),
        ("/meter/header?charge=2500", 2_500),
        ("/meter/header?charge=25%25", 2_500),
        ("/meter/header?charge=$0.003", 3_000),
        ("/meter/typed?charge=0", 0),
        ("/meter/none", MAXIMUM),
    ];
    for (path, expected) in cases {
        let before = payee_usdc(&chain).await;
        let response = get_paid(&url, path, &signed(&payer, &offer).await).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            !response.headers().contains_key("settlement-overrides"),
            "{path}: the charge never leaves the server"
        );
        let settled = receipt(&response);
        assert!(settled.success, "{path}: {settled:?}");
        assert_eq!(settled.amount, Some(TokenAmount::from(expected)), "{path}");
        assert_eq!(settled.transaction().is_empty(), expected == 0, "{path}");
        assert_eq!(response.text().await.unwrap(), format!("at most {MAXIMUM}"));
        assert_eq!(
            payee_usdc(&chain).await - before,
            U256::from(expected),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_charge_the_handler_cannot_justify_moves_nothing() {
    let chain = LocalChain::start().await.unwrap();
    let payer = chain.accounts().payer.clone();
    chain.approve_permit2(&payer, USDC).await.unwrap();
    let (url, offer) = serve(&chain).await;
    let before = payee_usdc(&chain).await;

    for (path, status) in [
        // Above the signed maximum, in each form.
        (
            "/meter/typed?charge=10001",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        (
            "/meter/header?charge=100.01%25",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        (
            "/meter/header?charge=$0.02",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        // Not a charge at all.
        (
            "/meter/header?charge=lots",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        // The handler failed: its answer goes out, nothing is charged.
        ("/meter/fails?charge=5", StatusCode::INTERNAL_SERVER_ERROR),
    ] {
        let response = get_paid(&url, path, &signed(&payer, &offer).await).await;
        assert_eq!(response.status(), status, "{path}");
        assert!(
            !response.headers().contains_key("payment-response"),
            "{path}"
        );
        assert!(
            !response.headers().contains_key("settlement-overrides"),
            "{path}"
        );
    }
    assert_eq!(payee_usdc(&chain).await, before, "nothing moved");
}

#[tokio::test]
async fn a_payer_without_a_permit2_allowance_is_answered_412() {
    let chain = LocalChain::start().await.unwrap();
    let (url, offer) = serve(&chain).await;
    let unapproved = chain.accounts().others[0].clone();
    chain
        .mint_usdc(unapproved.address(), U256::from(MAXIMUM))
        .await
        .unwrap();
    let response = get_paid(&url, "/meter/none", &signed(&unapproved, &offer).await).await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let required =
        PaymentRequired::from_header(response.headers()["payment-required"].as_bytes()).unwrap();
    assert_eq!(
        required.error.as_deref(),
        Some("permit2_allowance_required")
    );
    assert_eq!(required.accepts, vec![offer]);
}

#[tokio::test]
async fn a_hundred_concurrent_metered_requests_move_exactly_their_receipts() {
    let chain = LocalChain::start().await.unwrap();
    let payer = chain.accounts().payer.clone();
    chain.approve_permit2(&payer, USDC).await.unwrap();
    let (url, offer) = serve(&chain).await;
    let before = payee_usdc(&chain).await;

    let headers = join_all((0..100).map(|_| signed(&payer, &offer))).await;
    let requests = headers.iter().enumerate().map(|(i, header)| {
        let path = format!("/meter/typed?charge={}", (i * 97) % (MAXIMUM as usize + 1));
        let url = url.clone();
        async move { get_paid(&url, &path, header).await }
    });
    let responses = join_all(requests).await;
    let mut charged = U256::ZERO;
    for response in &responses {
        assert_eq!(response.status(), StatusCode::OK);
        let settled = receipt(response);
        assert!(settled.success, "{settled:?}");
        charged += settled.amount.unwrap().as_u256();
    }
    let expected: usize = (0..100).map(|i| (i * 97) % (MAXIMUM as usize + 1)).sum();
    assert_eq!(charged, U256::from(expected));
    assert_eq!(payee_usdc(&chain).await - before, charged);
}
