//! `x402Version`, a JSON number that each wire type pins to the one version it speaks.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// The `x402Version` field of a type that speaks exactly version `N`.
///
/// It serializes as the number `N` and refuses any other number when deserialized, so a v1
/// payload can never be read as a v2 one, nor the reverse.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct X402Version<const N: u8>;

/// `x402Version: 1`.
pub type V1 = X402Version<1>;
/// `x402Version: 2`.
pub type V2 = X402Version<2>;

impl<const N: u8> X402Version<N> {
    /// The version number.
    pub const VALUE: u8 = N;
}

impl<const N: u8> fmt::Debug for X402Version<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "x402Version({N})")
    }
}

impl<const N: u8> Serialize for X402Version<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(N)
    }
}

impl<'de, const N: u8> Deserialize<'de> for X402Version<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let found = u64::deserialize(deserializer)?;
        if found == u64::from(N) {
            Ok(Self)
        } else {
            Err(serde::de::Error::custom(Error::UnsupportedVersion {
                found,
                expected: if N == 1 { "1" } else { "2" },
            }))
        }
    }
}
