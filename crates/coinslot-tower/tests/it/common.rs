//! Fixtures: a paid axum app on the local chain, served on a loopback port.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alloy::primitives::U256;
use axum::Router;
use axum::extract::Extension;
use axum::http::StatusCode;
use axum::routing::get;
use coinslot_core::{Facilitator, PaymentRequirements};
use coinslot_evm::EvmChain;
use coinslot_evm::exact::ExactEvmFacilitator;
use coinslot_facilitator::{FacilitatorApi, HttpFacilitator, LocalFacilitator};
use coinslot_testkit::{LocalChain, Loopback};
use coinslot_tower::{PaidRoute, PaymentLayer, VerifiedPayment};

/// 0.01 USDC.
pub(crate) const PRICE: u64 = 10_000;

pub(crate) fn offer(chain: &LocalChain) -> PaymentRequirements {
    coinslot_testkit::exact_requirements(chain.accounts().payee.address(), PRICE)
}

/// An in-process facilitator for `exact` on the local chain, settling with the testkit's three
/// settlement keys.
pub(crate) async fn local_facilitator(chain: &LocalChain) -> LocalFacilitator {
    let evm = EvmChain::builder(chain.provider().clone())
        .with_receipt_timeout(Duration::from_secs(20))
        .with_signers(chain.accounts().settlers.clone())
        .build()
        .await
        .unwrap();
    LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(Arc::new(evm)))
        .build()
}

/// The same facilitator behind its HTTP API on a loopback port, as a remote facilitator, told
/// how EIP-3009 payments are named.
pub(crate) async fn http_facilitator(chain: &LocalChain) -> HttpFacilitator {
    let api = FacilitatorApi::new(local_facilitator(chain).await);
    let url = coinslot_testkit::serve(api.into_router()).await.unwrap();
    HttpFacilitator::new(&url)
        .unwrap()
        .with_payment_ids(coinslot_evm::exact::payment_id)
}

/// The paid app: `/free`, `/paid` (echoes the payment), `/fails` (500), `/before` (settles
/// before its handler), each handler counting its runs in `hits`.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub(crate) url: String,
    pub(crate) hits: Arc<AtomicUsize>,
}

impl Server {
    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

pub(crate) async fn serve(chain: &LocalChain, facilitator: impl Facilitator + 'static) -> Server {
    serve_with(chain, facilitator, Router::new()).await
}

/// Serves the paid app with `extra` routes merged in, priced like `/paid` when they start
/// with `/paid`.
pub(crate) async fn serve_with(
    chain: &LocalChain,
    facilitator: impl Facilitator + 'static,
    extra: Router,
) -> Server {
    let port = Loopback::bind().await.unwrap();
    let url = port.url().to_owned();
    let hits = Arc::new(AtomicUsize::new(0));
    let offer = offer(chain);
    let layer = PaymentLayer::builder(facilitator, url.clone())
        .with_route(PaidRoute::get("/paid/{*rest}").accepts(offer.clone()))
        .with_route(
            PaidRoute::get("/paid")
                .accepts(offer.clone())
                .description("a paid echo"),
        )
        .with_route(PaidRoute::get("/fails").accepts(offer.clone()))
        .with_route(
            PaidRoute::get("/before")
                .accepts(offer)
                .settle_before_handler(),
        )
        .build()
        .unwrap();
    let count = |hits: &Arc<AtomicUsize>| {
        hits.fetch_add(1, Ordering::SeqCst);
    };
    let (h1, h2, h3) = (hits.clone(), hits.clone(), hits.clone());
    let app = Router::new()
        .route("/free", get(|| async { "free" }))
        .route(
            "/paid",
            get(
                move |Extension(payment): Extension<VerifiedPayment>| async move {
                    count(&h1);
                    axum::Json(serde_json::json!({
                        "payer": payment.payer,
                        "amount": payment.amount.to_string(),
                        "network": payment.network.to_string(),
                        "settled": payment.settlement.is_some(),
                    }))
                },
            ),
        )
        .route(
            "/fails",
            get(move || async move {
                count(&h2);
                (StatusCode::INTERNAL_SERVER_ERROR, "the handler failed")
            }),
        )
        .route(
            "/before",
            get(
                move |Extension(payment): Extension<VerifiedPayment>| async move {
                    count(&h3);
                    payment
                        .settlement
                        .map(|s| s.transaction().to_owned())
                        .unwrap_or_default()
                },
            ),
        )
        .merge(extra)
        .layer(layer);
    port.serve(app);
    Server { url, hits }
}

pub(crate) async fn usdc(chain: &LocalChain, who: alloy::primitives::Address) -> U256 {
    chain.usdc_balance(who).await.unwrap()
}
