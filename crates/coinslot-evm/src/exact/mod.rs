//! The `exact` scheme on EVM: the payer signs a transfer of exactly `amount` of `asset` to
//! `payTo`, and the facilitator submits it. Two ways to move the token
//! (`extra.assetTransferMethod`): the token's own [EIP-3009] `transferWithAuthorization`
//! (`"eip3009"`, the default when the offer names the token's EIP-712 domain), or
//! [Permit2](crate::permit2) through the x402 `exact` proxy (`"permit2"`, any ERC-20 the payer
//! has approved Permit2 for). The rest of this page is EIP-3009's.
//!
//! What is signed ([x402 `exact` on EVM]): the EIP-712 struct
//! `TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)`
//! under the domain `{name: extra.name, version: extra.version, chainId: <from the CAIP-2
//! network>, verifyingContract: asset}`, with `from` the signer, `to = payTo`,
//! `value = amount`, `validAfter = now − 600`, `validBefore = now + maxTimeoutSeconds` and a
//! random 32-byte nonce. The payload is
//! `{"signature": "0x…", "authorization": {"from", "to", "value", "validAfter", "validBefore", "nonce"}}`
//! with every number a decimal string.
//!
//! [EIP-3009]: https://eips.ethereum.org/EIPS/eip-3009
//! [x402 `exact` on EVM]: https://github.com/x402-foundation/x402/blob/main/specs/schemes/exact/scheme_exact_evm.md

mod facilitator;
mod offer;
mod permit2;
mod settle;
mod sign;
mod simulate;
mod types;
mod verify;

pub use facilitator::{ExactEvmFacilitator, payment_id};
pub use offer::{DEFAULT_MAX_TIMEOUT_SECS, Eip3009Token};
pub use sign::ExactEvmClient;
pub use types::{Authorization, ExactEvmPayload, TransferWithAuthorization};

/// The scheme name.
pub const SCHEME: &str = "exact";
