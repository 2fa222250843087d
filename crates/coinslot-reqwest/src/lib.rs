//! # coinslot-reqwest
//!
//! An HTTP client that pays [x402] 402s by itself, within hard spending limits: as a
//! [`reqwest_middleware`] middleware ([`Payer`]) or a plain wrapper ([`PayingClient`]).
//!
//! On a 402 it reads `PAYMENT-REQUIRED` (or a v1 JSON body), keeps the offers that a registered
//! wallet can pay and the [`SpendingPolicy`] allows (allowed assets on their networks, a cap per
//! request and a budget in each asset's decimal units, the policy's order of preference), asks the
//! approval hook if there is one, signs, retries once with `PAYMENT-SIGNATURE` (v1:
//! `X-PAYMENT`), and puts the decoded `PAYMENT-RESPONSE` in the response extensions as a
//! [`SettleResponse`](coinslot_core::SettleResponse). Every refusal is an [`Error`] that says
//! which rule refused which offer, and comes before anything is signed.
//!
//! A payment the server refuses (its facilitator found it invalid, or its settlement failed)
//! is not an `Error`: the response is the server's second 402, returned as `Ok`, with the
//! reason in its `PAYMENT-REQUIRED` header. Check the status; the spend is counted only when a
//! receipt says the payment settled.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use alloy::signers::local::PrivateKeySigner;
//! use coinslot_evm::exact::ExactEvmClient;
//! use coinslot_reqwest::{AssetLimit, Limits, Payer, SpendingPolicy};
//! use reqwest_middleware::ClientBuilder;
//!
//! let signer: PrivateKeySigner = std::env::var("EVM_PRIVATE_KEY")?.parse()?;
//! let payer = Payer::builder()
//!     .with_wallet(ExactEvmClient::new(signer))
//!     .with_policy(SpendingPolicy::new().allow(AssetLimit::usdc_base_sepolia(Limits {
//!         per_request: "0.01",
//!         budget: "1.00",
//!     })?))
//!     .build();
//! let client = ClientBuilder::new(reqwest::Client::new()).with(payer).build();
//! let weather = client.get("http://127.0.0.1:4021/weather").send().await?.text().await?;
//! # let _ = weather; Ok(()) }
//! ```
//!
//! [x402]: https://github.com/x402-foundation/x402/blob/main/specs/transports-v2/http.md

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod middleware;
mod payer;
mod policy;

pub use client::PayingClient;
pub use error::{Error, OfferRefusal, RefusalReason, Result};
pub use payer::{Payer, PayerBuilder, Proposal};
pub use policy::{AssetLimit, Limits, SpendingPolicy, Spent};
