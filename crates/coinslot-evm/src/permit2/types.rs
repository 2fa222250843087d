//! The Permit2 payload of `exact` and `upto`, the EIP-712 structs the payer signs, and the calls
//! of the x402 proxies that settle it.

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::sol_types::{Eip712Domain, SolCall as _, SolStruct as _, eip712_domain};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::eip2612::Permit2612;
use super::{EXACT_PROXY, PERMIT2, UPTO_PROXY};
use crate::contracts::{
    EIP2612Permit, IExactPermit2Proxy, IUptoPermit2Proxy, PermitTransferFrom, TokenPermissions,
};

/// The EIP-712 structs of `exact` over Permit2 (witness `to`, `validAfter`).
pub mod exact_eip712 {
    #![allow(missing_docs)]

    alloy::sol! {
        /// What Permit2 lets move: a token and an amount.
        #[derive(Debug, PartialEq, Eq)]
        struct TokenPermissions { address token; uint256 amount; }

        /// The x402 `exact` witness: who is paid, and from when.
        #[derive(Debug, PartialEq, Eq)]
        struct Witness { address to; uint256 validAfter; }

        /// What the payer signs: Permit2's signature transfer with the x402 witness, the proxy
        /// as spender.
        #[derive(Debug, PartialEq, Eq)]
        struct PermitWitnessTransferFrom {
            TokenPermissions permitted;
            address spender;
            uint256 nonce;
            uint256 deadline;
            Witness witness;
        }
    }
}

/// The EIP-712 structs of `upto` (witness `to`, `facilitator`, `validAfter`).
pub mod upto_eip712 {
    #![allow(missing_docs)]

    alloy::sol! {
        /// What Permit2 lets move: a token and a maximum.
        #[derive(Debug, PartialEq, Eq)]
        struct TokenPermissions { address token; uint256 amount; }

        /// The x402 `upto` witness: who is paid, the only facilitator that may settle, and from
        /// when.
        #[derive(Debug, PartialEq, Eq)]
        struct Witness { address to; address facilitator; uint256 validAfter; }

        /// What the payer signs: Permit2's signature transfer with the x402 witness, the proxy
        /// as spender.
        #[derive(Debug, PartialEq, Eq)]
        struct PermitWitnessTransferFrom {
            TokenPermissions permitted;
            address spender;
            uint256 nonce;
            uint256 deadline;
            Witness witness;
        }
    }
}

/// The `payload` object of a Permit2 payment: the signature and what it signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permit2Payload<W> {
    /// 65 bytes (r ‖ s ‖ v) for a key; longer for an ERC-1271 wallet.
    pub signature: Bytes,
    /// What was signed.
    pub permit2_authorization: Permit2Authorization<W>,
}

/// A Permit2 signature transfer with its x402 witness, as the wire writes it: addresses in
/// checksum form, numbers as decimal strings (the nonce also read in `0x` hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permit2Authorization<W> {
    /// The payer (Permit2's `owner`).
    #[serde(with = "crate::wire::checksummed")]
    pub from: Address,
    /// The token and the most that may move.
    pub permitted: Permitted,
    /// The proxy that may call Permit2 with it.
    #[serde(with = "crate::wire::checksummed")]
    pub spender: Address,
    /// Permit2's unordered nonce: any unused 256-bit number.
    #[serde(with = "crate::wire::decimal_or_hex")]
    pub nonce: U256,
    /// Not valid from this Unix time on.
    #[serde(with = "crate::wire::decimal")]
    pub deadline: U256,
    /// The x402 witness.
    pub witness: W,
}

/// The token and amount a Permit2 authorization lets move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permitted {
    /// The token.
    #[serde(with = "crate::wire::checksummed")]
    pub token: Address,
    /// The amount (`exact`) or the maximum (`upto`), in atomic units.
    #[serde(with = "crate::wire::decimal")]
    pub amount: U256,
}

/// The witness of `exact` over Permit2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExactWitness {
    /// Who is paid (`payTo`).
    #[serde(with = "crate::wire::checksummed")]
    pub to: Address,
    /// Not valid before this Unix time.
    #[serde(with = "crate::wire::decimal")]
    pub valid_after: U256,
}

