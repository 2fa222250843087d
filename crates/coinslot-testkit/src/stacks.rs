//! [`StacksDevnet`]: the Stacks node and Hiro API calls a facilitator makes, over a Clarinet
//! simnet (`js/stacks-devnet.mjs`): raw transactions are checked with `@stacks/transactions`
//! (signatures, nonce, fee, balance) and executed in blocks mined every 100 ms.
//!
//! SIP-010 tokens standing in for sBTC and USDCx sit at the real contract addresses of the
//! network, and a forged `sbtc-token` under another deployer stands beside them.
//!
//! ```no_run
//! # async fn example() -> coinslot_testkit::Result<()> {
//! use coinslot_testkit::stacks::{Funds, StacksDevnet};
//!
//! let devnet = StacksDevnet::start_testnet().await?;
//! let payer = "ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5";
//! devnet.fund(payer, Funds { stx: 1_000_000, sbtc: 10_000, usdcx: 0 }).await?;
//! assert_eq!(devnet.balances(payer).await?.sbtc, 10_000);
//! # Ok(()) }
//! ```

use std::process::Command;

use alloy::transports::http::reqwest;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::process::ServiceProcess;
use crate::tools::tools;

/// How often the devnet mines a block.
pub const BLOCK_MS: u64 = 100;

/// A running devnet; stopped when dropped.
#[derive(Debug)]
pub struct StacksDevnet {
    process: ServiceProcess,
    client: reqwest::Client,
    info: DevnetInfo,
}

/// What the devnet says of itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetInfo {
    /// `testnet` or `mainnet`.
    pub network: String,
    /// `0x80000000` or `1`.
    pub chain_id: u32,
    /// The tokens deployed at start.
    pub tokens: DevnetTokens,
    /// Where fees go.
    pub fee_sink: String,
}

/// The SIP-010 tokens of the devnet.
#[derive(Debug, Clone, Deserialize)]
pub struct DevnetTokens {
    /// sBTC's stand-in, at the network's sBTC contract.
    pub sbtc: DevnetToken,
    /// USDCx's stand-in, at the network's USDCx contract.
    pub usdcx: DevnetToken,
    /// The same code and contract name as sBTC under another deployer.
    pub fake: DevnetToken,
}

/// One token.
#[derive(Debug, Clone, Deserialize)]
pub struct DevnetToken {
    /// `ADDRESS.name`.
    pub contract: String,
    /// The fungible token defined in it (for post-conditions).
    pub asset: String,
    /// Decimals.
    pub decimals: u8,
}

/// Amounts to mint to an account, in atomic units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Funds {
    /// µSTX.
    pub stx: u128,
    /// sats of sBTC.
    pub sbtc: u128,
    /// micro-USDCx.
    pub usdcx: u128,
}

/// An account's balances, in atomic units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balances {
    /// µSTX.
    pub stx: u128,
    /// sBTC.
    pub sbtc: u128,
    /// USDCx.
    pub usdcx: u128,
    /// The forged sBTC.
    pub fake: u128,
}

impl StacksDevnet {
    /// A devnet of Stacks testnet (`stacks:2147483648`).
    pub async fn start_testnet() -> Result<Self> {
        Self::start("testnet").await
    }

    /// A devnet of Stacks mainnet (`stacks:1`).
    pub async fn start_mainnet() -> Result<Self> {
        Self::start("mainnet").await
    }

    async fn start(network: &str) -> Result<Self> {
        let script = tools()?.js_dir.join("stacks-devnet.mjs");
        let mut command = Command::new("node");
        command
            .arg(&script)
            .args(["--network", network, "--block-ms", &BLOCK_MS.to_string()]);
        let show_log = std::env::var_os("COINSLOT_SHOW_LOGS").is_some();
        let process = tokio::task::spawn_blocking(move || {
            ServiceProcess::spawn(command, "Stacks devnet listening", show_log)
        })
        .await
        .map_err(|e| Error::rpc("devnet", e))??;
        let client = reqwest::Client::new();
        let info = get(&client, &format!("{}/testkit/info", process.url())).await?;
        let info: DevnetInfo =
            serde_json::from_value(info).map_err(|e| Error::rpc("testkit/info", e))?;
        Ok(Self {
            process,
            client,
            info,
        })
    }

    /// The node's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        self.process.url()
    }

    /// What the devnet says of itself.
    pub fn info(&self) -> &DevnetInfo {
        &self.info
    }

    /// The CAIP-2 network.
    pub fn network(&self) -> coinslot_core::Network {
        if self.info.chain_id == 1 {
            coinslot_core::Network::stacks_mainnet()
        } else {
            coinslot_core::Network::stacks_testnet()
        }
    }

    /// Whether this is a devnet of mainnet.
    pub fn is_mainnet(&self) -> bool {
        self.info.chain_id == 1
    }

    /// Mints STX and tokens to `address`.
    pub async fn fund(&self, address: &str, funds: Funds) -> Result<Balances> {
        let body = json!({
            "address": address,
            "stx": funds.stx.to_string(),
            "sbtc": funds.sbtc.to_string(),
            "usdcx": funds.usdcx.to_string(),
        });
        let answer = self.post("/testkit/fund", body).await?;
        balances(&answer)
    }

    /// An account's balances.
    pub async fn balances(&self, principal: &str) -> Result<Balances> {
        let answer = get(
            &self.client,
            &format!("{}/testkit/balances/{principal}", self.url()),
        )
        .await?;
        balances(&answer)
    }

    /// Pauses or resumes mining: while paused, sent transactions stay pending.
    pub async fn set_mining(&self, enabled: bool) -> Result<()> {
        self.post("/testkit/mining", json!({ "enabled": enabled }))
            .await
            .map(drop)
    }

    /// Mines what can be mined now.
    pub async fn mine(&self) -> Result<()> {
        self.post("/testkit/mine", json!({})).await.map(drop)
    }

    /// Takes a pending transaction out of the mempool with a `dropped_*` status: the fault a
    /// real node shows when a fee bump or a full mempool evicts a transaction.
    pub async fn drop_transaction(&self, txid: &str, status: &str) -> Result<()> {
        self.post("/testkit/drop", json!({ "txid": txid, "status": status }))
            .await
            .map(drop)
    }

    /// The Hiro API's view of a transaction (`tx_status`, `block_height`, …).
    pub async fn transaction(&self, txid: &str) -> Result<Value> {
        get(
            &self.client,
            &format!("{}/extended/v1/tx/{txid}", self.url()),
        )
        .await
    }

    async fn post(&self, path: &'static str, body: Value) -> Result<Value> {
        let response = self
            .client
            .post(format!("{}{path}", self.url()))
            .json(&body)
            .send()
            .await
            .map_err(|e| Error::rpc(path, e))?;
        let status = response.status();
        let answer: Value = response.json().await.map_err(|e| Error::rpc(path, e))?;
        if !status.is_success() {
            return Err(Error::rpc(path, answer));
        }
        Ok(answer)
    }
}

