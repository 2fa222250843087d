//! The server side of `exact` with EIP-3009: the requirement a resource server offers.

use alloy::primitives::{Address, address};
use coinslot_core::{Network, PaymentRequirements, Price, Result};

use super::SCHEME;
use crate::permit2::Erc20Token;

/// How long a payer has to pay, when the offer does not say: the reference servers' default.
pub const DEFAULT_MAX_TIMEOUT_SECS: u64 = 300;

/// An EIP-3009 token on one network, as an offer names it: its address, the EIP-712 domain a
/// payer signs under (`extra.name`, `extra.version`), and the decimals that turn a price into
/// atomic units.
///
/// ```
/// use alloy::primitives::address;
/// use coinslot_core::Price;
/// use coinslot_evm::exact::Eip3009Token;
///
/// let offer = Eip3009Token::usdc_base_sepolia()
///     .requirements(address!("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"), &Price::parse("$0.001")?)?;
/// assert_eq!(offer.amount.to_string(), "1000");
/// assert_eq!(offer.extra.as_ref().unwrap()["name"], "USDC");
/// # Ok::<(), coinslot_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip3009Token {
    erc20: Erc20Token,
    name: String,
    version: String,
}

impl Eip3009Token {
    /// A token at `address` on `network` whose EIP-712 domain is `{name, version}`.
    pub fn new(
        network: Network,
        address: Address,
        name: impl Into<String>,
        version: impl Into<String>,
        decimals: u8,
    ) -> Self {
        Self {
            erc20: Erc20Token::new(network, address, decimals),
            name: name.into(),
            version: version.into(),
        }
    }

    /// USDC on Base (`eip155:8453`), EIP-712 name "USD Coin".
    pub fn usdc_base() -> Self {
        Self::new(
            Network::base(),
            address!("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"),
            "USD Coin",
            "2",
            6,
        )
    }

    /// USDC on Base Sepolia (`eip155:84532`), EIP-712 name "USDC"; also the coinslot testkit's
    /// local token.
    pub fn usdc_base_sepolia() -> Self {
        Self::new(
            Network::base_sepolia(),
            address!("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
            "USDC",
            "2",
            6,
        )
    }

    /// The same token with another time limit for payers (`maxTimeoutSeconds`).
    #[must_use]
    pub fn with_max_timeout_secs(mut self, seconds: u64) -> Self {
        self.erc20 = self.erc20.with_max_timeout_secs(seconds);
        self
    }

    /// The network.
    pub const fn network(&self) -> &Network {
        self.erc20.network()
    }

    /// The token contract.
    pub const fn address(&self) -> Address {
        self.erc20.address()
    }

    /// The token's decimals.
    pub const fn decimals(&self) -> u8 {
        self.erc20.decimals()
    }

    /// The token as any ERC-20, for offers paid through Permit2.
    pub const fn erc20(&self) -> &Erc20Token {
        &self.erc20
    }

    /// An `exact` offer of `price` of this token, paid to `pay_to` with EIP-3009.
    ///
    /// Fails when the price has more fractional digits than the token's decimals.
    pub fn requirements(&self, pay_to: Address, price: &Price) -> Result<PaymentRequirements> {
        self.erc20
            .requirements(SCHEME, pay_to, price, self.domain())
    }

    /// An `upto` offer of at most `maximum` of this token (through Permit2), settleable only
    /// by `facilitator`; `extra` also names the token's EIP-712 domain, as the reference
    /// servers' offers do.
    pub fn upto_requirements(
        &self,
        pay_to: Address,
        maximum: &Price,
        facilitator: Address,
    ) -> Result<PaymentRequirements> {
        let mut offer = self.erc20.upto_requirements(pay_to, maximum, facilitator)?;
        if let Some(extra) = offer.extra.as_mut() {
            extra.extend(self.domain());
        }
        Ok(offer)
    }

    /// `extra.name` and `extra.version`: the token's EIP-712 domain.
    fn domain(&self) -> [(String, serde_json::Value); 2] {
        [
            ("name".to_owned(), self.name.clone().into()),
            ("version".to_owned(), self.version.clone().into()),
        ]
    }
}
