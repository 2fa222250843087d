//! The coinslot demo, the README's first command: local chains (EVM and Stacks), the
//! facilitator service, the paid API and the paying agent, each a real process talking over
//! HTTP.
//!
//! 1. anvil on chain 84532 with the USDC test token at the Base Sepolia address (the testkit);
//! 2. `facilitator` (examples/facilitator), settling with one of the chain's funded keys;
//! 3. `server` (examples/server), paid to the payee;
//! 4. `client` (examples/client) for a handful of calls, printing for each the price, what was
//!    charged (less than the price for the metered `upto` call), the transaction and both
//!    balances;
//! 5. the same on Stacks: the testkit's Stacks devnet, the facilitator and the server told of
//!    it, the client paying in STX, sBTC and USDCx;
//! 6. everything stopped: the server by `POST /close`, the facilitator by SIGINT, the chains
//!    last.
//!
//! The three service binaries are looked for beside this one (`cargo build` puts them there).

use std::path::{Path, PathBuf};
use std::process::Command;

use coinslot::evm::alloy::primitives::{Address, U256};
use coinslot::evm::alloy::signers::local::PrivateKeySigner;
use coinslot::stacks::PrivateKey;
use coinslot::{PaymentRequired, TokenAmount};
use coinslot_testkit::stacks::{Funds, StacksDevnet};
use coinslot_testkit::{LocalChain, ServiceProcess, USDC_DECIMALS};
use serde_json::Value;

/// The calls the agent makes.
const CALLS: [&str; 7] = [
    "/weather",
    "/exact/evm/eip3009",
    "/words?count=3",
    "/words?count=250",
    "/exact/evm/permit2",
    "/upto/evm/permit2",
    "/free",
];

#[tokio::main]
async fn main() {
    if let Err(message) = run().await {
        eprintln!("demo: {message}");
        std::process::exit(1);
    }
}

fn key_hex(signer: &PrivateKeySigner) -> String {
    coinslot::evm::alloy::hex::encode_prefixed(signer.to_bytes())
}

fn usdc(amount: U256) -> String {
    TokenAmount::from(amount).to_decimal_string(USDC_DECIMALS)
}

fn beside_me(name: &str) -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.parent().map(|dir| dir.join(name)).unwrap_or_default();
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build the examples first (scripts/demo.sh does)",
            path.display()
        ))
    }
}

async fn run() -> Result<(), String> {
    let (facilitator_bin, server_bin, client_bin) = (
        beside_me("facilitator")?,
        beside_me("server")?,
        beside_me("client")?,
    );

    println!("Starting anvil (chain 84532) with the USDC test token...");
    let chain = LocalChain::start().await.map_err(|e| e.to_string())?;
    let accounts = chain.accounts();
    let (payer, payee) = (accounts.payer.address(), accounts.payee.address());
    println!("Starting the Stacks devnet (testnet) with sBTC and USDCx...");
    let devnet = StacksDevnet::start_testnet()
        .await
        .map_err(|e| e.to_string())?;
    let stacks_payer = stacks_key("coinslot demo payer")?;
    let stacks_payer_address = stacks_payer.address(false).to_string();
    let stacks_payee = stacks_key("coinslot demo payee")?
        .address(false)
        .to_string();
    devnet
        .fund(
            &stacks_payer_address,
            Funds {
                stx: 10_000_000,
                sbtc: 100_000,
                usdcx: 10_000_000,
            },
        )
        .await
        .map_err(|e| e.to_string())?;

    let facilitator = ServiceProcess::start(
        &facilitator_bin,
        &[
            ("PORT", "0".to_owned()),
            ("EVM_PRIVATE_KEY", key_hex(&accounts.settlers[0])),
            ("EVM_RPC_URL", chain.rpc_url().to_string()),
            ("STACKS_NODE_URL", devnet.url().to_owned()),
        ],
        "Facilitator listening",
        false,
    )
    .map_err(|e| e.to_string())?;
    println!("Facilitator on {}", facilitator.url());
    let mut server = ServiceProcess::start(
        &server_bin,
        &[
            ("PORT", "0".to_owned()),
            ("FACILITATOR_URL", facilitator.url().to_owned()),
            ("EVM_PAYEE_ADDRESS", payee.to_checksum(None)),
            ("STACKS_PAYEE_ADDRESS", stacks_payee.clone()),
        ],
        "Server listening",
        false,
    )
    .map_err(|e| e.to_string())?;
    println!("Paid API on {} (payee {payee})", server.url());
    println!("Paying agent: {payer}\n");

    println!("(`upto` is metered: its price is a maximum, and it charges per word written)");
    println!(
        "{:<22} {:>6} {:>10} {:>10}  {:<68} {:>14} {:>10}",
        "call", "status", "price", "charged", "transaction", "payer USDC", "payee USDC"
    );
    for path in CALLS {
        let price = price_of(server.url(), path).await?;
        // The node lets the agent approve Permit2 once when a server asks for it.
        let outcome = pay(
            &client_bin,
            &[
                ("EVM_PRIVATE_KEY", key_hex(&accounts.payer)),
                ("EVM_RPC_URL", chain.rpc_url().to_string()),
            ],
            server.url(),
            path,
        )?;
        let receipt = &outcome["payment_response"];
        let transaction = receipt["transaction"].as_str().unwrap_or("-");
        let charged = receipt["amount"]
            .as_str()
            .and_then(|amount| TokenAmount::parse(amount).ok())
            .map_or_else(
                || "-".to_owned(),
                |amount| format!("${}", usdc(amount.as_u256())),
            );
        println!(
            "{:<22} {:>6} {:>10} {:>10}  {:<68} {:>14} {:>10}",
            format!("GET {path}"),
            outcome["status_code"].to_string(),
            price,
            charged,
            if transaction.is_empty() {
                "-"
            } else {
                transaction
            },
            balance(&chain, payer).await?,
            balance(&chain, payee).await?,
        );
    }

    println!("\nOn Stacks: agent {stacks_payer_address}, payee {stacks_payee}\n");
    println!(
        "{:<24} {:>6} {:>14}  {:<68} {:>26} {:>26}",
        "call", "status", "price", "transaction", "payer STX/sBTC/USDCx", "payee STX/sBTC/USDCx"
    );
    for path in STACKS_CALLS {
        let price = price_of(server.url(), path).await?;
        let outcome = pay(
            &client_bin,
            &[
                ("STACKS_PRIVATE_KEY", stacks_payer.to_hex().to_string()),
                ("STACKS_NODE_URL", devnet.url().to_owned()),
            ],
            server.url(),
            path,
        )?;
        let transaction = outcome["payment_response"]["transaction"]
            .as_str()
            .unwrap_or("-")
            .to_owned();
        println!(
            "{:<24} {:>6} {:>14}  {:<68} {:>26} {:>26}",
            format!("GET {path}"),
            outcome["status_code"].to_string(),
            price,
            transaction,
            stacks_balances(&devnet, &stacks_payer_address).await?,
            stacks_balances(&devnet, &stacks_payee).await?,
        );
    }

    println!("\nStopping the server, the facilitator and the chains...");
    reqwest::Client::new()
        .post(format!("{}/close", server.url()))
        .send()
        .await
        .map_err(|e| format!("POST /close: {e}"))?;
    let server_ok = server.wait().map_err(|e| e.to_string())?;
    let facilitator_ok = facilitator.interrupt().map_err(|e| e.to_string())?;
    drop(chain);
    drop(devnet);
    if !(server_ok && facilitator_ok) {
        return Err("a service did not stop cleanly".to_owned());
    }
    println!("Done.");
    Ok(())
}

