//! coinslot-evm against the local chain (anvil, our EIP-3009 token at the Base Sepolia USDC
//! address): the client's payloads, the facilitator's checks and settlements, contract wallets.

mod approval;
mod client;
mod common;
mod facilitator;
mod permit2;
mod sponsor;
mod upto;
mod wallets;
