//! The facilitator service: coinslot's facilitators over HTTP (on EVM chains `exact` by
//! EIP-3009 or Permit2 and `upto`; `exact` on Stacks), configured the way the reference
//! end-to-end suite drives facilitators.
//!
//! Environment:
//! - `PORT`: where to listen, on all interfaces (default 4022);
//! - `EVM_PRIVATE_KEY`: the settlement key, or several separated by commas (each gets its own
//!   nonce sequence, so more keys settle more payments at once);
//! - `EVM_RPC_URL`: the chain's JSON-RPC endpoint (default `http://127.0.0.1:8545`), unless the
//!   config file lists networks;
//! - `FACILITATOR_API_KEY`: if set, `/verify`, `/settle` and `/supported` require
//!   `Authorization: Bearer <key>`;
//! - `FACILITATOR_CONFIG`: a JSON file for what the environment does not say (see
//!   `config.rs`): the store, the least amount a payment may be for, and the networks with
//!   their assets, gas price cap, receipt timeout, ERC-6492 factories and gas caps per call.
//!
//! - `STACKS_NODE_URL`: a Stacks node with the Hiro API; set, the service also verifies and
//!   settles `exact` on Stacks in STX, sBTC and USDCx (it broadcasts the payer's own
//!   transaction, so it needs no Stacks key);
//! - `STACKS_NETWORK`: `testnet` (default) or `mainnet`;
//! - `STACKS_DELIVERY`: `confirmed` (default: a settlement succeeds once mined) or `mempool`
//!   (once the node accepts it).
//!
//! Prints `Facilitator listening on http://…` once it accepts connections.

mod config;

use std::sync::Arc;

use alloy::providers::{Provider as _, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use coinslot_evm::EvmChain;
use coinslot_evm::exact::ExactEvmFacilitator;
use coinslot_evm::upto::UptoEvmFacilitator;
use coinslot_facilitator::store::{MemoryStore, SqliteStore};
use coinslot_facilitator::{FacilitatorApi, LocalFacilitator};
use coinslot_stacks::exact::ExactStacksFacilitator;
use coinslot_stacks::node::StacksNode;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, NetworkConfig};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(message) = run().await {
        eprintln!("facilitator: {message}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    let keys = config
        .private_keys
        .iter()
        .map(|key| {
            key.parse::<PrivateKeySigner>()
                .map_err(|_| "EVM_PRIVATE_KEY holds a value that is not a private key".to_owned())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut facilitator = LocalFacilitator::builder();
    let mut served = Vec::new();
    for network in &config.networks {
        let chain = Arc::new(connect(network, &keys).await?);
        served.push(format!("exact and upto on {}", chain.network()));
        // Both schemes settle from the same keys' nonce sequences.
        let mut exact = ExactEvmFacilitator::new(Arc::clone(&chain));
        let mut upto = UptoEvmFacilitator::new(chain);
        for factory in &network.erc6492_factories {
            exact = exact.with_erc6492_factory(*factory);
            upto = upto.with_erc6492_factory(*factory);
        }
        for asset in &network.assets {
            exact = exact.with_asset(*asset);
            upto = upto.with_asset(*asset);
        }
        if network.eip2612_gas_sponsoring {
            exact = exact.with_eip2612_gas_sponsoring();
            upto = upto.with_eip2612_gas_sponsoring();
        }
        if network.erc20_approval_gas_sponsoring {
            exact = exact.with_erc20_approval_gas_sponsoring();
            upto = upto.with_erc20_approval_gas_sponsoring();
        }
        facilitator = facilitator.with_scheme(exact).with_scheme(upto);
    }
    if let Some(stacks) = &config.stacks {
        served.push(format!("exact on {}", stacks.network.caip2()));
        facilitator = facilitator.with_scheme(
            ExactStacksFacilitator::new(StacksNode::new(&stacks.node_url), stacks.network)
                .with_delivery(stacks.delivery),
        );
    }
    if let Some(minimum) = config.minimum_amount {
        facilitator = facilitator.with_minimum_amount(minimum);
    }
    for (asset, minimum) in &config.minimum_amounts {
        facilitator = facilitator.with_minimum_amount_for(asset.clone(), *minimum);
    }
    let facilitator = match &config.store {
        Some(path) => facilitator.with_store(SqliteStore::open(path).map_err(|e| e.to_string())?),
        None => facilitator.with_store(MemoryStore::new()),
    }
    .build();

    let mut api = FacilitatorApi::new(facilitator);
    if let Some(key) = &config.api_key {
        api = api.with_bearer_token(key.clone());
    }
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", config.port))
        .await
        .map_err(|e| format!("cannot listen on port {}: {e}", config.port))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "Facilitator listening on http://127.0.0.1:{} ({})",
        address.port(),
        served.join(", ")
    );
    axum::serve(listener, api.into_router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

/// The chain of one `networks` entry, settling with `keys`.
async fn connect(network: &NetworkConfig, keys: &[PrivateKeySigner]) -> Result<EvmChain, String> {
    let url = network
        .rpc_url
        .parse()
        .map_err(|e| format!("rpcUrl {:?}: {e}", network.rpc_url))?;
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(url)
        .erased();
    let mut chain = EvmChain::builder(provider)
        .with_receipt_timeout(network.receipt_timeout())
        .with_gas_caps(network.gas_caps());
    for key in keys {
        chain = chain.with_signer(key.clone());
    }
    if let Some(cap) = network.max_fee_per_gas()? {
        chain = chain.with_max_fee_per_gas(cap);
    }
    chain
        .build()
        .await
        .map_err(|e| format!("{}: {e}", network.rpc_url))
}
