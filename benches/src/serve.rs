//! The servers the runner measures on our side, each run as its own process so that its memory
//! is its own: the paid route on coinslot-tower, the same route on bare axum (the limit), a
//! metered (`upto`) route, coinslot's facilitator API, and the Stacks API's hashing handler
//! alone (the limit of the Stacks API's figures).
//!
//! All but the last take `RPC_URL`, `SETTLER_KEYS` (comma-separated) and `PAY_TO` from the environment,
//! listen on a free loopback port and print `... listening on http://127.0.0.1:PORT`.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::{Provider as _, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use axum::routing::{get, post};
use axum::{Extension, Router};
use coinslot_core::{Charge, Price, TokenAmount};
use coinslot_evm::EvmChain;
use coinslot_evm::exact::{Eip3009Token, ExactEvmFacilitator};
use coinslot_evm::upto::UptoEvmFacilitator;
use coinslot_example_stacks_api::routes::hashing;
use coinslot_facilitator::{FacilitatorApi, LocalFacilitator};
use coinslot_tower::{PaidRoute, PaymentLayer};

/// The route every peer serves, at the price every peer charges.
pub const ROUTE: &str = "/weather";
/// $0.001, in USDC's atomic units.
pub const PRICE_UNITS: u64 = 1000;
/// The metered route, the reference server's path for it.
pub const METERED_ROUTE: &str = "/upto/evm/permit2";
/// What a metered request is charged of its maximum ([`PRICE_UNITS`]), by every peer.
pub const METERED_CHARGE: u64 = 700;

/// Which server to run.
#[derive(Debug, Clone, Copy)]
pub enum Server {
    /// `GET /weather` behind coinslot-tower, with the facilitator in-process.
    Paid,
    /// `GET /weather` on bare axum.
    Bare,
    /// `GET` [`METERED_ROUTE`] behind coinslot-tower, `upto` $0.001, charging
    /// [`METERED_CHARGE`]; the facilitator in-process.
    Metered,
    /// coinslot's facilitator behind its HTTP API.
    Facilitator,
    /// `POST /hashing/sha256` of the Stacks API, its handler's work on bare axum: no paywall,
    /// access policy, caller or usage record.
    BareHashing,
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is required"))
}

async fn weather() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"weather": "sunny", "from": "coinslot"}))
}

/// Runs `server` until the process is stopped.
pub async fn serve(server: Server) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let (what, app) = match server {
        Server::Bare => ("Server", Router::new().route(ROUTE, get(weather))),
        Server::Paid => {
            let offer = usdc()
                .requirements(pay_to()?, &price()?)
                .map_err(|e| e.to_string())?;
            let layer = PaymentLayer::builder(facilitator().await?.0, format!("http://{address}"))
                .with_route(PaidRoute::get(ROUTE).accepts(offer).description("Weather"))
                .build()
                .map_err(|e| e.to_string())?;
            (
                "Server",
                Router::new().route(ROUTE, get(weather)).layer(layer),
            )
        }
        Server::Metered => {
            let (facilitator, settler) = facilitator().await?;
            let offer = usdc()
                .upto_requirements(pay_to()?, &price()?, settler)
                .map_err(|e| e.to_string())?;
            let layer = PaymentLayer::builder(facilitator, format!("http://{address}"))
                .with_route(PaidRoute::get(METERED_ROUTE).accepts(offer))
                .build()
                .map_err(|e| e.to_string())?;
            let metered = || async {
                let charge = Charge::from(TokenAmount::from(METERED_CHARGE));
                (Extension(charge), weather().await)
            };
            (
                "Server",
                Router::new()
                    .route(METERED_ROUTE, get(metered))
                    .layer(layer),
            )
        }
        Server::Facilitator => (
            "Facilitator",
            FacilitatorApi::new(facilitator().await?.0).into_router(),
        ),
        Server::BareHashing => ("Server", Router::new().route(HASHING_ROUTE, post(sha256))),
    };
    println!("{what} listening on http://{address}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

/// The Stacks API route the runner measures.
pub const HASHING_ROUTE: &str = "/hashing/sha256";

async fn sha256(
    axum::Json(request): axum::Json<hashing::HashRequest>,
) -> Result<axum::Json<hashing::HashResponse>, String> {
    hashing::digest_of(hashing::Algorithm::Sha256, request)
        .map(axum::Json)
        .map_err(|e| e.message)
}

fn pay_to() -> Result<Address, String> {
    env("PAY_TO")?
        .parse()
        .map_err(|_| "PAY_TO is not an address".to_owned())
}

fn usdc() -> Eip3009Token {
    Eip3009Token::usdc_base_sepolia()
}

/// $0.001.
fn price() -> Result<Price, String> {
    Price::parse("$0.001").map_err(|e| e.to_string())
}

/// `exact` and `upto` on the chain at `RPC_URL`, settling with the keys in `SETTLER_KEYS`;
/// and the address `upto` payers name as its facilitator.
async fn facilitator() -> Result<(LocalFacilitator, Address), String> {
    let url = env("RPC_URL")?
        .parse()
        .map_err(|_| "RPC_URL is not a URL")?;
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(url)
        .erased();
    let mut chain = EvmChain::builder(provider).with_receipt_timeout(Duration::from_secs(30));
    for key in env("SETTLER_KEYS")?.split(',') {
        let key: PrivateKeySigner = key
            .parse()
            .map_err(|_| "SETTLER_KEYS holds a value that is not a private key")?;
        chain = chain.with_signer(key);
    }
    let chain = Arc::new(chain.build().await.map_err(|e| e.to_string())?);
    let upto = UptoEvmFacilitator::new(Arc::clone(&chain));
    let settler = upto.facilitator_address();
    let facilitator = LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(chain))
        .with_scheme(upto)
        .build();
    Ok((facilitator, settler))
}
