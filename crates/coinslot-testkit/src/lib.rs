//! # coinslot-testkit
//!
//! Local chains for coinslot's tests, benches and examples. Not published.
//!
//! [`LocalChain::start`] brings up anvil (from the npm package pinned in `js/package-lock.json`)
//! on a free loopback port with chain id 84532, places our EIP-3009 test token
//! (`contracts/TestUSDC.sol`) at the Base Sepolia USDC address and Permit2 at its canonical
//! address, and mints USDC to the payer, so that every x402 implementation's defaults for
//! `eip155:84532` work against it unchanged.
//!
//! ```no_run
//! # async fn example() -> coinslot_testkit::Result<()> {
//! use coinslot_testkit::LocalChain;
//!
//! let chain = LocalChain::start().await?;
//! let payer = chain.accounts().payer.address();
//! let expected = alloy::primitives::U256::from(coinslot_testkit::PAYER_USDC);
//! assert_eq!(chain.usdc_balance(payer).await?, expected);
//! # Ok(()) }
//! ```
//!
//! [`stacks::StacksDevnet`] brings up the Stacks devnet: the node API over a Clarinet simnet,
//! with sBTC and USDCx stand-ins at their real contract addresses.
//!
//! The first use on a machine runs `npm ci` in `js/` and compiles the contracts with solc from
//! npm; the output is cached under `target/coinslot-testkit/`.

pub mod bindings;
pub mod browser;
mod chain;
mod error;
mod loopback;
mod process;
pub mod reference;
pub mod stacks;
pub mod tools;

pub use chain::{
    Accounts, CHAIN_ID, EXACT_PERMIT2_PROXY, Hostile, LocalChain, PAYER_PERMIT_TOKEN, PAYER_USDC,
    PERMIT_TOKEN, PERMIT2, UPTO_PERMIT2_PROXY, USDC, USDC_DECIMALS, USDC_NAME, USDC_VERSION,
    WALLET_FACTORY, confirm, erc6492_probe_bytecode, exact_requirements, permit2_requirements,
    upto_requirements,
};
pub use error::{Error, Result};
pub use loopback::{Loopback, serve};
pub use process::ServiceProcess;