/// The witness of `upto`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UptoWitness {
    /// Who is paid (`payTo`).
    #[serde(with = "crate::wire::checksummed")]
    pub to: Address,
    /// The only facilitator that may settle (`extra.facilitatorAddress`).
    #[serde(with = "crate::wire::checksummed")]
    pub facilitator: Address,
    /// Not valid before this Unix time.
    #[serde(with = "crate::wire::decimal")]
    pub valid_after: U256,
}

/// What differs between `exact` and `upto` over Permit2: the witness, the proxy, and its call.
pub trait Witness: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The x402 proxy that is the spender.
    const PROXY: Address;
    /// Who is paid.
    fn to(&self) -> Address;
    /// Not valid before this Unix time.
    fn valid_after(&self) -> U256;
    /// The only account the proxy lets settle, when it checks its caller.
    fn facilitator(&self) -> Option<Address>;
    /// The EIP-712 hash of `authorization` on `chain_id`: what the payer signs.
    fn signing_hash(authorization: &Permit2Authorization<Self>, chain_id: u64) -> B256;
    /// The calldata of the proxy's `settle` moving `amount` (for `exact`, always the permitted
    /// amount), with `signature` in the form Permit2 checks; `settleWithPermit` when the payer
    /// sent an EIP-2612 permit for Permit2 (`eip2612GasSponsoring`).
    fn settle_calldata(
        payload: &Permit2Payload<Self>,
        signature: Bytes,
        amount: U256,
        permit2612: Option<&Permit2612>,
    ) -> Bytes;
}

/// Permit2's EIP-712 domain on `chain_id`: name "Permit2", no version.
pub(crate) fn permit2_domain(chain_id: u64) -> Eip712Domain {
    eip712_domain! {
        name: "Permit2",
        chain_id: chain_id,
        verifying_contract: PERMIT2,
    }
}

impl Witness for ExactWitness {
    const PROXY: Address = EXACT_PROXY;

    fn to(&self) -> Address {
        self.to
    }

    fn valid_after(&self) -> U256 {
        self.valid_after
    }

    fn facilitator(&self) -> Option<Address> {
        None
    }

    fn signing_hash(a: &Permit2Authorization<Self>, chain_id: u64) -> B256 {
        use exact_eip712::{PermitWitnessTransferFrom, TokenPermissions, Witness};
        PermitWitnessTransferFrom {
            permitted: TokenPermissions {
                token: a.permitted.token,
                amount: a.permitted.amount,
            },
            spender: a.spender,
            nonce: a.nonce,
            deadline: a.deadline,
            witness: Witness {
                to: a.witness.to,
                validAfter: a.witness.valid_after,
            },
        }
        .eip712_signing_hash(&permit2_domain(chain_id))
    }

    fn settle_calldata(
        payload: &Permit2Payload<Self>,
        signature: Bytes,
        _amount: U256,
        permit2612: Option<&Permit2612>,
    ) -> Bytes {
        use IExactPermit2Proxy as Proxy;
        let a = &payload.permit2_authorization;
        let (permit, owner) = (proxy_permit(a), a.from);
        let witness = Proxy::Witness {
            to: a.witness.to,
            validAfter: a.witness.valid_after,
        };
        match permit2612 {
            None => Proxy::settleCall {
                permit,
                owner,
                witness,
                signature,
            }
            .abi_encode(),
            Some(p) => Proxy::settleWithPermitCall {
                permit2612: p.into(),
                permit,
                owner,
                witness,
                signature,
            }
            .abi_encode(),
        }
        .into()
    }
}

impl Witness for UptoWitness {
    const PROXY: Address = UPTO_PROXY;

    fn to(&self) -> Address {
        self.to
    }

    fn valid_after(&self) -> U256 {
        self.valid_after
    }

    fn facilitator(&self) -> Option<Address> {
        Some(self.facilitator)
    }

    fn signing_hash(a: &Permit2Authorization<Self>, chain_id: u64) -> B256 {
        use upto_eip712::{PermitWitnessTransferFrom, TokenPermissions, Witness};
        PermitWitnessTransferFrom {
            permitted: TokenPermissions {
                token: a.permitted.token,
                amount: a.permitted.amount,
            },
            spender: a.spender,
            nonce: a.nonce,
            deadline: a.deadline,
            witness: Witness {
                to: a.witness.to,
                facilitator: a.witness.facilitator,
                validAfter: a.witness.valid_after,
            },
        }
        .eip712_signing_hash(&permit2_domain(chain_id))
    }

