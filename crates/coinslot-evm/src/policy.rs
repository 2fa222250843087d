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

/// The builder methods that set a facilitator's [`Policy`], the same on every EVM scheme's
/// facilitator (a type with a `policy: Policy` field).
macro_rules! policy_options {
    () => {
        /// Settles only the listed tokens (call once per token); with none listed, any token.
        /// Another asset is refused with `invalid_payment_requirements`.
        #[must_use]
        pub fn with_asset(mut self, asset: alloy::primitives::Address) -> Self {
            self.policy.allow_asset(asset);
            self
        }

        /// Accepts ERC-6492 signatures of wallets that `factory` deploys. Settling such a
        /// payment first deploys the wallet, at the facilitator's expense, so only factories
        /// you trust to deploy cheaply and honestly belong here; any other factory is refused
        /// with `eip6492_factory_not_allowed`.
        #[must_use]
        pub fn with_erc6492_factory(mut self, factory: alloy::primitives::Address) -> Self {
            self.policy.allow_factory(factory);
            self
        }

        /// Sponsors Permit2 approvals: a payer who has not approved Permit2 may send the
        /// token's EIP-2612 permit for it (`eip2612GasSponsoring`, listed in `/supported`),
        /// which the settlement submits first (`settleWithPermit`), at the facilitator's gas.
        #[must_use]
        pub const fn with_eip2612_gas_sponsoring(mut self) -> Self {
            self.policy.eip2612_gas_sponsoring = true;
            self
        }

        /// Sponsors approval transactions: a payer who has not approved Permit2, and may hold
        /// no ether, may send its signed `approve(Permit2, …)` of the token
        /// (`erc20ApprovalGasSponsoring`, listed in `/supported`). Settlement sends the payer
        /// the gas it may cost (at most [`MAX_APPROVAL_GAS`](crate::permit2::MAX_APPROVAL_GAS)
        /// times a fee no higher than the chain's cap, or twice the current estimate without
        /// one), then broadcasts it, then settles. The ether is a gift to the payer: a payer
        /// that spends it otherwise first costs the facilitator that much, once per approval
        /// it signs.
        #[must_use]
        pub const fn with_erc20_approval_gas_sponsoring(mut self) -> Self {
            self.policy.erc20_approval_gas_sponsoring = true;
            self
        }
    };
}
pub(crate) use policy_options;

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