/// The Stacks calls the agent makes.
const STACKS_CALLS: [&str; 3] = [
    "/exact/stacks/stx",
    "/exact/stacks/sbtc",
    "/exact/stacks/usdcx",
];

/// A Stacks key from a name: the same in every run.
fn stacks_key(name: &str) -> Result<PrivateKey, String> {
    PrivateKey::from_bytes(&coinslot::evm::alloy::primitives::keccak256(name.as_bytes()).0)
        .map_err(|e| e.to_string())
}

async fn stacks_balances(devnet: &StacksDevnet, who: &str) -> Result<String, String> {
    let b = devnet.balances(who).await.map_err(|e| e.to_string())?;
    let show = |amount: u128, decimals: u8| TokenAmount::from(amount).to_decimal_string(decimals);
    Ok(format!(
        "{}/{}/{}",
        show(b.stx, 6),
        show(b.sbtc, 8),
        show(b.usdcx, 6)
    ))
}

/// The price the server asks for `path`, read from its 402 (`free` if it asks nothing).
async fn price_of(base: &str, path: &str) -> Result<String, String> {
    let response = reqwest::get(format!("{base}{path}"))
        .await
        .map_err(|e| e.to_string())?;
    let Some(header) = response.headers().get("payment-required") else {
        return Ok("free".to_owned());
    };
    let required = PaymentRequired::from_header(header.as_bytes()).map_err(|e| e.to_string())?;
    Ok(required.accepts.first().map_or_else(
        || "-".to_owned(),
        |offer| match offer.asset.as_str() {
            "STX" => format!("{} STX", offer.amount.to_decimal_string(6)),
            asset if asset.ends_with(".sbtc-token") => {
                format!("{} sBTC", offer.amount.to_decimal_string(8))
            }
            asset if asset.ends_with(".usdcx") => {
                format!("{} USDCx", offer.amount.to_decimal_string(6))
            }
            _ => format!("${}", offer.amount.to_decimal_string(USDC_DECIMALS)),
        },
    ))
}

/// Runs the paying agent once with its key and settings (`EVM_PRIVATE_KEY`, or
/// `STACKS_PRIVATE_KEY` and `STACKS_NODE_URL`); returns the JSON of its last line.
fn pay(client: &Path, envs: &[(&str, String)], base: &str, path: &str) -> Result<Value, String> {
    let output = Command::new(client)
        .env_remove("EVM_PRIVATE_KEY")
        .env_remove("STACKS_PRIVATE_KEY")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RESOURCE_SERVER_URL", base)
        .env("ENDPOINT_PATH", path)
        .output()
        .map_err(|e| format!("client: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let outcome: Value =
        serde_json::from_str(last).map_err(|_| format!("client printed {stdout:?}"))?;
    if !output.status.success() {
        return Err(format!("client failed for {path}: {last}"));
    }
    Ok(outcome)
}

async fn balance(chain: &LocalChain, who: Address) -> Result<String, String> {
    chain
        .usdc_balance(who)
        .await
        .map(usdc)
        .map_err(|e| e.to_string())
}
