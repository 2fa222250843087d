//! coinslot-tower's tests: the layer alone (`oneshot`, no chain), its access policies, and paid
//! requests end to end on anvil with the facilitator in-process and over HTTP.

mod access;
mod common;
mod interop;
mod metered;
mod oneshot;
mod paid;
