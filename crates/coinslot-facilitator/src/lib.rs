//! # coinslot-facilitator
//!
//! The x402 facilitator: verify payments and settle them on chain, exactly once.
//!
//! - [`LocalFacilitator`]: scheme facilitators (from `coinslot-evm`, `coinslot-stacks`) in a
//!   [`Registry`] keyed by version, scheme and network pattern, behind the
//!   [`Facilitator`](coinslot_core::Facilitator) trait; settlement recorded in a
//!   [`store::SettlementStore`] (in memory, or SQLite with the `sqlite` feature).
//! - [`FacilitatorApi`] (feature `server`): the HTTP API as an axum router to mount anywhere.
//! - [`HttpFacilitator`] (feature `client`): a remote facilitator behind the same trait, so a
//!   server can use either alike.
//!
//! ```
//! use coinslot_core::Facilitator;
//! use coinslot_facilitator::LocalFacilitator;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> coinslot_core::Result<()> {
//! let facilitator = LocalFacilitator::builder().build();
//! assert!(facilitator.supported().await?.kinds.is_empty());
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
mod client;
mod local;
mod registry;
#[cfg(feature = "server")]
mod server;
pub mod store;

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use client::{DEFAULT_TIMEOUT, HttpFacilitator, IdentifyPayment};
pub use local::{LocalFacilitator, LocalFacilitatorBuilder};
pub use registry::Registry;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use server::{DEFAULT_BODY_LIMIT, FacilitatorApi};
