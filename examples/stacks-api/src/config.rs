//! [`Config`]: the service's settings, read from the environment.

use std::path::PathBuf;

use coinslot::evm::alloy::primitives::Address;
use coinslot::stacks::StacksAddress;
use coinslot::stacks::network::StacksNetwork;

use crate::pricing::Rates;

/// Where payments are verified and settled.
#[derive(Debug, Clone)]
pub enum FacilitatorChoice {
    /// A facilitator over HTTP (`FACILITATOR_URL`, and `FACILITATOR_API_KEY` if it asks for one).
    Remote {
        /// Its base URL.
        url: String,
        /// Its bearer token.
        api_key: Option<String>,
    },
    /// In this process: Stacks payments through `STACKS_NODE_URL`; USDC through `EVM_RPC_URL`
    /// with `EVM_PRIVATE_KEY` paying the gas, when `EVM_PAYEE_ADDRESS` is set.
    InProcess,
}

/// USDC on an EVM chain, besides the Stacks tokens.
#[derive(Debug, Clone)]
pub struct EvmConfig {
    /// Who is paid.
    pub payee: Address,
    /// `eip155:84532` (Base Sepolia, also the local test chain) or `eip155:8453` (Base).
    pub mainnet: bool,
    /// A node of the chain, for the in-process facilitator.
    pub rpc_url: Option<String>,
    /// The key that settles, for the in-process facilitator.
    pub private_key: Option<String>,
}

/// Everything the service is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 4030; 0 takes a free port).
    pub port: u16,
    /// `PUBLIC_URL`: the address clients know the service by (default `http://127.0.0.1:<port>`).
    pub public_url: Option<String>,
    /// `STACKS_PAYEE_ADDRESS`: who is paid in STX, sBTC and USDCx.
    pub stacks_payee: StacksAddress,
    /// `STACKS_NETWORK` (`mainnet`, `testnet`, or CAIP-2); by default the payee's network.
    pub stacks_network: StacksNetwork,
    /// `STACKS_NODE_URL`: a Stacks node with the Hiro API (default `http://127.0.0.1:3999`).
    pub stacks_node_url: String,
    /// `FACILITATOR_URL`, or in-process when unset.
    pub facilitator: FacilitatorChoice,
    /// `DATA_DIR`: the usage record, the API keys, each payer's database (default `./data`).
    pub data_dir: PathBuf,
    /// `EVM_PAYEE_ADDRESS` and its companions.
    pub evm: Option<EvmConfig>,
    /// `STX_USD`, `SBTC_USD`, `USDCX_USD`: what one whole token is worth, to price sBTC and
    /// USDCx from the STX price.
    pub rates: Rates,
    /// `FREE_CALLS_PER_DAY`: free calls per client address and UTC day on the stateless
    /// routes (hashing, Stacks utilities); 0, the default, turns the free tier off.
    pub free_calls_per_day: u64,
    /// `API_KEY_COST`: credits an API key pays per call (default 1).
    pub api_key_cost: u64,
    /// `MODELS_DIR`: where `scripts/install-models.sh` put the models (default `target/models`,
    /// from the workspace's root); vector memory embeds with the all-MiniLM-L6-v2 found there.
    pub models_dir: PathBuf,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    env(name).map_or(Ok(default), |text| {
        text.parse()
            .map_err(|_| format!("{name} is not a number: {text:?}"))
    })
}

impl Config {
    /// Reads the environment; a missing or malformed setting is an error that names it.
    pub fn from_env() -> Result<Self, String> {
        let payee = env("STACKS_PAYEE_ADDRESS").ok_or(
            "STACKS_PAYEE_ADDRESS is required: the Stacks address paid in STX, sBTC and USDCx",
        )?;
        let stacks_payee: StacksAddress = payee
            .parse()
            .map_err(|e| format!("STACKS_PAYEE_ADDRESS: {e}"))?;
        let stacks_network = match env("STACKS_NETWORK").as_deref() {
            None if stacks_payee.is_mainnet() => StacksNetwork::Mainnet,
            None => StacksNetwork::Testnet,
            Some("mainnet" | "stacks:1") => StacksNetwork::Mainnet,
            Some("testnet" | "stacks:2147483648") => StacksNetwork::Testnet,
            Some(other) => return Err(format!("STACKS_NETWORK {other:?}: use mainnet or testnet")),
        };
        if stacks_payee.is_mainnet() != stacks_network.is_mainnet() {
            return Err(format!(
                "STACKS_PAYEE_ADDRESS {stacks_payee} is not an address of {}",
                stacks_network.caip2()
            ));
        }
        let evm = match env("EVM_PAYEE_ADDRESS") {
            None => None,
            Some(payee) => Some(EvmConfig {
                payee: payee
                    .parse()
                    .map_err(|_| "EVM_PAYEE_ADDRESS is not an EVM address".to_owned())?,
                mainnet: match env("EVM_NETWORK").as_deref() {
                    None | Some("eip155:84532" | "base-sepolia") => false,
                    Some("eip155:8453" | "base") => true,
                    Some(other) => {
                        return Err(format!(
                            "EVM_NETWORK {other:?}: use eip155:84532 or eip155:8453"
                        ));
                    }
                },
                rpc_url: env("EVM_RPC_URL"),
                private_key: env("EVM_PRIVATE_KEY"),
            }),
        };
        let facilitator = match env("FACILITATOR_URL") {
            Some(url) => FacilitatorChoice::Remote {
                url,
                api_key: env("FACILITATOR_API_KEY"),
            },
            None => {
                if let Some(evm) = &evm
                    && (evm.rpc_url.is_none() || evm.private_key.is_none())
                {
                    return Err(
                        "EVM_PAYEE_ADDRESS without FACILITATOR_URL needs EVM_RPC_URL \
                                and EVM_PRIVATE_KEY for the in-process facilitator"
                            .into(),
                    );
                }
                FacilitatorChoice::InProcess
            }
        };
        let rates = Rates::parse(
            env("STX_USD").as_deref(),
            env("SBTC_USD").as_deref(),
            env("USDCX_USD").as_deref(),
        )?;
        Ok(Self {
            port: number("PORT", 4030)?,
            public_url: env("PUBLIC_URL"),
            stacks_payee,
            stacks_network,
            stacks_node_url: env("STACKS_NODE_URL")
                .unwrap_or_else(|| "http://127.0.0.1:3999".to_owned()),
            facilitator,
            data_dir: env("DATA_DIR").map_or_else(|| PathBuf::from("data"), PathBuf::from),
            evm,
            rates,
            free_calls_per_day: number("FREE_CALLS_PER_DAY", 0)?,
            api_key_cost: number("API_KEY_COST", 1)?,
            models_dir: env("MODELS_DIR").map_or_else(
                || PathBuf::from(coinslot_example_inference::MODELS_DIR),
                PathBuf::from,
            ),
        })
    }
}