async fn get(client: &reqwest::Client, url: &str) -> Result<Value> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| Error::rpc("devnet GET", e))?;
    let status = response.status();
    let answer: Value = response
        .json()
        .await
        .map_err(|e| Error::rpc("devnet GET", e))?;
    if !status.is_success() {
        return Err(Error::rpc("devnet GET", format!("{status}: {answer}")));
    }
    Ok(answer)
}

fn balances(answer: &Value) -> Result<Balances> {
    let read = |name: &str| -> Result<u128> {
        answer[name]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::rpc("testkit/balances", format!("no {name} in {answer}")))
    };
    Ok(Balances {
        stx: read("stx")?,
        sbtc: read("sbtc")?,
        usdcx: read("usdcx")?,
        fake: read("fake")?,
    })
}

/// `count` transactions built and signed by `@stacks/transactions` from `seed`
/// (`js/stacks-vectors.mjs generate`): every payload kind it builds, standard and sponsored,
/// single and multi-signature, post-conditions of each kind, both networks. Each is
/// `{hex, txid, verified, fields}`, `fields` the decoded transaction as plain JSON.
pub async fn stacks_js_generate(count: usize, seed: u32) -> Result<Vec<Value>> {
    let answer = crate::reference::run_script(
        "stacks-vectors.mjs",
        "generate",
        json!({ "count": count, "seed": seed }),
    )
    .await?;
    list(answer)
}

/// How `@stacks/transactions` reads each transaction (hex): `{hex, txid, verified, fields}`, or
/// `{hex, error}` for one it cannot decode.
pub async fn stacks_js_check(transactions: &[String]) -> Result<Vec<Value>> {
    let answer = crate::reference::run_script(
        "stacks-vectors.mjs",
        "check",
        json!({ "transactions": transactions }),
    )
    .await?;
    list(answer)
}

/// How many transactions (hex) per second `@stacks/transactions` decodes and verifies (origin
/// and sponsor signatures), looping over `transactions` for `seconds` in one Node process:
/// `{perSecond, count, seconds}`. Fails if any of them does not verify.
pub async fn stacks_js_verify_rate(transactions: &[String], seconds: f64) -> Result<Value> {
    crate::reference::run_script(
        "stacks-bench.mjs",
        "run",
        json!({ "transactions": transactions, "seconds": seconds }),
    )
    .await
}

fn list(answer: Value) -> Result<Vec<Value>> {
    match answer {
        Value::Array(items) => Ok(items),
        other => Err(Error::rpc(
            "stacks-vectors.mjs",
            format!("not a list: {other}"),
        )),
    }
}

/// The `x402-stacks` npm client (2.0.3) GETs `url`, paying from `private_key` (hex) on
/// `network` (`testnet` or `mainnet`), its Hiro API calls routed to the devnet. Answers
/// `{status, data, payer, paymentResponse}` or `{status, error}`.
pub async fn x402_stacks_get(devnet: &StacksDevnet, url: &str, private_key: &str) -> Result<Value> {
    let network = if devnet.is_mainnet() {
        "mainnet"
    } else {
        "testnet"
    };
    crate::reference::run_script(
        "x402-stacks-client.mjs",
        "pay",
        json!({
            "url": url,
            "privateKey": private_key,
            "network": network,
            "nodeUrl": devnet.url(),
        }),
    )
    .await
}

/// A paid route behind the `x402-stacks` npm server middleware (2.0.3, on express), which
/// settles through the facilitator at `facilitator_url` without verifying first and serves
/// the content whenever the settle answers success: `GET /paid` for `amount` µSTX to
/// `pay_to` on the devnet's network, and `GET /served`, free, counting what `/paid` served.
pub fn x402_stacks_server(
    devnet: &StacksDevnet,
    facilitator_url: &str,
    pay_to: &str,
    amount: u64,
) -> Result<ServiceProcess> {
    let network = if devnet.is_mainnet() {
        "mainnet"
    } else {
        "testnet"
    };
    let mut node = Command::new("node");
    node.arg(tools()?.js_dir.join("x402-stacks-server.mjs"))
        .env("FACILITATOR_URL", facilitator_url)
        .env("PAY_TO", pay_to)
        .env("NETWORK", network)
        .env("AMOUNT", amount.to_string());
    ServiceProcess::spawn(node, "Server listening", true)
}
