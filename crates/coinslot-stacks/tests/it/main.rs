//! coinslot-stacks integration tests.

mod vectors;
