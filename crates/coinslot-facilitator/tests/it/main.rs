//! coinslot-facilitator on the local chain and over loopback HTTP: exactly-once settlement
//! (concurrent, late, across a restart), the HTTP API's bodies and statuses, and the client.

mod common;
mod exactly_once;
mod http_api;
mod http_client;
mod interop;
mod store;
