//! Token amounts and prices, in exact integer arithmetic: no floating point anywhere.
//!
//! On the wire an amount is a decimal string of atomic units (`"10000"` is 0.01 USDC, which has
//! 6 decimals). People write prices as dollars (`$0.01`) or token units (`0.01`); [`Price`] turns
//! them into a [`TokenAmount`] given the asset's decimals, and refuses a price those decimals
//! cannot represent rather than rounding it.
//!
//! ```
//! use coinslot_core::{Price, TokenAmount};
//!
//! let price: Price = "$0.001".parse()?;
//! assert_eq!(price.to_atomic(6)?, TokenAmount::from(1000u64));
//! assert!("$0.0000001".parse::<Price>()?.to_atomic(6).is_err()); // would need 7 decimals
//! assert_eq!(TokenAmount::from(1500u64).to_decimal_string(6), "0.0015");
//! # Ok::<(), coinslot_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use ruint::aliases::U256;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A token amount in atomic units, from 0 to 2^256 − 1.
///
/// Its text form is canonical decimal: ASCII digits only, no sign, no spaces, no leading zeros
/// (but `0` itself), so that parsing and printing give back the same string.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenAmount(U256);

/// Digits in 2^256 − 1.
const MAX_DIGITS: usize = 78;

impl TokenAmount {
    /// Zero.
    pub const ZERO: Self = Self(U256::ZERO);
    /// 2^256 − 1.
    pub const MAX: Self = Self(U256::MAX);

    /// The amount as a 256-bit integer (the type alloy calls `U256`).
    pub const fn as_u256(&self) -> U256 {
        self.0
    }

    /// Parses a canonical decimal string of atomic units.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidAmount {
            input: input.to_owned(),
            reason,
        };
        if input.is_empty() {
            return Err(invalid("empty"));
        }
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "not a decimal integer (digits only, no sign or spaces)",
            ));
        }
        if input.len() > 1 && input.starts_with('0') {
            return Err(invalid("leading zero"));
        }
        if input.len() > MAX_DIGITS {
            return Err(Error::AmountOverflow {
                input: input.to_owned(),
            });
        }
        U256::from_str_radix(input, 10)
            .map(Self)
            .map_err(|_| Error::AmountOverflow {
                input: input.to_owned(),
            })
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `self - other`, or `None` if `other` is larger.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// The amount in whole token units for an asset with `decimals` decimals, exactly, without
    /// trailing zeros: `1500` with 6 decimals is `"0.0015"`.
    pub fn to_decimal_string(&self, decimals: u8) -> String {
        let digits = self.0.to_string();
        let decimals = usize::from(decimals);
        if decimals == 0 {
            return digits;
        }
        let padded = if digits.len() <= decimals {
            format!("{}{digits}", "0".repeat(decimals + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - decimals);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            int.to_owned()
        } else {
            format!("{int}.{frac}")
        }
    }
}

impl From<U256> for TokenAmount {
    fn from(value: U256) -> Self {
        Self(value)
    }
}

impl From<TokenAmount> for U256 {
    fn from(value: TokenAmount) -> Self {
        value.0
    }
}

impl From<u64> for TokenAmount {
    fn from(value: u64) -> Self {
        Self(U256::from(value))
    }
}

impl From<u128> for TokenAmount {
    fn from(value: u128) -> Self {
        Self(U256::from(value))
    }
}

impl FromStr for TokenAmount {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for TokenAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for TokenAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenAmount({})", self.0)
    }
}

impl Serialize for TokenAmount {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TokenAmount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A price as a person writes it, before an asset's decimals make it atomic.
///
/// - `$0.001`: US dollars, for a dollar stablecoin (USDC, USDCx): one token unit per dollar;
/// - `0.001` or `5`: whole token units (0.001 USDC, 5 STX);
/// - [`Price::Atomic`]: atomic units, already exact (`TokenAmount::from(1000u64).into()`).
///
/// Text forms are strict: digits with at most one `.` that has a digit on each side, no sign,
/// no exponent, no spaces, no thousands separators, no leading zeros (`0.5`, not `00.5`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Price {
    /// Dollars, for a stablecoin worth one dollar per token unit.
    Usd(Decimal),
    /// Whole token units.
    Units(Decimal),
    /// Atomic units.
    Atomic(TokenAmount),
}

/// A non-negative decimal number kept as its digits: `int.frac`, exactly as written.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    int: Box<str>,
    frac: Box<str>,
}

