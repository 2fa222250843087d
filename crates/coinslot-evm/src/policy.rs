//! [`Policy`]: what a facilitator's operator allows beyond what the protocol requires, the same
//! for every scheme on a chain.

use alloy::primitives::Address;
use coinslot_core::{ErrorReason, Refusal};

/// What the operator allows, beyond what the protocol requires.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    /// Factories whose ERC-6492 wallets may be deployed at settlement.
    pub(crate) erc6492_factories: Vec<Address>,
    /// Tokens settled; empty: any token.
    pub(crate) assets: Vec<Address>,
    /// Whether a Permit2 payer's EIP-2612 permit for Permit2 is submitted with the settlement
    /// (`eip2612GasSponsoring`).
    pub(crate) eip2612_gas_sponsoring: bool,
    /// Whether a Permit2 payer's signed approval of Permit2 is funded and broadcast before the
    /// settlement (`erc20ApprovalGasSponsoring`).
    pub(crate) erc20_approval_gas_sponsoring: bool,
}

impl Policy {
    /// Settles `asset` (and, once any is listed, only the listed ones).
    pub(crate) fn allow_asset(&mut self, asset: Address) {
        if !self.assets.contains(&asset) {
            self.assets.push(asset);
        }
    }

    /// Accepts ERC-6492 wallets that `factory` deploys.
    pub(crate) fn allow_factory(&mut self, factory: Address) {
        if !self.erc6492_factories.contains(&factory) {
            self.erc6492_factories.push(factory);
        }
    }

    /// Refuses a token the operator does not settle.
    pub(crate) fn check_asset(&self, asset: Address) -> Result<(), Refusal> {
        if self.assets.is_empty() || self.assets.contains(&asset) {
            return Ok(());
        }
        Err(Refusal::with(
            ErrorReason::InvalidPaymentRequirements,
            format!("asset {asset} is not settled by this facilitator"),
        ))
    }
}

/// The extensions a facilitator with `policy` lists in `/supported`.
pub(crate) fn listed_extensions(policy: &Policy) -> Vec<String> {
    [
        (
            policy.eip2612_gas_sponsoring,
            crate::permit2::EIP2612_GAS_SPONSORING,
        ),
        (
            policy.erc20_approval_gas_sponsoring,
            crate::permit2::ERC20_APPROVAL_GAS_SPONSORING,
        ),
    ]
    .into_iter()
    .filter(|(listed, _)| *listed)
    .map(|(_, key)| key.to_owned())
    .collect()
}
