//! # coinslot-evm
//!
//! x402 payments on EVM chains (`eip155:*`).
//!
//! - [`exact`]: the `exact` scheme with EIP-3009 `transferWithAuthorization`, the default way
//!   x402 moves USDC. Today this crate has its client side, [`exact::ExactEvmClient`], which
//!   signs with any alloy [`Signer`](alloy::signers::Signer): a local key, a hardware wallet or a
//!   cloud KMS.
//!
//! Verification and settlement (the facilitator side), Permit2 and `upto` are still to come.

pub mod exact;
