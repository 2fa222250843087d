//! coinslot-stacks integration tests.

mod common;
mod exact;
mod vectors;
