//! A paying agent on coinslot, configured the way the reference end-to-end suite drives clients.
//!
//! Environment:
//! - `EVM_PRIVATE_KEY`: the payer's key (required);
//! - `RESOURCE_SERVER_URL` and `ENDPOINT_PATH`: what to fetch (`http://127.0.0.1:4021` and
//!   `/weather` by default);
//! - `MAX_PER_REQUEST` and `BUDGET`: the spending limits in USDC on Base Sepolia and Base
//!   (default `$0.10` per request, `$1` in all).
//!
//! The last line of output is JSON: `{"success", "data", "status_code", "payment_response"}`;
//! the exit code is 0 when the request succeeded, 1 otherwise.

use alloy::signers::local::PrivateKeySigner;
use coinslot_core::SettleResponse;
use coinslot_evm::exact::ExactEvmClient;
use coinslot_reqwest::{AssetLimit, Payer, PayingClient, SpendingPolicy};
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
    let key = std::env::var("EVM_PRIVATE_KEY").map_err(|_| "EVM_PRIVATE_KEY is required")?;
    let signer: PrivateKeySigner = key
        .trim()
        .parse()
        .map_err(|_| "EVM_PRIVATE_KEY is not a private key".to_owned())?;
    let url = format!(
        "{}{}",
        env("RESOURCE_SERVER_URL", "http://127.0.0.1:4021").trim_end_matches('/'),
        env("ENDPOINT_PATH", "/weather")
    );
    let (per_request, budget) = (env("MAX_PER_REQUEST", "$0.10"), env("BUDGET", "$1"));
    let limit = |asset: fn(&str, &str) -> coinslot_core::Result<AssetLimit>| {
        asset(&per_request, &budget).map_err(|e| format!("MAX_PER_REQUEST or BUDGET: {e}"))
    };
    let policy = SpendingPolicy::new()
        .allow(limit(AssetLimit::usdc_base_sepolia)?)
        .allow(limit(AssetLimit::usdc_base)?);
    let payer = Payer::builder()
        .with_wallet(ExactEvmClient::new(signer))
        .with_policy(policy)
        .build();
    let client = PayingClient::new(reqwest::Client::new(), payer);

    let response = client
        .send(client.get(&url))
        .await
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
