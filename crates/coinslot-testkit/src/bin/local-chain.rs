//! Keeps a local chain running for people trying coinslot by hand (see the testkit's README):
//!
//! ```sh
//! cargo run -p coinslot-testkit --bin local-chain            # anvil on 127.0.0.1:8545
//! cargo run -p coinslot-testkit --bin local-chain -- --port 8546
//! cargo run -p coinslot-testkit --bin local-chain -- stacks --fund ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5
//! ```
//!
//! It prints what to point coinslot at (the node's URL, the token, funded keys), then runs until
//! Ctrl-C.

use coinslot_testkit::stacks::{Funds, StacksDevnet};
use coinslot_testkit::{CHAIN_ID, LocalChain, PAYER_USDC, USDC, USDC_DECIMALS};

const USAGE: &str = "usage: local-chain [evm] [--port N] | local-chain stacks [--fund ADDRESS]...";

#[tokio::main]
async fn main() {
    if let Err(message) = run(std::env::args().skip(1).collect()).await {
        eprintln!("local-chain: {message}");
        std::process::exit(1);
    }
}

async fn run(args: Vec<String>) -> Result<(), String> {
    let (chain, rest) = match args.first().map(String::as_str) {
        Some("stacks") => ("stacks", &args[1..]),
        Some("evm") => ("evm", &args[1..]),
        _ => ("evm", &args[..]),
    };
    match (chain, rest) {
        ("evm", []) => evm(8545).await,
        ("evm", [flag, port]) if flag == "--port" => {
            evm(port
                .parse()
                .map_err(|_| format!("{port:?} is not a port"))?)
            .await
        }
        ("stacks", rest) if rest.len() % 2 == 0 => {
            let addresses = rest
                .chunks(2)
                .map(|pair| match pair {
                    [flag, address] if flag == "--fund" => Ok(address.clone()),
                    _ => Err(USAGE.to_owned()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            stacks(&addresses).await
        }
        _ => Err(USAGE.to_owned()),
    }
}

fn key_hex(key: &alloy::signers::local::PrivateKeySigner) -> String {
    alloy::hex::encode_prefixed(key.to_bytes())
}

async fn evm(port: u16) -> Result<(), String> {
    let chain = LocalChain::start_on_port(port)
        .await
        .map_err(|e| format!("{e} (is port {port} taken? try --port)"))?;
    let accounts = chain.accounts();
    let usdc = coinslot_core::TokenAmount::from(PAYER_USDC).to_decimal_string(USDC_DECIMALS);
    println!(
        "anvil on {} (chain {CHAIN_ID}, eip155:{CHAIN_ID})",
        chain.rpc_url()
    );
    println!("USDC test token (EIP-712 name \"USDC\", version \"2\"): {USDC}");
    println!();
    println!(
        "payer        {}  holds {usdc} USDC",
        accounts.payer.address()
    );
    println!("  EVM_PRIVATE_KEY={}", key_hex(&accounts.payer));
    println!("payee        {}", accounts.payee.address());
    println!(
        "facilitator  {}  pays the gas",
        accounts.settlers[0].address()
    );
    println!("  EVM_PRIVATE_KEY={}", key_hex(&accounts.settlers[0]));
    println!();
    println!("Running until Ctrl-C.");
    wait().await;
    drop(chain);
    Ok(())
}

async fn stacks(addresses: &[String]) -> Result<(), String> {
    let devnet = StacksDevnet::start_testnet()
        .await
        .map_err(|e| e.to_string())?;
    let info = devnet.info();
    println!(
        "Stacks devnet (testnet, stacks:2147483648) on {}",
        devnet.url()
    );
    println!("sBTC  {}", info.tokens.sbtc.contract);
    println!("USDCx {}", info.tokens.usdcx.contract);
    let funds = Funds {
        stx: 10_000_000,
        sbtc: 100_000,
        usdcx: 10_000_000,
    };
    for address in addresses {
        devnet
            .fund(address, funds)
            .await
            .map_err(|e| format!("funding {address}: {e}"))?;
        println!("funded {address}: 10 STX, 0.001 sBTC, 10 USDCx");
    }
    println!();
    println!("Running until Ctrl-C.");
    wait().await;
    Ok(())
}

async fn wait() {
    let _ = tokio::signal::ctrl_c().await;
}
