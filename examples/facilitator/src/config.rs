//! The service's settings: the environment, and an optional JSON file for the rest.
//!
//! `FACILITATOR_CONFIG` names a file such as:
//!
//! ```json
//! {
//!   "store": "settlements.db",
//!   "minimumAmount": "1",
//!   "minimumAmounts": { "0x036CbD53842c5426634e7929541eC2318f3dCF7e": "100" },
//!   "networks": [
//!     {
//!       "rpcUrl": "https://sepolia.base.org",
//!       "assets": ["0x036CbD53842c5426634e7929541eC2318f3dCF7e"],
//!       "maxFeePerGasWei": "50000000000",
//!       "receiptTimeoutSeconds": 30,
//!       "erc6492Factories": [],
//!       "eip2612GasSponsoring": true,
//!       "erc20ApprovalGasSponsoring": false,
//!       "gasCaps": { "read": 100000, "signature": 500000, "transfer": 700000, "deployment": 1500000 }
//!     }
//!   ]
//! }
//! ```
//!
//! `store` is a SQLite file (default: in memory, forgotten at exit). `minimumAmount` is the
//! least amount of any asset, in atomic units, a payment may be for (default 1: zero-value
//! payments are refused), and `minimumAmounts` the least of particular assets. Each entry of
//! `networks` is one EVM chain (its id is asked from the node) with the tokens settled there
//! (default: any EIP-3009 token), the gas price cap, the receipt timeout, the ERC-6492
//! factories allowed, whether Permit2 payers' EIP-2612 permits are submitted for them
//! (`eip2612GasSponsoring`, default off: the facilitator pays that gas), whether their signed
//! `approve` transactions are funded and broadcast (`erc20ApprovalGasSponsoring`, default off:
//! the facilitator gives each such payer the gas its approval may cost), and the most gas each
//! kind of call made for a payment may use (any of the four, the others at their defaults);
//! only `rpcUrl` is required. Without `networks`,
//! the one chain is `EVM_RPC_URL`. The keys of `EVM_PRIVATE_KEY` settle on every chain. An
//! unknown field is an error.
//!
//! Stacks is configured by environment alone: `STACKS_NODE_URL` (a node with the Hiro API),
//! `STACKS_NETWORK` and `STACKS_DELIVERY`. Without `EVM_PRIVATE_KEY` the service settles on
//! Stacks only.

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::primitives::Address;
use coinslot_core::TokenAmount;
use coinslot_evm::GasCaps;
use coinslot_stacks::exact::Delivery;
use coinslot_stacks::network::StacksNetwork;
use serde::Deserialize;

/// Everything the service needs.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) port: u16,
    pub(crate) private_keys: Vec<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) store: Option<String>,
    pub(crate) minimum_amount: Option<TokenAmount>,
    pub(crate) minimum_amounts: BTreeMap<String, TokenAmount>,
    pub(crate) networks: Vec<NetworkConfig>,
    pub(crate) stacks: Option<StacksConfig>,
}

/// The Stacks network: its node, and when a settlement counts as done.
#[derive(Debug)]
pub(crate) struct StacksConfig {
    pub(crate) node_url: String,
    pub(crate) network: StacksNetwork,
    pub(crate) delivery: Delivery,
}

/// One chain.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NetworkConfig {
    pub(crate) rpc_url: String,
    #[serde(default)]
    pub(crate) assets: Vec<Address>,
    max_fee_per_gas_wei: Option<String>,
    receipt_timeout_seconds: Option<u64>,
    #[serde(default)]
    pub(crate) erc6492_factories: Vec<Address>,
    #[serde(default)]
    pub(crate) eip2612_gas_sponsoring: bool,
    #[serde(default)]
    pub(crate) erc20_approval_gas_sponsoring: bool,
    #[serde(default)]
    gas_caps: GasCapsConfig,
}

/// The gas caps of one chain, each at its default when not given.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GasCapsConfig {
    read: Option<u64>,
    signature: Option<u64>,
    transfer: Option<u64>,
    deployment: Option<u64>,
}

