//! [`Charge`]: what a metered (`upto`) request costs, as its handler says once the work is done.
//!
//! An `upto` payment signs a maximum; the server settles any amount up to it. The handler names
//! the charge in one of the forms the reference servers read from their `Settlement-Overrides`
//! response header (`{"amount": "…"}`), which never leaves the server:
//! - `"1000"`: atomic units;
//! - `"50%"`, `"12.5%"`, `"33.33%"`: a share of the maximum, to two decimals, rounded down;
//! - `"$0.05"`: dollars, for a dollar stablecoin, made atomic with the token's decimals.
//!
//! ```
//! use coinslot_core::{Charge, TokenAmount};
//!
//! let maximum = TokenAmount::from(10_000u64);
//! assert_eq!(Charge::parse("1234")?.resolve(maximum, None)?, TokenAmount::from(1_234u64));
//! assert_eq!(Charge::parse("12.5%")?.resolve(maximum, None)?, TokenAmount::from(1_250u64));
//! assert_eq!(Charge::parse("$0.005")?.resolve(maximum, Some(6))?, TokenAmount::from(5_000u64));
//! assert!(Charge::parse("$0.05")?.resolve(maximum, Some(6)).is_err()); // above the maximum
//!
//! let header = Charge::from_header_value(r#"{"amount":"50%"}"#)?;
//! assert_eq!(header, Charge::parse("50%")?);
//! # Ok::<(), coinslot_core::Error>(())
//! ```

use std::fmt;

use crate::U256;
use crate::amount::{Price, TokenAmount};
use crate::error::{Error, Result};

/// The name of the response header a handler may name its charge in (the reference's): read
/// and removed by the paywall, never sent to the client.
pub const SETTLEMENT_OVERRIDES: &str = "Settlement-Overrides";

/// What a metered request costs; see the [module](self) for the forms.
#[derive(Clone, PartialEq, Eq)]
pub enum Charge {
    /// Atomic units of the asset.
    Atomic(TokenAmount),
    /// A share of the signed maximum in hundredths of a percent (`"12.5%"` is 1250).
    Share(u32),
    /// Dollars, for a dollar stablecoin.
    Usd(Price),
}

impl Charge {
    /// Reads a charge as a handler writes it: `"1000"`, `"50%"` or `"$0.05"`.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidCharge {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(percent) = input.strip_suffix('%') {
            let (int, frac) = percent.split_once('.').unwrap_or((percent, ""));
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(int) || (percent.contains('.') && !digits(frac)) || frac.len() > 2 {
                return Err(invalid("a share is a percentage with at most two decimals"));
            }
            let int: u32 = int.parse().map_err(|_| invalid("too large a share"))?;
            let frac: u32 = format!("{frac:0<2}").parse().unwrap_or(0);
            let share = int
                .checked_mul(100)
                .and_then(|share| share.checked_add(frac))
                .ok_or_else(|| invalid("too large a share"))?;
            return Ok(Self::Share(share));
        }
        if input.starts_with('$') {
            return Price::parse(input)
                .map(Self::Usd)
                .map_err(|e| invalid(&e.to_string()));
        }
        TokenAmount::parse(input)
            .map(Self::Atomic)
            .map_err(|_| invalid("neither atomic units, a share (\"50%\") nor dollars (\"$0.05\")"))
    }

    /// Reads the value of a `Settlement-Overrides` header: `{"amount": "<charge>"}`.
    pub fn from_header_value(value: &str) -> Result<Self> {
        #[derive(serde::Deserialize)]
        struct Overrides {
            amount: String,
        }
        let overrides: Overrides =
            serde_json::from_str(value).map_err(|e| Error::InvalidCharge {
                input: value.to_owned(),
                reason: format!("not {{\"amount\": \"…\"}}: {e}"),
            })?;
        Self::parse(&overrides.amount)
    }

    /// The value of a `Settlement-Overrides` header naming this charge.
    pub fn to_header_value(&self) -> String {
        serde_json::json!({ "amount": self.to_string() }).to_string()
    }

    /// The charge in atomic units, against a signed `maximum` of an asset with `decimals`
    /// (needed for dollars only). Fails for dollars of an asset whose decimals are unknown,
    /// and for a charge above the maximum: a server never settles more than was signed.
    pub fn resolve(&self, maximum: TokenAmount, decimals: Option<u8>) -> Result<TokenAmount> {
        let amount = match self {
            Self::Atomic(amount) => *amount,
            Self::Share(share) => {
                // max × share / 10000 without overflow: split the maximum at 10000.
                let (whole, rest) = maximum.as_u256().div_rem(U256::from(10_000));
                let share = U256::from(*share);
                let exact = whole
                    .checked_mul(share)
                    .and_then(|w| w.checked_add(rest * share / U256::from(10_000)));
                TokenAmount::from(exact.ok_or_else(|| self.invalid("the share overflows"))?)
            }
            Self::Usd(price) => {
                let decimals = decimals.ok_or_else(|| {
                    self.invalid("dollars need the asset's decimals, which are not known")
                })?;
                price.to_atomic(decimals)?
            }
        };
        if amount > maximum {
            return Err(self.invalid(&format!("{amount} is above the signed maximum {maximum}")));
        }
        Ok(amount)
    }

    fn invalid(&self, reason: &str) -> Error {
        Error::InvalidCharge {
            input: self.to_string(),
            reason: reason.to_owned(),
        }
    }
}

