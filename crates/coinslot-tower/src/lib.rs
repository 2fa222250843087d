//! # coinslot-tower
//!
//! An [x402] paywall as a [tower] layer, for axum routers and plain hyper services alike: priced
//! routes answer 402 with their price until a request carries a payment, which is verified and
//! settled through any [`Facilitator`](coinslot_core::Facilitator), in-process or remote.
//!
//! One priced request through [`PaymentLayer`]:
//! 1. the route's offers, fixed or computed from the request ([`PaidRoute::priced_by`]); a
//!    request no route prices passes through untouched, and so does one priced at nothing;
//! 2. the [access policies](access), if any: a prepaid API key, a free tier;
//! 3. no payment: 402 with `PAYMENT-REQUIRED` (v2), the same offers as the v1 JSON body (the v2
//!    `PaymentRequired` itself when no offer has a v1 form), `Cache-Control: no-store`, and
//!    `resource.url` under the configured public base URL (never from the `Host` header); a
//!    `HEAD` is answered so, and never charged, whatever it carries;
//! 4. `PAYMENT-SIGNATURE` (v2) or `X-PAYMENT` (v1) is decoded strictly, within the
//!    [limits](coinslot_core::limits) the facilitator applies (so what is forwarded is read
//!    whole there; a priced URL past the limit is a 414), and matched to an offer (every field,
//!    as the reference servers do); a payment already used, or in use by another request, is
//!    refused: one payment runs the handler once;
//! 5. the facilitator verifies it; the handler runs with a [`VerifiedPayment`] in its request
//!    extensions;
//! 6. a handler answer below 400 is settled, and goes out with `PAYMENT-RESPONSE`
//!    (`X-PAYMENT-RESPONSE` for v1); a failed settlement answers 402 with the failed receipt,
//!    never the content; a handler failure is not charged. A route may settle before its
//!    handler instead ([`PaidRoute::settle_before_handler`]).
//!
//! A route offered `upto` a maximum (`coinslot_evm::permit2::Erc20Token::upto_requirements`)
//! is metered: its handler names what the request cost, a typed [`Charge`] in the response
//! extensions or the reference's `Settlement-Overrides` header (`{"amount": "1000" | "50%" |
//! "$0.05"}`), which this layer removes; naming nothing charges the maximum. The payment is
//! settled for that charge and the receipt says it; a charge that does not read, or comes to
//! more than the signed maximum, is the handler's error (500, logged) and nothing is settled.
//! A payer who has not approved Permit2 is answered 412 (`permit2_allowance_required`), as the
//! reference servers answer.
//!
//! Bad input is a 4xx with its reason, never a 5xx: a payment the facilitator refuses, even by
//! a 4xx status of its own, is a 402. A facilitator (or its chain) that cannot be reached gives
//! 502 and serves nothing. Errors of the inner service pass through unchanged.
//!
//! ```
//! use axum::{Router, routing::get};
//! use coinslot_core::{Price, Facilitator};
//! use coinslot_evm::exact::Eip3009Token;
//! use coinslot_tower::{PaidRoute, PaymentLayer};
//!
//! fn app(facilitator: impl Facilitator + 'static) -> Result<Router, Box<dyn std::error::Error>> {
//!     let pay_to = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C".parse()?;
//!     let usdc = Eip3009Token::usdc_base_sepolia();
//!     let paywall = PaymentLayer::builder(facilitator, "https://api.example.com")
//!         .with_route(
//!             PaidRoute::get("/weather")
//!                 .accepts(usdc.requirements(pay_to, &Price::parse("$0.001")?)?)
//!                 .description("Today's weather"),
//!         )
//!         .build()?;
//!     Ok(Router::new()
//!         .route("/weather", get(|| async { "sunny" }))
//!         .route("/health", get(|| async { "ok" }))
//!         .layer(paywall))
//! }
//! ```
//!
//! [x402]: https://github.com/x402-foundation/x402/blob/main/specs/transports-v2/http.md
//! [tower]: https://docs.rs/tower

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod access;
mod body;
mod error;
mod flow;
mod future;
mod layer;
mod matching;
mod metering;
mod path;
mod reject;
mod replay;
mod route;
mod service;
mod verified;

pub use body::ResponseBody;
pub use coinslot_core::Charge;
pub use error::{Error, Result};
pub use future::ResponseFuture;
pub use layer::{PaymentLayer, PaymentLayerBuilder, ReadRawPayment};
pub use reject::Rejection;
pub use route::{PaidRoute, PriceFuture, SettlementTiming};
pub use service::Payment;
pub use verified::VerifiedPayment;
