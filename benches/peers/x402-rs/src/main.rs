//! The x402-rs peer for coinslot's benchmarks, configured by environment:
//!
//! - `x402-rs-peer server`: `GET /weather` at $0.001 in USDC (`eip155:84532`), paid to `PAY_TO`,
//!   through x402-axum with x402-rs's facilitator in-process;
//! - `x402-rs-peer facilitator`: that facilitator behind its own HTTP routes (`/verify`,
//!   `/settle`, `/supported`).
//!
//! Both settle on `RPC_URL` with the keys in `SETTLER_KEYS` (comma-separated), listen on a free
//! loopback port, and print `... listening on http://127.0.0.1:PORT` once they accept
//! connections. x402-rs refuses to start on a chain without its ERC-6492 validator and Permit2
//! proxies: the benchmark runner places code at those addresses first (the `exact` EIP-3009 path
//! measured here never calls them).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use x402_axum::X402Middleware;
use x402_chain_eip155::chain::config::Eip155ChainConfig;
use x402_chain_eip155::chain::{Eip155ChainProvider, Eip155ChainReference};
use x402_chain_eip155::{KnownNetworkEip155, V2Eip155Exact};
use x402_facilitator_local::{FacilitatorLocal, handlers};
use x402_types::chain::{ChainRegistry, FromConfig};
use x402_types::networks::USDC;
use x402_types::scheme::{
    SchemeBlueprints, SchemeConfig, SchemeRegistry, X402SchemeFacilitator,
    X402SchemeFacilitatorBuilder, X402SchemeId,
};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("x402-rs-peer: {error}");
        std::process::exit(1);
    }
}

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("{name} is required").into())
}

async fn run() -> Result<(), Error> {
    let facilitator = Arc::new(facilitator().await?);
    let (what, app) = match std::env::args().nth(1).as_deref() {
        Some("server") => {
            let pay_to: x402_chain_eip155::chain::ChecksummedAddress = env("PAY_TO")?.parse()?;
            let x402 = X402Middleware::from_facilitator(facilitator);
            let price = USDC::base_sepolia().parse("0.001")?;
            let route = get(weather).layer(
                x402.with_price_tag(V2Eip155Exact::price_tag(pay_to, price))
                    .with_description("Weather".to_owned()),
            );
            ("Server", Router::new().route("/weather", route))
        }
        Some("facilitator") => ("Facilitator", handlers::routes().with_state(facilitator)),
        _ => return Err("usage: x402-rs-peer server|facilitator".into()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{what} listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn weather() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"weather": "sunny", "from": "x402-rs"}))
}

/// x402-rs's own facilitator, `v2-eip155-exact` on chain 84532.
async fn facilitator() -> Result<FacilitatorLocal<SchemeRegistry>, Error> {
    let keys = env("SETTLER_KEYS")?;
    let chain: Eip155ChainConfig = Eip155ChainConfig {
        chain_reference: Eip155ChainReference::new(84532),
        inner: serde_json::from_value(serde_json::json!({
            "signers": keys.split(',').collect::<Vec<_>>(),
            "rpc": [{"http": env("RPC_URL")?}],
        }))?,
    };
    let provider = Arc::new(Eip155ChainProvider::from_config(&chain).await?);
    let chains = ChainRegistry::new(HashMap::from([(chain.chain_id(), provider)]));
    let schemes: Vec<SchemeConfig> = serde_json::from_value(serde_json::json!([
        {"id": "v2-eip155-exact", "chains": "eip155:84532"}
    ]))?;
    let registry = SchemeRegistry::build(
        chains,
        SchemeBlueprints::new().and_register(Exact),
        &schemes,
    );
    Ok(FacilitatorLocal::new(registry))
}

/// `V2Eip155Exact` over a shared provider: the registry hands blueprints a reference to its
/// provider, and x402-rs implements the scheme for owned (`Arc`) providers.
struct Exact;

impl X402SchemeId for Exact {
    fn namespace(&self) -> &str {
        V2Eip155Exact.namespace()
    }

    fn scheme(&self) -> &str {
        V2Eip155Exact.scheme()
    }
}

impl X402SchemeFacilitatorBuilder<&Arc<Eip155ChainProvider>> for Exact {
    fn build(
        &self,
        provider: &Arc<Eip155ChainProvider>,
        config: Option<serde_json::Value>,
    ) -> Result<Box<dyn X402SchemeFacilitator>, Error> {
        V2Eip155Exact.build(Arc::clone(provider), config)
    }
}