impl From<TokenAmount> for Charge {
    fn from(amount: TokenAmount) -> Self {
        Self::Atomic(amount)
    }
}

impl fmt::Display for Charge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Atomic(amount) => write!(f, "{amount}"),
            Self::Share(share) if share % 100 == 0 => write!(f, "{}%", share / 100),
            Self::Share(share) => {
                let frac = format!("{:02}", share % 100);
                write!(f, "{}.{}%", share / 100, frac.trim_end_matches('0'))
            }
            Self::Usd(price) => write!(f, "{price}"),
        }
    }
}

impl fmt::Debug for Charge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Charge({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_reads_and_writes_back() {
        for text in [
            "0", "1000", "50%", "12.5%", "33.33%", "0.01%", "100%", "$0.05", "$1",
        ] {
            assert_eq!(Charge::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "",
            "-1",
            "1e3",
            "0.5",
            "50.%",
            ".5%",
            "5.555%",
            "%",
            "abc",
            "$",
            "$-1",
            "01",
            " 5",
            "99999999999%",
        ] {
            assert!(Charge::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shares_round_down_and_never_overflow() {
        let resolve = |charge: &str, max: U256| {
            Charge::parse(charge)
                .unwrap()
                .resolve(TokenAmount::from(max), None)
                .map(|a| a.as_u256())
        };
        assert_eq!(resolve("33.33%", U256::from(100)).unwrap(), U256::from(33));
        assert_eq!(resolve("50%", U256::from(3)).unwrap(), U256::from(1));
        assert_eq!(resolve("100%", U256::MAX).unwrap(), U256::MAX);
        assert_eq!(
            resolve("50%", U256::MAX).unwrap(),
            U256::MAX / U256::from(2)
        );
        assert!(resolve("100.01%", U256::from(10_000)).is_err());
        assert!(resolve("101", U256::from(100)).is_err());
    }

    #[test]
    fn dollars_need_decimals() {
        let charge = Charge::parse("$0.01").unwrap();
        assert!(
            charge
                .resolve(TokenAmount::from(1_000_000u64), None)
                .is_err()
        );
        let six = charge.resolve(TokenAmount::from(1_000_000u64), Some(6));
        assert_eq!(six.unwrap(), TokenAmount::from(10_000u64));
    }

    #[test]
    fn the_header_is_the_references_json() {
        let charge = Charge::from_header_value(r#"{"amount":"$0.05"}"#).unwrap();
        assert_eq!(charge, Charge::parse("$0.05").unwrap());
        assert_eq!(charge.to_header_value(), r#"{"amount":"$0.05"}"#);
        for bad in ["", "50%", r#"{"amount":50}"#, r#"{"charge":"50"}"#, "[]"] {
            assert!(Charge::from_header_value(bad).is_err(), "{bad:?}");
        }
    }
}
