//! Integration tests of coinslot-core: the spec's sample headers, property tests of every round
//! trip, and a table of malformed inputs with the error each must give.

mod malformed;
mod roundtrip;
mod vectors;