/// The file's shape.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    store: Option<String>,
    minimum_amount: Option<TokenAmount>,
    #[serde(default)]
    minimum_amounts: BTreeMap<String, TokenAmount>,
    #[serde(default)]
    networks: Vec<NetworkConfig>,
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
        let stacks = StacksConfig::from_env()?;
        let private_keys: Vec<String> = match env("EVM_PRIVATE_KEY") {
            Some(keys) => keys
                .split(',')
                .map(|key| key.trim().to_owned())
                .filter(|key| !key.is_empty())
                .collect(),
            None if stacks.is_some() => Vec::new(),
            None => {
                return Err(
                    "EVM_PRIVATE_KEY is required: the key(s) that send settlements \
                            (or STACKS_NODE_URL, for a Stacks-only facilitator)"
                        .into(),
                );
            }
        };
        let file = match env("FACILITATOR_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("FACILITATOR_CONFIG {path}: {e}"))?;
                serde_json::from_str::<File>(&text)
                    .map_err(|e| format!("FACILITATOR_CONFIG {path}: {e}"))?
            }
            None => File::default(),
        };
        let networks = if private_keys.is_empty() {
            Vec::new()
        } else if file.networks.is_empty() {
            vec![NetworkConfig {
                rpc_url: env("EVM_RPC_URL").unwrap_or_else(|| "http://127.0.0.1:8545".to_owned()),
                assets: Vec::new(),
                max_fee_per_gas_wei: None,
                receipt_timeout_seconds: None,
                erc6492_factories: Vec::new(),
                eip2612_gas_sponsoring: false,
                erc20_approval_gas_sponsoring: false,
                gas_caps: GasCapsConfig::default(),
            }]
        } else {
            file.networks
        };
        Ok(Self {
            port,
            private_keys,
            api_key: env("FACILITATOR_API_KEY"),
            store: file.store,
            minimum_amount: file.minimum_amount,
            minimum_amounts: file.minimum_amounts,
            networks,
            stacks,
        })
    }
}

impl StacksConfig {
    /// `STACKS_NODE_URL`, `STACKS_NETWORK` (`testnet` by default, or `mainnet`) and
    /// `STACKS_DELIVERY` (`confirmed` by default, or `mempool`); none without a node URL.
    fn from_env() -> Result<Option<Self>, String> {
        let Some(node_url) = env("STACKS_NODE_URL") else {
            return Ok(None);
        };
        let network = match env("STACKS_NETWORK").as_deref() {
            None | Some("testnet" | "stacks:2147483648") => StacksNetwork::Testnet,
            Some("mainnet" | "stacks:1") => StacksNetwork::Mainnet,
            Some(other) => return Err(format!("STACKS_NETWORK {other:?}: use testnet or mainnet")),
        };
        let delivery = match env("STACKS_DELIVERY").as_deref() {
            None | Some("confirmed") => Delivery::Confirmed,
            Some("mempool") => Delivery::Mempool,
            Some(other) => {
                return Err(format!(
                    "STACKS_DELIVERY {other:?}: use confirmed or mempool"
                ));
            }
        };
        Ok(Some(Self {
            node_url,
            network,
            delivery,
        }))
    }
}

impl NetworkConfig {
    pub(crate) fn max_fee_per_gas(&self) -> Result<Option<u128>, String> {
        self.max_fee_per_gas_wei
            .as_deref()
            .map(|wei| {
                wei.parse()
                    .map_err(|_| format!("maxFeePerGasWei {wei:?} is not a whole number of wei"))
            })
            .transpose()
    }

    pub(crate) fn gas_caps(&self) -> GasCaps {
        let mut caps = GasCaps::default();
        let given = &self.gas_caps;
        caps.read = given.read.unwrap_or(caps.read);
        caps.signature = given.signature.unwrap_or(caps.signature);
        caps.transfer = given.transfer.unwrap_or(caps.transfer);
        caps.deployment = given.deployment.unwrap_or(caps.deployment);
        caps
    }

    pub(crate) fn receipt_timeout(&self) -> Duration {
        self.receipt_timeout_seconds
            .map_or(coinslot_evm::DEFAULT_RECEIPT_TIMEOUT, Duration::from_secs)
    }
}
