//! The servers the runner measures on our side, each run as its own process so that its memory
//! is its own: the paid route on coinslot-tower, the same route on bare axum (the limit), and
//! coinslot's facilitator API.
//!
//! All take `RPC_URL`, `SETTLER_KEYS` (comma-separated) and `PAY_TO` from the environment,
//! listen on a free loopback port and print `... listening on http://127.0.0.1:PORT`.

use std::sync::Arc;
use std::time::Duration;

use alloy::providers::{Provider as _, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use axum::Router;
use axum::routing::get;
use coinslot_core::Price;
use coinslot_evm::EvmChain;
use coinslot_evm::exact::{Eip3009Token, ExactEvmFacilitator};
use coinslot_facilitator::{FacilitatorApi, LocalFacilitator};
use coinslot_tower::{PaidRoute, PaymentLayer};

/// The route every peer serves, at the price every peer charges.
pub const ROUTE: &str = "/weather";
/// $0.001, in USDC's atomic units.
pub const PRICE_UNITS: u64 = 1000;

/// Which server to run.
#[derive(Debug, Clone, Copy)]
pub enum Server {
    /// `GET /weather` behind coinslot-tower, with the facilitator in-process.
    Paid,
    /// `GET /weather` on bare axum.
    Bare,
    /// coinslot's facilitator behind its HTTP API.
    Facilitator,
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
            let pay_to = env("PAY_TO")?
                .parse()
                .map_err(|_| "PAY_TO is not an address")?;
            let price = Price::parse("$0.001").map_err(|e| e.to_string())?;
            let offer = Eip3009Token::usdc_base_sepolia()
                .requirements(pay_to, &price)
                .map_err(|e| e.to_string())?;
            let layer = PaymentLayer::builder(facilitator().await?, format!("http://{address}"))
                .with_route(PaidRoute::get(ROUTE).accepts(offer).description("Weather"))
                .build()
                .map_err(|e| e.to_string())?;
            (
                "Server",
                Router::new().route(ROUTE, get(weather)).layer(layer),
            )
        }
        Server::Facilitator => (
            "Facilitator",
            FacilitatorApi::new(facilitator().await?).into_router(),
        ),
    };
    println!("{what} listening on http://{address}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

/// `exact` on the chain at `RPC_URL`, settling with the keys in `SETTLER_KEYS`.
async fn facilitator() -> Result<LocalFacilitator, String> {
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
    let chain = chain.build().await.map_err(|e| e.to_string())?;
    Ok(LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(Arc::new(chain)))
        .build())
}
