//! A paying agent on coinslot, configured the way the reference end-to-end suite drives clients.
//!
//! Environment:
//! - `EVM_PRIVATE_KEY`: the payer's key on EVM chains, and/or
//! - `STACKS_PRIVATE_KEY`: the payer's Stacks key (hex, 33 bytes ending in `01` or 32), with
//!   `STACKS_NODE_URL` (default `http://127.0.0.1:3999`) to read its nonce and the fee rate,
//!   and `STACKS_NETWORK` (`testnet`, the default, or `mainnet`); at least one key is required;
//! - `RESOURCE_SERVER_URL` and `ENDPOINT_PATH`: what to fetch (`http://127.0.0.1:4021` and
//!   `/weather` by default);
//! - `MAX_PER_REQUEST` and `BUDGET`: the spending limits in USDC on Base Sepolia and Base
//!   (default `$0.10` per request, `$1` in all; for a metered `upto` offer the cap applies to
//!   its maximum). On Stacks the limits are 0.1 STX, 0.0001 sBTC and 0.1 USDCx per request,
//!   ten times that in all;
//! - `EVM_RPC_URL`: a node of the chain; when set, a server that asks for a Permit2 allowance
//!   (412 `permit2_allowance_required`) gets it: the agent approves Permit2 for the token
//!   once, paying the gas, and sends the request again.
//!
//! The last line of output is JSON: `{"success", "data", "status_code", "payment_response"}`;
//! the exit code is 0 when the request succeeded, 1 otherwise.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::SettleResponse;
use coinslot_evm::exact::ExactEvmClient;
use coinslot_evm::permit2;
use coinslot_evm::upto::UptoEvmClient;
use coinslot_reqwest::{AssetLimit, Error, Limits, Payer, PayingClient, SpendingPolicy};
use coinslot_stacks::PrivateKey;
use coinslot_stacks::exact::{ExactStacksClient, Sip010Token, StacksAsset};
use coinslot_stacks::network::StacksNetwork;
use coinslot_stacks::node::StacksNode;
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let outcome = match run().await {
        Ok(outcome) => outcome,
        Err(message) => {
            eprintln!("client: {message}");
            json!({"success": false, "data": null, "status_code": null, "payment_response": null, "error": message})
        }
    };
    let success = outcome["success"] == true;
    println!("{outcome}");
    std::process::exit(if success { 0 } else { 1 });
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

async fn run() -> Result<Value, String> {
    let evm_key = std::env::var("EVM_PRIVATE_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty());
    let stacks_key = std::env::var("STACKS_PRIVATE_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty());
    if evm_key.is_none() && stacks_key.is_none() {
        return Err("EVM_PRIVATE_KEY or STACKS_PRIVATE_KEY is required".into());
    }
    let url = format!(
        "{}{}",
        env("RESOURCE_SERVER_URL", "http://127.0.0.1:4021").trim_end_matches('/'),
        env("ENDPOINT_PATH", "/weather")
    );
    let mut policy = SpendingPolicy::new();
    let mut payer = Payer::builder();
    let mut evm_signer = None;
    if let Some(key) = evm_key {
        let signer: PrivateKeySigner = key
            .trim()
            .parse()
            .map_err(|_| "EVM_PRIVATE_KEY is not a private key".to_owned())?;
        let (per_request, budget) = (env("MAX_PER_REQUEST", "$0.10"), env("BUDGET", "$1"));
        let limits = Limits {
            per_request: &per_request,
            budget: &budget,
        };
        let limit = |asset: fn(Limits<'_>) -> coinslot_core::Result<AssetLimit>| {
            asset(limits).map_err(|e| format!("MAX_PER_REQUEST or BUDGET: {e}"))
        };
        policy = policy
            .allow(limit(AssetLimit::usdc_base_sepolia)?)
            .allow(limit(AssetLimit::usdc_base)?);
        payer = payer
            .with_wallet(ExactEvmClient::new(signer.clone()))
            .with_wallet(UptoEvmClient::new(signer.clone()));
        evm_signer = Some(signer);
    }
    if let Some(key) = stacks_key {
        let key = PrivateKey::from_hex(&key).map_err(|e| format!("STACKS_PRIVATE_KEY: {e}"))?;
        let network = match env("STACKS_NETWORK", "testnet").as_str() {
            "testnet" | "stacks:2147483648" => StacksNetwork::Testnet,
            "mainnet" | "stacks:1" => StacksNetwork::Mainnet,
            other => return Err(format!("STACKS_NETWORK {other:?}: use testnet or mainnet")),
        };
        let node = StacksNode::new(env("STACKS_NODE_URL", "http://127.0.0.1:3999"));
        let (sbtc, usdcx) = if network.is_mainnet() {
            (Sip010Token::sbtc_mainnet(), Sip010Token::usdcx_mainnet())
        } else {
            (Sip010Token::sbtc_testnet(), Sip010Token::usdcx_testnet())
        };
        for (asset, per_request, budget) in [
            (StacksAsset::Stx, "0.1", "1"),
            (StacksAsset::Sip010(sbtc), "0.0001", "0.001"),
            (StacksAsset::Sip010(usdcx), "0.1", "1"),
        ] {
            let limits = Limits {
                per_request,
                budget,
            };
            let limit =
                AssetLimit::new(network.caip2(), asset.offer_id(), asset.decimals(), limits)
                    .map_err(|e| e.to_string())?;
            policy = policy.allow(limit);
        }
        payer = payer.with_wallet(ExactStacksClient::new(key, network).with_node(node));
    }
    let payer = payer.with_policy(policy).build();
    let client = PayingClient::new(reqwest::Client::new(), payer);

    let response = match client.send(client.get(&url)).await {
        Err(Error::Permit2AllowanceRequired { asset, .. }) => {
            approve_permit2(evm_signer.as_ref(), &asset).await?;
            client.send(client.get(&url)).await
        }
        other => other,
    }
    .map_err(|e| e.to_string())?;
    let status = response.status();
    let receipt = response.extensions().get::<SettleResponse>().cloned();
    let text = response.text().await.map_err(|e| e.to_string())?;
    let data = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
    Ok(json!({
        "success": status.is_success(),
        "data": data,
        "status_code": status.as_u16(),
        "payment_response": receipt,
    }))
}

/// Lets Permit2 move `asset` for the EVM payer, through the node at `EVM_RPC_URL`: the one-time
/// approval a Permit2 payment needs.
async fn approve_permit2(signer: Option<&PrivateKeySigner>, asset: &str) -> Result<(), String> {
    let (Some(signer), Ok(rpc_url)) = (signer, std::env::var("EVM_RPC_URL")) else {
        return Err(format!(
            "the server needs a Permit2 allowance for {asset}: set EVM_RPC_URL to approve it"
        ));
    };
    let token: Address = asset
        .parse()
        .map_err(|_| format!("{asset} is not an EVM token"))?;
    let url = rpc_url.parse().map_err(|_| "EVM_RPC_URL is not a URL")?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect_http(url);
    let approval = permit2::approve(&provider, token, U256::MAX)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("client: approved Permit2 for {token} in {approval}");
    Ok(())
}
