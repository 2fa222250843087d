//! The `exact` scheme on Stacks (`stacks:1`, `stacks:2147483648`): the payer signs, and does not
//! broadcast, a transaction that moves exactly `amount` of `asset` to `payTo`; the facilitator
//! checks it and broadcasts it.
//!
//! - STX: a token transfer (payload 0x00) to `payTo`; memo free.
//! - A SIP-010 token: a contract call of the token's own contract,
//!   `transfer(amount uint, sender principal, recipient principal, memo (optional (buff 34)))`
//!   with `sender` the transaction's origin and `recipient` `payTo`.
//!
//! The payload is `{"transaction": "<hex>"}` (the draft spec's `signedTransaction` is read too).
//! Assets are read in every form the implementations write: `STX`, `slip44:5757`,
//! `ADDRESS.contract`, `sip010:ADDRESS.contract.asset`, and the symbols `sBTC` and `USDCx`;
//! offers are written `STX` or `ADDRESS.contract`, which every client reads. When an offer's
//! `extra.nonce` is set, the memo must carry it. The [reasons](StacksReason) say which check
//! failed. The raw form of x402-stacks v1 clients (the transaction's hex alone in `X-PAYMENT`)
//! is read by [`raw_payment`].

mod asset;
mod facilitator;
mod offer;
mod payload;
mod raw;
mod reason;
mod settle;
mod sign;
mod verify;

pub use asset::{
    AssetId, STX_DECIMALS, STX_SLIP44, Sip010Token, StacksAsset, TokenList, UnknownAsset,
};
pub use facilitator::{DEFAULT_CONFIRM_TIMEOUT, Delivery, ExactStacksFacilitator, payment_id};
pub use offer::{DEFAULT_MAX_TIMEOUT_SECS, stacks_requirements};
pub use payload::ExactStacksPayload;
pub use raw::raw_payment;
pub use reason::StacksReason;
pub use sign::ExactStacksClient;
pub use verify::Verified;

/// The scheme name.
pub const SCHEME: &str = "exact";

/// The default cap on a payment's fee, in µSTX (0.1 STX).
pub const DEFAULT_MAX_FEE: u64 = 100_000;
