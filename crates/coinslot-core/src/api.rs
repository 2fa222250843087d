//! The bodies of the facilitator HTTP API: `POST /verify`, `POST /settle`, `GET /supported`
//! ([v2 specification] §7).
//!
//! A `/verify` or `/settle` body is `{"x402Version", "paymentPayload", "paymentRequirements"}`
//! where the version says whether the two objects are v1 or v2; [`VerifyRequest`] is an enum
//! over the two, so a handler cannot mistake one for the other.
//!
//! [v2 specification]: https://github.com/x402-foundation/x402/blob/main/specs/x402-specification-v2.md

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::amount::TokenAmount;
use crate::error::Error;
use crate::network::Network;
use crate::v1::{PaymentPayloadV1, PaymentRequirementsV1};
use crate::v2::{JsonObject, PaymentPayload, PaymentRequirements};

/// The body of `POST /verify`: a payment and the requirement it claims to satisfy.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// v2 is the common case: boxing it to shrink the v1 variant would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
pub enum VerifyRequest {
    /// `x402Version: 1`.
    V1 {
        /// The payment.
        payment_payload: PaymentPayloadV1,
        /// The requirement.
        payment_requirements: PaymentRequirementsV1,
    },
    /// `x402Version: 2`.
    V2 {
        /// The payment.
        payment_payload: PaymentPayload,
        /// The requirement.
        payment_requirements: PaymentRequirements,
    },
}

/// A v1 or v2 request seen one way, as a scheme checks it: what the payment names, the offer
/// it says it accepted, and the requirements in v2 form ([`VerifyRequest::parts`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PaymentParts<'a> {
    /// The scheme the payment names (v2: its `accepted.scheme`).
    pub scheme: &'a str,
    /// The network the payment names, as written (v1: a v1 name).
    pub network: &'a str,
    /// The offer the payment says it accepted, echoed whole (v2 only).
    pub accepted: Option<&'a PaymentRequirements>,
    /// The requirements, in v2 form (v1 ones translated, their network by its CAIP-2 id).
    pub requirements: Cow<'a, PaymentRequirements>,
    /// The requirements' network, as written.
    pub requirements_network: &'a str,
    /// The scheme-specific payment.
    pub payload: &'a JsonObject,
    /// The payment's extensions (v2 only): what the client filled in of those the 402 offered.
    pub extensions: Option<&'a JsonObject>,
}

/// The body of `POST /settle`: the same shape as [`VerifyRequest`].
pub type SettleRequest = VerifyRequest;

impl VerifyRequest {
    /// A v2 request.
    pub fn v2(payment_payload: PaymentPayload, payment_requirements: PaymentRequirements) -> Self {
        Self::V2 {
            payment_payload,
            payment_requirements,
        }
    }

    /// The protocol version, 1 or 2.
    pub fn x402_version(&self) -> u8 {
        match self {
            Self::V1 { .. } => 1,
            Self::V2 { .. } => 2,
        }
    }

    /// The scheme of the requirement.
    pub fn scheme(&self) -> &str {
        match self {
            Self::V1 {
                payment_requirements,
                ..
            } => &payment_requirements.scheme,
            Self::V2 {
                payment_requirements,
                ..
            } => &payment_requirements.scheme,
        }
    }

    /// The network of the requirement, as written: a v1 name or a CAIP-2 identifier.
    pub fn network_name(&self) -> &str {
        match self {
            Self::V1 {
                payment_requirements,
                ..
            } => &payment_requirements.network,
            Self::V2 {
                payment_requirements,
                ..
            } => payment_requirements.network.as_str(),
        }
    }

    /// The CAIP-2 network of the requirement (a v1 name is translated).
    pub fn network(&self) -> Result<Network, Error> {
        match self {
            Self::V1 {
                payment_requirements,
                ..
            } => Network::from_v1_name(&payment_requirements.network),
            Self::V2 {
                payment_requirements,
                ..
            } => Ok(payment_requirements.network.clone()),
        }
    }

    /// The amount of the requirement, in atomic units (v1: `maxAmountRequired`).
    pub fn amount(&self) -> TokenAmount {
        match self {
            Self::V1 {
                payment_requirements,
                ..
            } => payment_requirements.max_amount_required,
            Self::V2 {
                payment_requirements,
                ..
            } => payment_requirements.amount,
        }
    }

    /// The same request with the requirement's amount set to `amount`: how a server settles a
    /// metered (`upto`) payment for its charge rather than the maximum that was verified (the
    /// payment itself, and the maximum it accepted, are unchanged).
    #[must_use]
    pub fn charging(&self, amount: TokenAmount) -> Self {
        let mut request = self.clone();
        match &mut request {
            Self::V1 {
                payment_requirements,
                ..
            } => payment_requirements.max_amount_required = amount,
            Self::V2 {
                payment_requirements,
                ..
            } => payment_requirements.amount = amount,
        }
        request
    }

    /// The asset of the requirement, as written.
    pub fn asset(&self) -> &str {
        match self {
            Self::V1 {
                payment_requirements,
                ..
            } => &payment_requirements.asset,
            Self::V2 {
                payment_requirements,
                ..
            } => &payment_requirements.asset,
        }
    }

