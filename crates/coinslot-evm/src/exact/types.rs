//! The `exact` EIP-3009 payload and the EIP-712 struct behind it.

use alloy::primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

alloy::sol! {
    /// The EIP-3009 authorization a payer signs (EIP-712 struct).
    #[derive(Debug, PartialEq, Eq)]
    struct TransferWithAuthorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
    }
}

/// The `payload` object of an `exact` EIP-3009 payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExactEvmPayload {
    /// 65 bytes (r ‖ s ‖ v) for a key; longer for ERC-1271 and ERC-6492 wallets.
    pub signature: Bytes,
    /// What was signed.
    pub authorization: Authorization,
}

impl ExactEvmPayload {
    /// Reads the payload from a payment's `payload` object, without copying the object.
    pub fn from_object(object: &coinslot_core::JsonObject) -> serde_json::Result<Self> {
        let entries = object.iter().map(|(key, value)| (key.as_str(), value));
        Self::deserialize(serde::de::value::MapDeserializer::new(entries))
    }
}

/// The signed fields, as the wire writes them: addresses in EIP-55 checksum form (read in any
/// case), numbers as decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// The payer.
    #[serde(with = "crate::wire::checksummed")]
    pub from: Address,
    /// The payee (`payTo`).
    #[serde(with = "crate::wire::checksummed")]
    pub to: Address,
    /// The amount, in atomic units.
    #[serde(with = "crate::wire::decimal")]
    pub value: U256,
    /// Not valid before this Unix time.
    #[serde(with = "crate::wire::decimal")]
    pub valid_after: U256,
    /// Not valid from this Unix time on.
    #[serde(with = "crate::wire::decimal")]
    pub valid_before: U256,
    /// 32 random bytes, used once.
    pub nonce: B256,
}

impl From<&Authorization> for TransferWithAuthorization {
    fn from(a: &Authorization) -> Self {
        Self {
            from: a.from,
            to: a.to,
            value: a.value,
            validAfter: a.valid_after,
            validBefore: a.valid_before,
            nonce: a.nonce,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_checksummed_and_read_in_any_case() {
        let from = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
        let to = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
        let json = serde_json::json!({
            "from": from.to_lowercase(), "to": to.to_uppercase().replace("0X", "0x"),
            "value": "1", "validAfter": "0", "validBefore": "9",
            "nonce": format!("0x{}", "ab".repeat(32)),
        });
        let authorization: Authorization = serde_json::from_value(json).unwrap();
        let written = serde_json::to_value(&authorization).unwrap();
        assert_eq!(written["from"], from);
        assert_eq!(written["to"], to);
    }
}
