//! # coinslot-core
//!
//! The x402 protocol in plain Rust types, with no chain library and no HTTP stack: what every
//! other coinslot crate speaks.
//!
//! - wire types of [x402 v2](v2) and [v1], and the [facilitator API bodies](api);
//! - the [header codec](header): standard padded base64 of compact JSON, decoded strictly;
//! - the [size limits](limits) a server and its facilitator share;
//! - [CAIP-2 networks](network), patterns such as `eip155:*`, and the v1 network names;
//! - [token amounts and prices](amount) in exact integers up to 2^256 − 1, and the
//!   [charge] of a metered (`upto`) request;
//! - the spec's [reason strings](reason);
//! - the [requirement-matching rule](matching) every server uses;
//! - the traits that scheme crates implement: [`SchemeClient`], [`SchemeFacilitator`], and
//!   [`Facilitator`].
//!
//! ```
//! use coinslot_core::{find_matching_requirements, PaymentPayload, PaymentRequired};
//!
//! // What a server sends with its 402, and what a client pays with (from the v2 HTTP spec).
//! let required = PaymentRequired::from_header(
//!     "eyJ4NDAyVmVyc2lvbiI6MiwiZXJyb3IiOiJQQVlNRU5ULVNJR05BVFVSRSBoZWFkZXIgaXMgcmVxdWlyZWQiLCJyZXNvdXJjZSI6eyJ1cmwiOiJodHRwczovL2FwaS5leGFtcGxlLmNvbS9wcmVtaXVtLWRhdGEiLCJkZXNjcmlwdGlvbiI6IkFjY2VzcyB0byBwcmVtaXVtIG1hcmtldCBkYXRhIiwibWltZVR5cGUiOiJhcHBsaWNhdGlvbi9qc29uIn0sImFjY2VwdHMiOlt7InNjaGVtZSI6ImV4YWN0IiwibmV0d29yayI6ImVpcDE1NTo4NDUzMiIsImFtb3VudCI6IjEwMDAwIiwiYXNzZXQiOiIweDAzNkNiRDUzODQyYzU0MjY2MzRlNzkyOTU0MWVDMjMxOGYzZENGN2UiLCJwYXlUbyI6IjB4MjA5NjkzQmM2YWZjMEM1MzI4YkEzNkZhRjAzQzUxNEVGMzEyMjg3QyIsIm1heFRpbWVvdXRTZWNvbmRzIjo2MCwiZXh0cmEiOnsibmFtZSI6IlVTREMiLCJ2ZXJzaW9uIjoiMiJ9fV19",
//! )?;
//! let offer = &required.accepts[0];
//! assert_eq!(offer.amount.to_decimal_string(6), "0.01");
//!
//! let payment = PaymentPayload::new(offer.clone(), Default::default(), Some(required.resource.clone()));
//! assert_eq!(find_matching_requirements(&required.accepts, &payment.accepted), Some(offer));
//! # Ok::<(), coinslot_core::Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod amount;
pub mod api;
pub mod charge;
mod error;
pub mod facilitator;
pub mod header;
pub mod limits;
pub mod matching;
pub mod network;
mod payment_id;
pub mod reason;
mod refusal;
pub mod scheme;
pub mod v1;
pub mod v2;
pub mod version;

pub use amount::{Decimal, Price, TokenAmount};
pub use api::{PaymentParts, SettleRequest, SupportedKind, SupportedResponse, VerifyRequest};
pub use charge::Charge;
pub use error::{Base64Fault, BoxedSource, Error, JsonCategory, Result};
pub use facilitator::{BoxFuture, Facilitator};
pub use matching::{find_matching_requirements, match_payload, match_payload_v1};
pub use network::{Network, NetworkPattern};
pub use payment_id::PaymentId;
pub use reason::ErrorReason;
pub use refusal::Refusal;
pub use scheme::{SchemeClient, SchemeFacilitator};
pub use v2::{
    JsonObject, PaymentPayload, PaymentRequired, PaymentRequirements, ResourceInfo, SettleResponse,
    VerifyResponse,
};
pub use version::{V1, V2, X402Version};

/// `U256`, the integer behind [`TokenAmount`] (the same type as alloy's `U256`).
pub use ruint::aliases::U256;
