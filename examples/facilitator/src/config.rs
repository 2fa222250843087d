//! The service's settings: the environment first, then an optional JSON file.
//!
//! `FACILITATOR_CONFIG` names a file such as:
//!
//! ```json
//! {
//!   "store": "settlements.db",
//!   "assets": ["0x036CbD53842c5426634e7929541eC2318f3dCF7e"],
//!   "maxFeePerGasWei": "50000000000",
//!   "receiptTimeoutSeconds": 30,
//!   "erc6492Factories": []
//! }
//! ```
//!
//! `store` is a SQLite file (default: in memory, forgotten at exit); `assets` limits which
//! tokens are settled (default: any EIP-3009 token); the others are as `EvmChain` and
//! `ExactEvmFacilitator` document them. Every field is optional; an unknown one is an error.

use std::time::Duration;

use alloy::primitives::Address;
use serde::Deserialize;

/// Everything the service needs.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) port: u16,
    pub(crate) private_keys: Vec<String>,
    pub(crate) rpc_url: String,
    pub(crate) api_key: Option<String>,
    pub(crate) store: Option<String>,
    pub(crate) assets: Vec<Address>,
    pub(crate) max_fee_per_gas_wei: Option<u128>,
    receipt_timeout_seconds: Option<u64>,
    pub(crate) erc6492_factories: Vec<Address>,
}

/// The file's shape.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    store: Option<String>,
    #[serde(default)]
    assets: Vec<Address>,
    max_fee_per_gas_wei: Option<String>,
    receipt_timeout_seconds: Option<u64>,
    #[serde(default)]
    erc6492_factories: Vec<Address>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

impl Config {
    pub(crate) fn from_env() -> Result<Self, String> {
        let port = match env("PORT") {
            Some(port) => port
                .trim()
                .parse()
                .map_err(|_| format!("PORT {port:?} is not a port number"))?,
            None => 4022,
        };
        let private_keys: Vec<String> = env("EVM_PRIVATE_KEY")
            .ok_or("EVM_PRIVATE_KEY is required: the key(s) that send settlements")?
            .split(',')
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.is_empty())
            .collect();
        let file = match env("FACILITATOR_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("FACILITATOR_CONFIG {path}: {e}"))?;
                serde_json::from_str::<File>(&text)
                    .map_err(|e| format!("FACILITATOR_CONFIG {path}: {e}"))?
            }
            None => File::default(),
        };
        let max_fee_per_gas_wei = file
            .max_fee_per_gas_wei
            .map(|wei| {
                wei.parse()
                    .map_err(|_| format!("maxFeePerGasWei {wei:?} is not a whole number of wei"))
            })
            .transpose()?;
        Ok(Self {
            port,
            private_keys,
            rpc_url: env("EVM_RPC_URL").unwrap_or_else(|| "http://127.0.0.1:8545".to_owned()),
            api_key: env("FACILITATOR_API_KEY"),
            store: file.store,
            assets: file.assets,
            max_fee_per_gas_wei,
            receipt_timeout_seconds: file.receipt_timeout_seconds,
            erc6492_factories: file.erc6492_factories,
        })
    }

    pub(crate) fn receipt_timeout(&self) -> Duration {
        self.receipt_timeout_seconds
            .map_or(coinslot_evm::DEFAULT_RECEIPT_TIMEOUT, Duration::from_secs)
    }
}
