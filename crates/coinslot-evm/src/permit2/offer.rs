//! The server side of Permit2 payments: the offers a resource server makes in any ERC-20,
//! `exact` (`assetTransferMethod: "permit2"`) or `upto` (metered, up to a maximum).

use alloy::primitives::Address;
use coinslot_core::{JsonObject, Network, PaymentRequirements, Price, Result};

use crate::exact::DEFAULT_MAX_TIMEOUT_SECS;

/// Any ERC-20 on one network, as an offer names it: its address, and the decimals that turn a
/// price into atomic units. Payers pay it through Permit2, once they have approved Permit2 for
/// it.
///
/// ```
/// use alloy::primitives::address;
/// use coinslot_core::{Network, Price};
/// use coinslot_evm::permit2::Erc20Token;
///
/// let token = Erc20Token::new(
///     Network::base_sepolia(),
///     address!("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
///     6,
/// );
/// let pay_to = address!("0x209693Bc6afc0C5328bA36FaF03C514EF312287C");
/// let facilitator = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
/// let offer = token.upto_requirements(pay_to, &Price::parse("$0.05")?, facilitator)?;
/// assert_eq!((offer.scheme.as_str(), offer.amount.to_string()), ("upto", "50000".into()));
/// assert_eq!(offer.extra.unwrap()["facilitatorAddress"], facilitator.to_checksum(None));
/// # Ok::<(), coinslot_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erc20Token {
    network: Network,
    address: Address,
    decimals: u8,
    max_timeout_secs: u64,
}

impl Erc20Token {
    /// The token at `address` on `network`, with `decimals` decimals.
    pub const fn new(network: Network, address: Address, decimals: u8) -> Self {
        Self {
            network,
            address,
            decimals,
            max_timeout_secs: DEFAULT_MAX_TIMEOUT_SECS,
        }
    }

    /// The same token with another time limit for payers (`maxTimeoutSeconds`); for `upto`,
    /// also how long the server has to settle after the payer signs.
    #[must_use]
    pub const fn with_max_timeout_secs(mut self, seconds: u64) -> Self {
        self.max_timeout_secs = seconds;
        self
    }

    /// The network.
    pub const fn network(&self) -> &Network {
        &self.network
    }

    /// The token contract.
    pub const fn address(&self) -> Address {
        self.address
    }

    /// The token's decimals.
    pub const fn decimals(&self) -> u8 {
        self.decimals
    }

    /// An `exact` offer of `price` of this token through Permit2, paid to `pay_to`.
    ///
    /// Fails when the price has more fractional digits than the token's decimals.
    pub fn exact_requirements(
        &self,
        pay_to: Address,
        price: &Price,
    ) -> Result<PaymentRequirements> {
        let extra = [("assetTransferMethod".to_owned(), "permit2".into())];
        self.requirements(crate::exact::SCHEME, pay_to, price, extra)
    }

    /// An `upto` offer of at most `maximum` of this token, paid to `pay_to` and settleable
    /// only by `facilitator` (the `facilitatorAddress` its `/supported` publishes for this
    /// network: [`SupportedResponse::extra`](coinslot_core::SupportedResponse::extra)).
    pub fn upto_requirements(
        &self,
        pay_to: Address,
        maximum: &Price,
        facilitator: Address,
    ) -> Result<PaymentRequirements> {
        let extra = [(
            "facilitatorAddress".to_owned(),
            facilitator.to_checksum(None).into(),
        )];
        self.requirements(crate::upto::SCHEME, pay_to, maximum, extra)
    }

    /// An offer of `price` under `scheme` with `extra`.
    pub(crate) fn requirements(
        &self,
        scheme: &str,
        pay_to: Address,
        price: &Price,
        extra: impl IntoIterator<Item = (String, serde_json::Value)>,
    ) -> Result<PaymentRequirements> {
        Ok(PaymentRequirements {
            scheme: scheme.to_owned(),
            network: self.network.clone(),
            amount: price.to_atomic(self.decimals)?,
            asset: self.address.to_checksum(None),
            pay_to: pay_to.to_checksum(None),
            max_timeout_seconds: self.max_timeout_secs,
            extra: Some(JsonObject::from_iter(extra)),
            other: JsonObject::new(),
        })
    }
}