    /// The request seen one way whatever its version; fails for v1 requirements whose
    /// network has no known CAIP-2 identifier.
    pub fn parts(&self) -> Result<PaymentParts<'_>, Error> {
        Ok(match self {
            Self::V2 {
                payment_payload,
                payment_requirements,
            } => PaymentParts {
                scheme: &payment_payload.accepted.scheme,
                network: payment_payload.accepted.network.as_str(),
                accepted: Some(&payment_payload.accepted),
                requirements: Cow::Borrowed(payment_requirements),
                requirements_network: payment_requirements.network.as_str(),
                payload: &payment_payload.payload,
                extensions: payment_payload.extensions.as_ref(),
            },
            Self::V1 {
                payment_payload,
                payment_requirements,
            } => PaymentParts {
                scheme: &payment_payload.scheme,
                network: &payment_payload.network,
                accepted: None,
                requirements: Cow::Owned(payment_requirements.to_v2()?.0),
                requirements_network: &payment_requirements.network,
                payload: &payment_payload.payload,
                extensions: None,
            },
        })
    }

    /// The scheme-specific payment object.
    pub fn payload(&self) -> &JsonObject {
        match self {
            Self::V1 {
                payment_payload, ..
            } => &payment_payload.payload,
            Self::V2 {
                payment_payload, ..
            } => &payment_payload.payload,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestOut<'a, P, R> {
    x402_version: u8,
    payment_payload: &'a P,
    payment_requirements: &'a R,
}

impl Serialize for VerifyRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::V1 {
                payment_payload,
                payment_requirements,
            } => RequestOut {
                x402_version: 1,
                payment_payload,
                payment_requirements,
            }
            .serialize(serializer),
            Self::V2 {
                payment_payload,
                payment_requirements,
            } => RequestOut {
                x402_version: 2,
                payment_payload,
                payment_requirements,
            }
            .serialize(serializer),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestIn {
    x402_version: u64,
    payment_payload: Value,
    payment_requirements: Value,
}

impl<'de> Deserialize<'de> for VerifyRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RequestIn::deserialize(deserializer)?;
        let field = |name: &str, err: serde_json::Error| D::Error::custom(format!("{name}: {err}"));
        // serde's derived structs also accept a JSON array of the fields in order; the wire
        // has objects only, and anything else is refused rather than guessed at.
        let objects = [
            ("paymentPayload", Some(&raw.payment_payload)),
            ("paymentRequirements", Some(&raw.payment_requirements)),
            (
                "paymentPayload.accepted",
                raw.payment_payload.get("accepted"),
            ),
            (
                "paymentPayload.resource",
                raw.payment_payload.get("resource"),
            ),
        ];
        for (name, value) in objects {
            if let Some(value) = value
                && !value.is_object()
                && !(name == "paymentPayload.resource" && value.is_null())
            {
                return Err(D::Error::custom(format!("{name}: expected a JSON object")));
            }
        }
        match raw.x402_version {
            1 => Ok(Self::V1 {
                payment_payload: serde_json::from_value(raw.payment_payload)
                    .map_err(|e| field("paymentPayload", e))?,
                payment_requirements: serde_json::from_value(raw.payment_requirements)
                    .map_err(|e| field("paymentRequirements", e))?,
            }),
            2 => Ok(Self::V2 {
                payment_payload: serde_json::from_value(raw.payment_payload)
                    .map_err(|e| field("paymentPayload", e))?,
                payment_requirements: serde_json::from_value(raw.payment_requirements)
                    .map_err(|e| field("paymentRequirements", e))?,
            }),
            found => Err(D::Error::custom(Error::UnsupportedVersion {
                found,
                expected: "1 or 2",
            })),
        }
    }
}

/// One payment kind a facilitator handles: a version, a scheme and a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportedKind {
    /// 1 or 2.
    pub x402_version: u8,
    /// The scheme.
    pub scheme: String,
    /// A CAIP-2 identifier (v2) or a v1 network name (v1).
    pub network: String,
    /// Kind-specific data: `feePayer` (SVM), `facilitatorAddress` (`upto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<JsonObject>,
}

/// The answer of `GET /supported`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupportedResponse {
    /// The payment kinds handled.
    pub kinds: Vec<SupportedKind>,
    /// The extensions understood (`bazaar`…). v1 facilitators send none.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// The facilitator's signing addresses, by network pattern (`eip155:*`).
    #[serde(default)]
    pub signers: BTreeMap<String, Vec<String>>,
}

impl SupportedResponse {
    /// Whether a kind for this version, scheme and network is listed.
    pub fn supports(&self, x402_version: u8, scheme: &str, network: &str) -> bool {
        self.kinds
            .iter()
            .any(|k| k.x402_version == x402_version && k.scheme == scheme && k.network == network)
    }

    /// The `extra` a v2 kind publishes for `scheme` on `network`: for `upto`, the
    /// `facilitatorAddress` an offer must name.
    pub fn extra(&self, scheme: &str, network: &Network) -> Option<&JsonObject> {
        self.kinds
            .iter()
            .find(|k| k.x402_version == 2 && k.scheme == scheme && k.network == network.as_str())?
            .extra
            .as_ref()
    }
}
