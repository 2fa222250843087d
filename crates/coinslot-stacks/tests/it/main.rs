//! coinslot-stacks integration tests.

mod common;
mod crosscheck;
mod exact;
mod interop;
mod paywall;
mod vectors;
