//! # coinslot-evm
//!
//! x402 payments on EVM chains (`eip155:*`).
//!
//! - [`exact`]: the `exact` scheme with EIP-3009 `transferWithAuthorization`, the default way
//!   x402 moves USDC. [`exact::ExactEvmClient`] signs payments with any alloy
//!   [`Signer`](alloy::signers::Signer) (a local key, a hardware wallet, a cloud KMS);
//!   [`exact::ExactEvmFacilitator`] verifies and settles them, for keys, deployed contract
//!   wallets (ERC-1271) and wallets not yet deployed (ERC-6492).
//!   The same client and facilitator pay and settle `exact` through [Permit2](permit2) too,
//!   for any ERC-20 (`extra.assetTransferMethod: "permit2"`).
//! - [`upto`]: metered payments. The payer signs a maximum through Permit2;
//!   [`upto::UptoEvmFacilitator`] settles the charge the server names, any amount up to it.
//! - [`EvmChain`]: the chain as a facilitator sees it: a provider for reads, and several
//!   settlement keys, each with its own nonce manager, under a gas price cap; every call it
//!   makes for a payment runs under a [`GasCaps`] cap, and a call that reverts or halts (out of
//!   gas, an invalid opcode) refuses the payment rather than failing as a node error.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod chain;
mod clock;
mod contracts;
mod erc6492;
pub mod exact;
pub mod permit2;
mod policy;
mod recovery;
mod signature;
mod terms;
pub mod upto;
mod wire;

pub use chain::{DEFAULT_RECEIPT_TIMEOUT, EvmChain, EvmChainBuilder, GasCaps};

/// The alloy this crate is built on (2.5, with local keys and, under the `http` feature, the HTTP
/// transport): its types (`PrivateKeySigner`, `Address`, `DynProvider`, `ProviderBuilder`)
/// are the ones this crate's API takes, whatever alloy your own crate depends on.
pub use alloy;