impl Decimal {
    fn parse(text: &str, original: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidPrice {
            input: original.to_owned(),
            reason,
        };
        let (int, frac) = match text.split_once('.') {
            Some((int, frac)) => {
                if frac.is_empty() {
                    return Err(invalid("nothing after the decimal point"));
                }
                (int, frac)
            }
            None => (text, ""),
        };
        if int.is_empty() {
            return Err(invalid("no digit before the decimal point"));
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "not a plain decimal number (digits and one '.', no sign, exponent or spaces)",
            ));
        }
        if int.len() > 1 && int.starts_with('0') {
            return Err(invalid("leading zero"));
        }
        Ok(Self {
            int: int.into(),
            frac: frac.into(),
        })
    }

    /// The value times 10^`decimals`, if that is a whole number below 2^256.
    fn scale(&self, decimals: u8, original: &str) -> Result<TokenAmount> {
        let frac = self.frac.trim_end_matches('0');
        let places = usize::from(decimals);
        if frac.len() > places {
            return Err(Error::PriceTooPrecise {
                input: original.to_owned(),
                needed: frac.len(),
                decimals,
            });
        }
        let mut digits = String::with_capacity(self.int.len() + places);
        digits.push_str(&self.int);
        digits.push_str(frac);
        digits.extend(std::iter::repeat_n('0', places - frac.len()));
        // Canonical now (no leading zeros), so the strict parser fails only on overflow.
        match digits.trim_start_matches('0') {
            "" => Ok(TokenAmount::ZERO),
            digits => TokenAmount::parse(digits).map_err(|_| Error::AmountOverflow {
                input: original.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.frac.is_empty() {
            f.write_str(&self.int)
        } else {
            write!(f, "{}.{}", self.int, self.frac)
        }
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

impl Price {
    /// Parses `$0.001` (dollars) or `0.001` (token units).
    pub fn parse(input: &str) -> Result<Self> {
        if input.is_empty() {
            return Err(Error::InvalidPrice {
                input: String::new(),
                reason: "empty",
            });
        }
        match input.strip_prefix('$') {
            Some(dollars) => Decimal::parse(dollars, input).map(Self::Usd),
            None => Decimal::parse(input, input).map(Self::Units),
        }
    }

    /// The price in atomic units of an asset with `decimals` decimals.
    ///
    /// Fails with [`Error::PriceTooPrecise`] when the price has more significant fractional
    /// digits than `decimals`, and with [`Error::AmountOverflow`] above 2^256 − 1.
    pub fn to_atomic(&self, decimals: u8) -> Result<TokenAmount> {
        match self {
            Self::Usd(d) | Self::Units(d) => d.scale(decimals, &self.to_string()),
            Self::Atomic(amount) => Ok(*amount),
        }
    }
}

impl From<TokenAmount> for Price {
    fn from(amount: TokenAmount) -> Self {
        Self::Atomic(amount)
    }
}

impl FromStr for Price {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usd(d) => write!(f, "${d}"),
            Self::Units(d) => write!(f, "{d}"),
            Self::Atomic(a) => write!(f, "{a} atomic units"),
        }
    }
}

impl fmt::Debug for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Price({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_parses_and_one_more_overflows() {
        let max = U256::MAX.to_string();
        assert_eq!(TokenAmount::parse(&max).unwrap(), TokenAmount::MAX);
        // 2^256: one more than the maximum.
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert!(matches!(
            TokenAmount::parse(over),
            Err(Error::AmountOverflow { .. })
        ));
    }

    #[test]
    fn prices_scale_exactly() {
        let cases = [
            ("$0.001", 6, "1000"),
            ("$1", 6, "1000000"),
            ("0.0010", 3, "1"),
            ("5", 6, "5000000"),
            ("0", 18, "0"),
            ("0.000000000000000001", 18, "1"),
        ];
        for (price, decimals, atomic) in cases {
            let got = Price::parse(price).unwrap().to_atomic(decimals).unwrap();
            assert_eq!(got.to_string(), atomic, "{price} at {decimals}");
        }
    }

    #[test]
    fn decimal_string_round_trips_scale() {
        for (atomic, decimals) in [
            (0u64, 6u8),
            (1, 6),
            (1_000_000, 6),
            (123_456_789, 3),
            (7, 0),
        ] {
            let amount = TokenAmount::from(atomic);
            let text = amount.to_decimal_string(decimals);
            assert_eq!(
                Price::parse(&text).unwrap().to_atomic(decimals).unwrap(),
                amount
            );
        }
    }
}
