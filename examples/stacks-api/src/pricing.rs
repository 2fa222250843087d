//! What a call costs in each token: the tiers' prices in µSTX, and the sBTC, USDCx and USDC
//! amounts worth as much at the configured rates.

use coinslot::evm::exact::Eip3009Token;
use coinslot::stacks::exact::{Sip010Token, StacksAsset, stacks_requirements};
use coinslot::stacks::network::StacksNetwork;
use coinslot::{PaymentRequirements, Price, TokenAmount};

use crate::config::Config;

/// The standard tier: 0.001 STX a call, as the reference service charges.
pub const STANDARD_USTX: u128 = 1_000;

/// What one whole token is worth, in millionths of a US dollar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// One STX.
    pub stx: u128,
    /// One sBTC (one bitcoin).
    pub sbtc: u128,
    /// One USDCx.
    pub usdcx: u128,
}

/// One US dollar, in the unit of [`Rates`].
const DOLLAR: u128 = 1_000_000;

impl Rates {
    /// The rates the reference service hard-codes: STX $0.50, sBTC $100,000, USDCx $1.
    pub const DEFAULT: Self = Self {
        stx: DOLLAR / 2,
        sbtc: 100_000 * DOLLAR,
        usdcx: DOLLAR,
    };

    /// Rates from dollar amounts such as `0.5` (up to six decimals, above zero); a missing
    /// one keeps its default.
    pub fn parse(
        stx: Option<&str>,
        sbtc: Option<&str>,
        usdcx: Option<&str>,
    ) -> Result<Self, String> {
        let rate = |name: &str, text: Option<&str>, default: u128| {
            text.map_or(Ok(default), |text| {
                micro_dollars(text).ok_or_else(|| {
                    format!("{name} {text:?}: a dollar amount above 0 with at most 6 decimals")
                })
            })
        };
        Ok(Self {
            stx: rate("STX_USD", stx, Self::DEFAULT.stx)?,
            sbtc: rate("SBTC_USD", sbtc, Self::DEFAULT.sbtc)?,
            usdcx: rate("USDCX_USD", usdcx, Self::DEFAULT.usdcx)?,
        })
    }

    /// The amount of a token (`rate` a whole one, `decimals` places) worth `ustx` µSTX,
    /// rounded up so that no payment is worth less than the STX price, and never below one
    /// atomic unit.
    pub fn convert(&self, ustx: u128, rate: u128, decimals: u8) -> u128 {
        let scale = 10u128.saturating_pow(u32::from(decimals));
        let value = ustx.saturating_mul(self.stx).saturating_mul(scale);
        let per_unit = 1_000_000u128.saturating_mul(rate.max(1));
        value.div_ceil(per_unit).max(1)
    }
}

/// `0.5` (or `$0.5`) in millionths of a dollar: a price's text at six decimals, above zero.
fn micro_dollars(text: &str) -> Option<u128> {
    let value = Price::parse(text).ok()?.to_atomic(6).ok()?;
    u128::try_from(value.as_u256()).ok().filter(|&v| v > 0)
}

/// The tokens a call can be paid in, and the offers of each tier.
#[derive(Debug, Clone)]
pub struct Pricing {
    network: StacksNetwork,
    payee: String,
    sbtc: Sip010Token,
    usdcx: Sip010Token,
    usdc: Option<(Eip3009Token, coinslot::evm::alloy::primitives::Address)>,
    rates: Rates,
}

impl Pricing {
    /// The configured tokens and rates.
    pub fn new(config: &Config) -> Self {
        let mainnet = config.stacks_network.is_mainnet();
        let (sbtc, usdcx) = if mainnet {
            (Sip010Token::sbtc_mainnet(), Sip010Token::usdcx_mainnet())
        } else {
            (Sip010Token::sbtc_testnet(), Sip010Token::usdcx_testnet())
        };
        let usdc = config.evm.as_ref().map(|evm| {
            let token = if evm.mainnet {
                Eip3009Token::usdc_base()
            } else {
                Eip3009Token::usdc_base_sepolia()
            };
            (token, evm.payee)
        });
        Self {
            network: config.stacks_network,
            payee: config.stacks_payee.to_string(),
            sbtc,
            usdcx,
            usdc,
            rates: config.rates,
        }
    }

