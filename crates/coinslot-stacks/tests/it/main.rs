//! coinslot-stacks integration tests.

mod common;
mod crosscheck;
mod exact;
mod paywall;
mod vectors;
