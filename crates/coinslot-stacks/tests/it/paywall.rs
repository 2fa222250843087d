//! End to end on the devnet: the tower layer sells in STX, sBTC and USDCx through a local
//! facilitator; our reqwest client pays each; a replayed payment is refused.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Extension;
use axum::routing::get;
use coinslot_core::{PaymentRequired, PaymentRequirements, SchemeClient, SettleResponse};
use coinslot_facilitator::LocalFacilitator;
use coinslot_reqwest::{AssetLimit, Limits, Payer, PayingClient, SpendingPolicy};
use coinslot_stacks::exact::{StacksAsset, StacksReason};
use coinslot_tower::{PaidRoute, PaymentLayer, VerifiedPayment};

use crate::common::Setup;

pub(crate) struct Shop {
    pub(crate) url: String,
    pub(crate) offers: Vec<(&'static str, PaymentRequirements)>,
}

pub(crate) async fn open_shop(setup: &Setup) -> Shop {
    let facilitator = LocalFacilitator::builder()
        .with_scheme(
            setup
                .facilitator()
                .with_confirm_timeout(Duration::from_secs(30)),
        )
        .build();
    let port = coinslot_testkit::Loopback::bind().await.unwrap();
    let mut layer = PaymentLayer::builder(facilitator, port.url());
    let mut offers = Vec::new();
    let mut app = Router::new();
    for (name, asset) in setup.assets() {
        let price = match asset {
            StacksAsset::Stx => "0.002",
            StacksAsset::Sip010(ref t) if t.symbol == "sBTC" => "0.00000150",
            StacksAsset::Sip010(_) => "0.25",
        };
        let offer = setup.offer(&asset, price);
        let path = format!("/{}", name.to_lowercase());
        layer = layer.with_route(PaidRoute::get(&path).accepts(offer.clone()));
        app = app.route(
            &path,
            get(
                |Extension(payment): Extension<VerifiedPayment>| async move {
                    format!("paid by {}", payment.payer)
                },
            ),
        );
        offers.push((name, offer));
    }
    let layer = layer.with_raw_payment(coinslot_stacks::exact::raw_payment);
    let app = app.layer(layer.build().unwrap());
    let url = port.serve(app);
    Shop { url, offers }
}

fn policy(setup: &Setup, shop: &Shop) -> SpendingPolicy {
    shop.offers.iter().zip(setup.assets()).fold(
        SpendingPolicy::new(),
        |policy, ((_, offer), (_, asset))| {
            policy.allow(
                AssetLimit::new(
                    offer.network.clone(),
                    &offer.asset,
                    asset.decimals(),
                    Limits {
                        per_request: "1",
                        budget: "10",
                    },
                )
                .unwrap(),
            )
        },
    )
}

#[tokio::test]
async fn our_client_pays_each_asset_through_the_paywall() {
    let setup = Setup::testnet().await;
    let shop = open_shop(&setup).await;
    let payer = Payer::builder()
        .with_wallet(setup.client())
        .with_policy(policy(&setup, &shop))
        .build();
    let client = PayingClient::new(reqwest::Client::new(), payer);
    for (name, offer) in &shop.offers {
        let amount: u128 = offer.amount.to_string().parse().unwrap();
        let (payer_before, payee_before) = setup.balances().await;
        let path = format!("{}/{}", shop.url, name.to_lowercase());
        let response = client.send(client.get(&path)).await.unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let receipt = response
            .extensions()
            .get::<SettleResponse>()
            .cloned()
            .unwrap();
        assert!(receipt.success, "{name}: {receipt:?}");
        assert_eq!(
            response.text().await.unwrap(),
            format!("paid by {}", setup.payer_address())
        );
        let (payer_after, payee_after) = setup.balances().await;
        let moved = |before: u128, after: u128| after - before;
        match *name {
            "STX" => assert_eq!(moved(payee_before.stx, payee_after.stx), amount),
            "sBTC" => {
                assert_eq!(moved(payee_before.sbtc, payee_after.sbtc), amount);
                assert_eq!(payer_before.sbtc - payer_after.sbtc, amount);
            }
            _ => {
                assert_eq!(moved(payee_before.usdcx, payee_after.usdcx), amount);
                assert_eq!(payer_before.usdcx - payer_after.usdcx, amount);
            }
        }
    }
}

#[tokio::test]
async fn a_replayed_payment_is_refused_and_moves_nothing() {
    let setup = Setup::testnet().await;
    let shop = open_shop(&setup).await;
    let (_, offer) = &shop.offers[0];
    let wallet = Arc::new(setup.client());
    let payment = wallet.create_payment_payload(offer, None).await.unwrap();
    let header = payment.to_header().unwrap();
    let get = || {
        reqwest::Client::new()
            .get(format!("{}/stx", shop.url))
            .header("payment-signature", &header)
            .send()
    };
    let first = get().await.unwrap();
    assert_eq!(first.status(), 200);
    let after_first = setup.balances().await;
    let second = get().await.unwrap();
    assert_eq!(second.status(), 402, "a replay was served");
    let required =
        PaymentRequired::from_header(second.headers()["payment-required"].as_bytes()).unwrap();
    let error = required.error.unwrap_or_default();
    assert!(
        [
            StacksReason::AlreadyBroadcast.as_str(),
            "duplicate_settlement",
            "invalid_payment"
        ]
        .iter()
        .any(|r| error.contains(r)),
        "{error}"
    );
    assert_eq!(setup.balances().await, after_first);
}

#[tokio::test]
async fn an_underpayment_is_refused_with_its_reason() {
    let setup = Setup::testnet().await;
    let shop = open_shop(&setup).await;
    let (_, offer) = &shop.offers[0];
    let mut cheaper = offer.clone();
    cheaper.amount = coinslot_core::TokenAmount::from(1_000u64);
    let payment = setup.client().create_payload(&cheaper).await.unwrap();
    let header = coinslot_core::PaymentPayload::new(offer.clone(), payment, None)
        .to_header()
        .unwrap();
    let before = setup.balances().await;
    let response = reqwest::Client::new()
        .get(format!("{}/stx", shop.url))
        .header("payment-signature", header)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 402);
    let required =
        PaymentRequired::from_header(response.headers()["payment-required"].as_bytes()).unwrap();
    assert_eq!(
        required.error.as_deref(),
        Some(StacksReason::AmountMismatch.as_str())
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(setup.balances().await, before);
}

#[tokio::test]
async fn a_raw_transaction_in_x_payment_pays_like_a_v2_payment() {
    let setup = Setup::testnet().await;
    let shop = open_shop(&setup).await;
    let (name, offer) = &shop.offers[1];
    assert_eq!(*name, "sBTC");
    let amount: u128 = offer.amount.to_string().parse().unwrap();
    let tx = setup.client().sign_payment(offer).await.unwrap();
    let (_, before) = setup.balances().await;
    let response = reqwest::Client::new()
        .get(format!("{}/sbtc", shop.url))
        .header("x-payment", format!("0x{}", tx.to_hex()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let receipt =
        SettleResponse::from_header(response.headers()["payment-response"].as_bytes()).unwrap();
    assert!(receipt.success);
    assert_eq!(receipt.transaction(), tx.txid().to_string());
    let (_, after) = setup.balances().await;
    assert_eq!(after.sbtc - before.sbtc, amount);

    // Hex that is no transaction, or a transaction for no offer of the route: refused.
    for bad in ["0xdeadbeef".to_owned(), tx.to_hex()] {
        let response = reqwest::Client::new()
            .get(format!("{}/stx", shop.url))
            .header("x-payment", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 402);
    }
}

#[tokio::test]
async fn each_refusal_through_the_paywall_is_a_402_with_its_reason() {
    let setup = Setup::testnet().await;
    let shop = open_shop(&setup).await;
    let (stx_offer, sbtc_offer) = (&shop.offers[0].1, &shop.offers[1].1);
    // A good payment first, through the paywall: nonce 0 is used.
    let payment = setup
        .client()
        .create_payment_payload(stx_offer, None)
        .await
        .unwrap();
    let served = reqwest::Client::new()
        .get(format!("{}/stx", shop.url))
        .header("payment-signature", payment.to_header().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let cases = crate::exact::refusal_cases(&setup, stx_offer, sbtc_offer).await;
    assert_eq!(cases.len(), 8);
    let before = setup.balances().await;
    for (expected, request) in cases {
        let coinslot_core::VerifyRequest::V2 {
            payment_payload,
            payment_requirements,
        } = request
        else {
            unreachable!()
        };
        let path = if payment_requirements.asset == "STX" {
            "stx"
        } else {
            "sbtc"
        };
        let response = reqwest::Client::new()
            .get(format!("{}/{path}", shop.url))
            .header("payment-signature", payment_payload.to_header().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 402, "{expected}");
        let required =
            PaymentRequired::from_header(response.headers()["payment-required"].as_bytes())
                .unwrap();
        // The paywall names a Stacks payment by payer and nonce: a second transaction with a used
        // nonce is that payment again, refused before the facilitator looks at the chain.
        let expected = if expected == StacksReason::NonceAlreadyUsed.as_str() {
            "duplicate_settlement"
        } else {
            expected
        };
        assert_eq!(required.error.as_deref(), Some(expected));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(setup.balances().await, before, "a refusal moved funds");
}
