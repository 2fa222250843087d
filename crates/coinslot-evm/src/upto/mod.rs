//! The `upto` scheme on EVM: the payer signs, through [Permit2](crate::permit2), a maximum; the
//! server charges what the request cost, any amount up to it, once the work is done.
//!
//! What is signed ([x402 `upto` on EVM]): Permit2's `PermitWitnessTransferFrom` of at most
//! `amount` of `asset` with the `upto` proxy as spender and the witness
//! `Witness(address to,address facilitator,uint256 validAfter)`: who is paid (`payTo`) and the
//! only facilitator that may settle (`extra.facilitatorAddress`, which the facilitator publishes
//! in `/supported`). The proxy refuses any other caller, so nobody can burn the permit by
//! settling a token amount first.
//!
//! `amount` in the requirements is the maximum at `/verify` and the charge at `/settle`: the
//! facilitator checks the signature against the permitted maximum, refuses a charge above it
//! (`invalid_upto_evm_payload_settlement_exceeds_amount`), moves exactly the charge, and answers
//! a charge of 0 without a transaction (`transaction: ""`). The answer always says the amount.
//!
//! [x402 `upto` on EVM]: https://github.com/x402-foundation/x402/blob/main/specs/schemes/upto/scheme_upto_evm.md

mod facilitator;
mod sign;

pub use facilitator::{UptoEvmFacilitator, payment_id};
pub use sign::UptoEvmClient;

/// The scheme name.
pub const SCHEME: &str = "upto";
