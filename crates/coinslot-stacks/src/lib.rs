//! # coinslot-stacks
//!
//! x402 payments on Stacks (`stacks:1`, `stacks:2147483648`), and the Stacks toolkit under
//! them, written from the SIPs with no GPL code:
//!
//! - [`address`]: c32check addresses (all four versions) and contract principals;
//! - [`clarity`]: Clarity values and their consensus codec;
//! - [`transaction`]: the SIP-005 transaction codec (every auth, payload and post-condition
//!   kind), txids;
//! - [`signature`]: sighashes, key recovery and signer checks, single and multi-signature,
//!   origin and sponsor; [`PrivateKey`] signs. Keys are recovered with libsecp256k1 (the
//!   default `libsecp256k1` feature) or k256 (pure Rust, the feature off), with the same
//!   answers;
//! - [`message`]: message signing and SIP-018 structured data;
//! - [`exact`]: the `exact` x402 scheme in STX and SIP-010 tokens (sBTC, USDCx):
//!   [`exact::ExactStacksClient`] signs payments, [`exact::ExactStacksFacilitator`] verifies
//!   and settles them through a [`node::StacksNode`].
//!
//! Every decoder takes untrusted bytes: it answers an error, never panics, checks each length
//! before it allocates, and refuses trailing bytes.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod address;
pub mod clarity;
mod codec;
pub mod exact;
mod hash;
mod key;
pub mod message;
pub mod network;
pub mod node;
mod recovery;
pub mod signature;
pub mod transaction;

pub use address::{AddressError, ContractName, Principal, StacksAddress};
pub use clarity::ClarityValue;
pub use codec::{DecodeError, DecodeErrorKind};
pub use key::{KeyError, PrivateKey};
pub use signature::{HighS, SignatureError, VerifiedAuth};
pub use transaction::{Transaction, Txid};