    fn settle_calldata(
        payload: &Permit2Payload<Self>,
        signature: Bytes,
        amount: U256,
        permit2612: Option<&Permit2612>,
    ) -> Bytes {
        use IUptoPermit2Proxy as Proxy;
        let a = &payload.permit2_authorization;
        let (permit, owner) = (proxy_permit(a), a.from);
        let witness = Proxy::Witness {
            to: a.witness.to,
            facilitator: a.witness.facilitator,
            validAfter: a.witness.valid_after,
        };
        match permit2612 {
            None => Proxy::settleCall {
                permit,
                amount,
                owner,
                witness,
                signature,
            }
            .abi_encode(),
            Some(p) => Proxy::settleWithPermitCall {
                permit2612: p.into(),
                permit,
                amount,
                owner,
                witness,
                signature,
            }
            .abi_encode(),
        }
        .into()
    }
}

/// The permit as both proxies take it: token, amount, nonce and deadline.
fn proxy_permit<W>(a: &Permit2Authorization<W>) -> PermitTransferFrom {
    PermitTransferFrom {
        permitted: TokenPermissions {
            token: a.permitted.token,
            amount: a.permitted.amount,
        },
        nonce: a.nonce,
        deadline: a.deadline,
    }
}

impl From<&Permit2612> for EIP2612Permit {
    fn from(p: &Permit2612) -> Self {
        Self {
            value: p.value,
            deadline: p.deadline,
            r: p.r,
            s: p.s,
            v: p.v,
        }
    }
}

impl<W: Witness> Permit2Payload<W> {
    /// Reads the payload from a payment's `payload` object, without copying the object.
    pub fn from_object(object: &coinslot_core::JsonObject) -> serde_json::Result<Self> {
        let entries = object.iter().map(|(key, value)| (key.as_str(), value));
        Self::deserialize(serde::de::value::MapDeserializer::new(entries))
    }
}

/// Whether a payment's `payload` is a Permit2 one (it carries `permit2Authorization`).
pub(crate) fn is_permit2(payload: &coinslot_core::JsonObject) -> bool {
    payload.contains_key("permit2Authorization")
}

#[cfg(test)]
mod tests {
    use alloy::primitives::keccak256;
    use alloy::sol_types::SolStruct as _;

    use super::*;

    #[test]
    fn the_signed_types_are_permit2s_with_the_x402_witnesses() {
        let exact = exact_eip712::PermitWitnessTransferFrom::eip712_encode_type();
        assert_eq!(
            exact,
            "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,\
             uint256 deadline,Witness witness)TokenPermissions(address token,uint256 amount)\
             Witness(address to,uint256 validAfter)"
        );
        let upto = upto_eip712::PermitWitnessTransferFrom::eip712_encode_type();
        // The reference's full upto type hash (`0x51dff697…c2ee`).
        let hash = alloy::hex::encode(keccak256(upto.as_bytes()));
        assert!(
            hash.starts_with("51dff697") && hash.ends_with("c2ee"),
            "{hash}"
        );
    }

    #[test]
    fn nonces_are_read_in_decimal_or_hex_and_written_in_decimal() {
        let json = |nonce: &str| {
            serde_json::json!({
                "from": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
                "permitted": {"token": "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "amount": "5"},
                "spender": "0x402085c248EeA27D92E8b30b2C58ed07f9E20001",
                "nonce": nonce, "deadline": "9",
                "witness": {"to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "validAfter": "0"},
            })
        };
        let read = |nonce: &str| {
            serde_json::from_value::<Permit2Authorization<ExactWitness>>(json(nonce))
                .map(|a| a.nonce)
        };
        assert_eq!(read("255").unwrap(), U256::from(255));
        assert_eq!(read("0xff").unwrap(), U256::from(255));
        for bad in ["-1", "0x", "0xzz", "1e3", "0255"] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let a = serde_json::from_value::<Permit2Authorization<ExactWitness>>(json("0xff")).unwrap();
        assert_eq!(serde_json::to_value(a).unwrap()["nonce"], "255");
    }
}
