//! The x402 Stacks API rebuilt on coinslot: AIBTC's pay-per-call API for agents (hashing, Stacks
//! utilities, per-payer storage), paid per call in STX, sBTC or USDCx on Stacks, or USDC on
//! Base, through our paywall and facilitator.
//!
//! - Every paid route costs the standard tier, 0.001 STX, or as much of sBTC, USDCx (and USDC)
//!   at the configured rates, never below one atomic unit; every 402 offers all of them.
//! - Before x402: a prepaid API key (`X-API-Key`, credited with `stacks-api credit`), and a
//!   free tier of calls per client address per day on the stateless routes.
//! - Each account (a payer's address, an API key) has its own SQLite file under
//!   `DATA_DIR/payers`: a call opens its caller's file and no other.
//! - Every refusal is `{ok: false, error, tokenType}` with a 4xx that fits, never a 500 for
//!   bad input; every success carries `ok: true` and `tokenType`.
//! - Calls that write settle before they run; the others after, and only when they succeed.
//!   A served paid call is recorded in `DATA_DIR/usage.sqlite`; `GET /usage` reads one's own.
//!
//! Configuration is in [`config::Config::from_env`]; the routes in [`app::build`].

pub mod app;
pub mod caller;
pub mod config;
pub mod error;
pub mod openapi;
pub mod pricing;
pub mod routes;
pub mod sandbox;
pub mod store;
pub mod time;
pub mod usage;