    /// The offers for a call priced `ustx` µSTX: STX, sBTC, USDCx, and USDC when configured.
    pub fn offers(&self, ustx: u128) -> Result<Vec<PaymentRequirements>, String> {
        let atomic = |amount: u128| Price::Atomic(TokenAmount::from(amount));
        let on_stacks = |asset: &StacksAsset, amount: u128| {
            stacks_requirements(self.network, asset, &self.payee, &atomic(amount))
                .map_err(|e| e.to_string())
        };
        let sbtc = self
            .rates
            .convert(ustx, self.rates.sbtc, self.sbtc.decimals);
        let usdcx = self
            .rates
            .convert(ustx, self.rates.usdcx, self.usdcx.decimals);
        let mut offers = vec![
            on_stacks(&StacksAsset::Stx, ustx)?,
            on_stacks(&StacksAsset::Sip010(self.sbtc.clone()), sbtc)?,
            on_stacks(&StacksAsset::Sip010(self.usdcx.clone()), usdcx)?,
        ];
        if let Some((token, payee)) = &self.usdc {
            let amount = self.rates.convert(ustx, DOLLAR, token.decimals());
            let offer = token.requirements(*payee, &atomic(amount));
            offers.push(offer.map_err(|e| e.to_string())?);
        }
        Ok(offers)
    }

    /// The name of the token an offer's `asset` stands for (`STX`, `sBTC`, `USDCx`, `USDC`).
    pub fn token_name(&self, asset: &str) -> &'static str {
        let named = |token: &Sip010Token| StacksAsset::Sip010(token.clone()).offer_id() == asset;
        if asset == StacksAsset::Stx.offer_id() {
            "STX"
        } else if named(&self.sbtc) {
            "sBTC"
        } else if named(&self.usdcx) {
            "USDCx"
        } else {
            "USDC"
        }
    }

    /// The Stacks network paid on.
    pub const fn network(&self) -> StacksNetwork {
        self.network
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_price_in_each_token_at_the_reference_rates() {
        let rates = Rates::DEFAULT;
        // $0.0005: half a satoshi rounds up to one; 500 millionths of a USDCx.
        assert_eq!(rates.convert(STANDARD_USTX, rates.sbtc, 8), 1);
        assert_eq!(rates.convert(STANDARD_USTX, rates.usdcx, 6), 500);
        assert_eq!(rates.convert(STANDARD_USTX, DOLLAR, 6), 500);
        // Worth more STX, more of the others; never below the STX price's worth.
        let dear = Rates::parse(Some("2"), Some("50000"), None).unwrap();
        assert_eq!(dear.convert(STANDARD_USTX, dear.sbtc, 8), 4);
        assert_eq!(dear.convert(STANDARD_USTX, dear.usdcx, 6), 2000);
        assert_eq!(dear.convert(1, dear.usdcx, 6), 2);
        assert_eq!(dear.convert(1, dear.sbtc, 8), 1);
    }

    #[test]
    fn rates_are_positive_dollar_amounts() {
        assert_eq!(Rates::parse(None, None, None).unwrap(), Rates::DEFAULT);
        assert_eq!(Rates::parse(Some("0.000001"), None, None).unwrap().stx, 1);
        for bad in [
            "0",
            "0.0",
            "-1",
            "1e3",
            "1.0000001",
            "",
            ".5",
            "abc",
            "1.2.3",
        ] {
            assert!(Rates::parse(Some(bad), None, None).is_err(), "{bad:?}");
        }
    }
}
