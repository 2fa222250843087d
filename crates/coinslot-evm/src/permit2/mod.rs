//! Payments through [Permit2] and the x402 proxies: what `exact` over Permit2 (any ERC-20) and
//! `upto` share.
//!
//! The payer approves Permit2 once per token (`approve(PERMIT2, max)`), then signs, per
//! payment, a `PermitWitnessTransferFrom` under Permit2's EIP-712 domain (name "Permit2", no
//! version): the token and amount, the x402 proxy as spender, a random unordered nonce, a
//! deadline, and a witness naming who is paid (and, for `upto`, which facilitator may settle).
//! The facilitator calls the proxy's `settle`, which checks the witness and calls Permit2, which
//! checks the signature and the nonce and moves the tokens.
//!
//! A payer who has not approved Permit2 can still pay where the facilitator sponsors the
//! approval: with the token's EIP-2612 permit (`eip2612GasSponsoring`, submitted with the
//! settlement) or with a signed `approve` transaction (`erc20ApprovalGasSponsoring`, funded and
//! broadcast before it).
//!
//! [Permit2]: https://github.com/Uniswap/permit2

mod approve;
mod eip2612;
mod erc20_approval;
mod extension;
mod offer;
mod settle;
mod sign;
mod sponsor;
mod types;
mod verify;

use alloy::primitives::{Address, address};
use coinslot_core::{Network, PaymentId};

pub use approve::{allowance, approve};
pub use eip2612::{EIP2612_GAS_SPONSORING, Eip2612Info, Permit2612, eip2612_declaration};
pub use erc20_approval::{
    ERC20_APPROVAL_GAS_SPONSORING, Erc20ApprovalInfo, MAX_APPROVAL_GAS, erc20_approval_declaration,
};
pub use offer::Erc20Token;
pub(crate) use settle::{confirm, send};
pub(crate) use sign::sign;
pub(crate) use sponsor::{client_builders, payment_with_sponsorship};
pub(crate) use types::is_permit2;
pub use types::{
    ExactWitness, Permit2Authorization, Permit2Payload, Permitted, UptoWitness, Witness,
    exact_eip712, upto_eip712,
};
pub(crate) use verify::{
    AmountRule, Signed, Terms, check_chain, check_payer_signature, check_terms, signed_by_key,
};

/// Permit2's canonical address.
pub const PERMIT2: Address = address!("0x000000000022D473030F116dDEE9F6B43aC78BA3");
/// The x402 `exact` Permit2 proxy's canonical address.
pub const EXACT_PROXY: Address = address!("0x402085c248EeA27D92E8b30b2C58ed07f9E20001");
/// The x402 `upto` Permit2 proxy's canonical address.
pub const UPTO_PROXY: Address = address!("0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002");

/// The [`PaymentId`] of a Permit2 payment, `exact` or `upto`: network, payer and nonce. Permit2
/// uses an owner's nonce once whatever the token and the spender, so this is the money
/// movement itself.
pub fn payment_id<W>(network: &Network, payload: &Permit2Payload<W>) -> PaymentId {
    let a = &payload.permit2_authorization;
    PaymentId::new(format!("permit2/{network}/{:#x}/{:#x}", a.from, a.nonce))
}
