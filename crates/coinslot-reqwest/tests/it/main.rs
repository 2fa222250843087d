//! coinslot-reqwest's tests: our client against our server (coinslot-tower) and facilitator on
//! anvil.

mod interop;
mod pay;
mod permit2;
mod policy;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use axum::Router;
use axum::routing::{get, post};
use coinslot_core::{BoxFuture, JsonObject, PaymentRequirements, Result, SchemeClient};
use coinslot_evm::EvmChain;
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot_facilitator::LocalFacilitator;
use coinslot_testkit::LocalChain;
use coinslot_tower::{PaidRoute, PaymentLayer};

/// 0.01 USDC.
pub(crate) const PRICE: u64 = 10_000;

/// A wallet that counts what it signs: the real EVM client, watched.
#[derive(Debug, Clone)]
pub(crate) struct Counted {
    wallet: ExactEvmClient<PrivateKeySigner>,
    pub(crate) signed: Arc<AtomicUsize>,
}

impl Counted {
    pub(crate) fn new(chain: &LocalChain) -> Self {
        Self {
            wallet: ExactEvmClient::new(chain.accounts().payer.clone()),
            signed: Arc::default(),
        }
    }
    pub(crate) fn signed(&self) -> usize {
        self.signed.load(Ordering::SeqCst)
    }
}

impl SchemeClient for Counted {
    fn scheme(&self) -> &str {
        self.wallet.scheme()
    }
    fn payer(&self) -> String {
        self.wallet.payer()
    }
    fn can_pay(&self, requirements: &PaymentRequirements) -> bool {
        self.wallet.can_pay(requirements)
    }
    fn create_payload<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
    ) -> BoxFuture<'a, Result<JsonObject>> {
        self.signed.fetch_add(1, Ordering::SeqCst);
        self.wallet.create_payload(requirements)
    }
}

/// Our server on the local chain: `/paid` at [`PRICE`], `/dear` at 1 USDC, `/base` on Base
/// mainnet, `/other-token` in another token, `/upload` (POST) at [`PRICE`], `/either` on Base
/// mainnet or on the local chain.
pub(crate) async fn server(chain: &LocalChain) -> String {
    let mut evm =
        EvmChain::builder(chain.provider().clone()).with_receipt_timeout(Duration::from_secs(20));
    for settler in &chain.accounts().settlers {
        evm = evm.with_signer(settler.clone());
    }
    let facilitator = LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(Arc::new(
            evm.build().await.unwrap(),
        )))
        .build();
    let payee = chain.accounts().payee.address();
    let offer = |amount| coinslot_testkit::exact_requirements(payee, amount);
    let mut on_base = offer(PRICE);
    on_base.asset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913".to_owned();
    on_base.network = coinslot_core::Network::base();
    let mut other_token = offer(PRICE);
    other_token.asset = alloy::primitives::Address::repeat_byte(7).to_checksum(None);

    let port = coinslot_testkit::Loopback::bind().await.unwrap();
    let layer = PaymentLayer::builder(facilitator, port.url())
        .with_route(PaidRoute::get("/paid").accepts(offer(PRICE)))
        .with_route(PaidRoute::get("/dear").accepts(offer(1_000_000)))
        .with_route(PaidRoute::get("/base").accepts(on_base.clone()))
        .with_route(PaidRoute::get("/other-token").accepts(other_token))
        .with_route(PaidRoute::post("/upload").accepts(offer(PRICE)))
        .with_route(PaidRoute::get("/either").accepts_all([on_base, offer(PRICE)]))
        .build()
        .unwrap();
    let content = || async { "content" };
    let app = Router::new()
        .route("/paid", get(content))
        .route("/dear", get(content))
        .route("/base", get(content))
        .route("/other-token", get(content))
        .route("/either", get(content))
        .route(
            "/upload",
            post(|body: String| async move { format!("got {} bytes", body.len()) }),
        )
        .layer(layer);
    port.serve(app)
}
