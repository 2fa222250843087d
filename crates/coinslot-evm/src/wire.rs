//! How EVM values are written in x402 payloads: addresses in EIP-55 checksum form, numbers as
//! decimal strings. For `#[serde(with = …)]`.

/// An address written in EIP-55 checksum form, as viem and the reference SDKs write it (the
/// Python reference refuses lower-case ones), and read in any case.
pub(crate) mod checksummed {
    use alloy::primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        address: &Address,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&address.to_checksum(None))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Address, D::Error> {
        Address::deserialize(deserializer)
    }
}

/// `U256` as a canonical decimal string, through core's strict `TokenAmount` parser.
pub(crate) mod decimal {
    use alloy::primitives::U256;
    use coinslot_core::TokenAmount;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        TokenAmount::from(*value).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<U256, D::Error> {
        TokenAmount::deserialize(deserializer).map(|amount| amount.as_u256())
    }
}

/// `U256` written as a decimal string, read as one or as `0x` hex: a Permit2 nonce, which the
/// reference clients write in decimal and the spec's example in hex.
pub(crate) mod decimal_or_hex {
    use alloy::primitives::U256;
    use coinslot_core::TokenAmount;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        TokenAmount::from(*value).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<U256, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        match text.strip_prefix("0x") {
            Some(hex) if !hex.is_empty() && hex.len() <= 64 => U256::from_str_radix(hex, 16)
                .map_err(|_| D::Error::custom(format!("{text:?} is not hex"))),
            Some(_) => Err(D::Error::custom(format!(
                "{text:?} is not a 256-bit number"
            ))),
            None => TokenAmount::parse(&text)
                .map(|amount| amount.as_u256())
                .map_err(D::Error::custom),
        }
    }
}

/// The payer named by a payload, read leniently so that even a refusal of a malformed
/// payload can say who sent it.
pub(crate) fn claimed_payer(payload: &coinslot_core::JsonObject) -> Option<String> {
    let authorization = payload
        .get("authorization")
        .or_else(|| payload.get("permit2Authorization"))?;
    let from = authorization.get("from")?.as_str()?;
    Some(
        from.parse::<alloy::primitives::Address>()
            .map_or_else(|_| from.to_owned(), |a| a.to_checksum(None)),
    )
}
