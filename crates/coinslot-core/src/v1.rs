//! x402 v1 wire types, as the [v1 specification] and the legacy `x402` packages write them, and
//! their conversions to and from v2 where the two mean the same thing.
//!
//! v1 names networks (`base-sepolia`), puts the resource URL in each requirement, calls the
//! amount `maxAmountRequired`, sends the 402 as a JSON body, and the payment in `X-PAYMENT`.
//!
//! ```
//! use coinslot_core::v1::PaymentRequirementsV1;
//!
//! let v1: PaymentRequirementsV1 = serde_json::from_str(r#"{
//!     "scheme": "exact", "network": "base-sepolia", "maxAmountRequired": "10000",
//!     "resource": "https://api.example.com/data", "description": "", "mimeType": "",
//!     "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60,
//!     "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
//! }"#)?;
//! let (requirements, resource) = v1.to_v2()?;
//! assert_eq!(requirements.network.as_str(), "eip155:84532");
//! assert_eq!(resource.url, "https://api.example.com/data");
//! assert_eq!(PaymentRequirementsV1::from_v2(&requirements, &resource)?, v1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [v1 specification]: https://github.com/x402-foundation/x402/blob/main/specs/x402-specification-v1.md

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::amount::TokenAmount;
use crate::error::Result;
use crate::header;
use crate::network::Network;
use crate::reason::ErrorReason;
use crate::v2::{
    JsonObject, PaymentPayload, PaymentRequired, PaymentRequirements, ResourceInfo, SettleResponse,
};
use crate::version::V1;

/// The JSON body of a v1 402.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequiredV1 {
    /// Always 1.
    pub x402_version: V1,
    /// Why payment is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The ways the server accepts payment.
    #[serde(default)]
    pub accepts: Vec<PaymentRequirementsV1>,
}

/// One way to pay, in v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirementsV1 {
    /// The payment scheme.
    pub scheme: String,
    /// The v1 network name (`base-sepolia`).
    pub network: String,
    /// The amount in atomic units.
    pub max_amount_required: TokenAmount,
    /// The resource URL.
    pub resource: String,
    /// What the resource is.
    #[serde(default)]
    pub description: String,
    /// The MIME type of the resource.
    #[serde(default)]
    pub mime_type: String,
    /// A JSON schema of the response; may be absent, or `null`, which is kept as written.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub output_schema: Option<Value>,
    /// Who is paid.
    pub pay_to: String,
    /// How long the payment may take, in seconds.
    pub max_timeout_seconds: u64,
    /// The asset.
    pub asset: String,
    /// Scheme-specific data (`name`, `version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<JsonObject>,
}

/// A field that is present is `Some`, even when it is `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// The body of the `X-PAYMENT` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayloadV1 {
    /// Always 1.
    pub x402_version: V1,
    /// The payment scheme.
    pub scheme: String,
    /// The v1 network name.
    pub network: String,
    /// The scheme-specific payment.
    pub payload: JsonObject,
}

/// The v1 answer of `/settle`, and the body of the `X-PAYMENT-RESPONSE` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleResponseV1 {
    /// Whether the payment settled.
    pub success: bool,
    /// Why it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<ErrorReason>,
    /// The transaction (`""` on failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// The v1 network name.
    pub network: String,
    /// The address that paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
}

impl PaymentRequirementsV1 {
    /// The v2 requirement and resource this v1 requirement stands for.
    ///
    /// The v1 `outputSchema` has no v2 field and is dropped.
    pub fn to_v2(&self) -> Result<(PaymentRequirements, ResourceInfo)> {
        let requirements = PaymentRequirements {
            scheme: self.scheme.clone(),
            network: Network::from_v1_name(&self.network)?,
            amount: self.max_amount_required,
            asset: self.asset.clone(),
            pay_to: self.pay_to.clone(),
            max_timeout_seconds: self.max_timeout_seconds,
            extra: self.extra.clone(),
            other: JsonObject::new(),
        };
        let resource = ResourceInfo {
            url: self.resource.clone(),
            description: Some(self.description.clone()),
            mime_type: Some(self.mime_type.clone()),
            other: JsonObject::new(),
        };
        Ok((requirements, resource))
    }

    /// The v1 form of a v2 requirement for `resource`; fails if the network has no v1 name.
    pub fn from_v2(requirements: &PaymentRequirements, resource: &ResourceInfo) -> Result<Self> {
        Ok(Self {
            scheme: requirements.scheme.clone(),
            network: requirements.network.try_v1_name()?.to_owned(),
            max_amount_required: requirements.amount,
            resource: resource.url.clone(),
            description: resource.description.clone().unwrap_or_default(),
            mime_type: resource.mime_type.clone().unwrap_or_default(),
            output_schema: None,
            pay_to: requirements.pay_to.clone(),
            max_timeout_seconds: requirements.max_timeout_seconds,
            asset: requirements.asset.clone(),
            extra: requirements.extra.clone(),
        })
    }
}

impl PaymentRequiredV1 {
    /// The v1 body for a v2 402: every offer whose network has a v1 name, in order.
    pub fn from_v2(required: &PaymentRequired) -> Self {
        Self {
            x402_version: V1::default(),
            error: required.error.clone(),
            accepts: required
                .accepts
                .iter()
                .filter_map(|r| PaymentRequirementsV1::from_v2(r, &required.resource).ok())
                .collect(),
        }
    }
}

impl PaymentPayloadV1 {
    /// The v2 payload for this v1 payment, given the requirement it was matched to.
    pub fn to_v2(
        &self,
        accepted: PaymentRequirements,
        resource: Option<ResourceInfo>,
    ) -> PaymentPayload {
        PaymentPayload::new(accepted, self.payload.clone(), resource)
    }

    /// The v1 form of a v2 payload; fails if its network has no v1 name.
    pub fn from_v2(payload: &PaymentPayload) -> Result<Self> {
        Ok(Self {
            x402_version: V1::default(),
            scheme: payload.accepted.scheme.clone(),
            network: payload.accepted.network.try_v1_name()?.to_owned(),
            payload: payload.payload.clone(),
        })
    }

    /// The `X-PAYMENT` header value.
    pub fn to_header(&self) -> Result<String> {
        header::encode(self)
    }
    /// Decodes an `X-PAYMENT` header value.
    pub fn from_header(value: impl AsRef<[u8]>) -> Result<Self> {
        header::decode(value)
    }
}

impl SettleResponseV1 {
    /// The v1 form of a v2 settle response; fails if its network has no v1 name.
    pub fn from_v2(response: &SettleResponse) -> Result<Self> {
        Ok(Self {
            success: response.success,
            error_reason: response.error_reason.clone(),
            transaction: Some(response.transaction().to_owned()),
            network: response.network.try_v1_name()?.to_owned(),
            payer: response.payer.clone(),
        })
    }

    /// The v2 form of this response; fails if the network name is unknown.
    pub fn to_v2(&self) -> Result<SettleResponse> {
        Ok(SettleResponse {
            success: self.success,
            error_reason: self.error_reason.clone(),
            error_message: None,
            payer: self.payer.clone(),
            transaction: self.transaction.clone(),
            network: Network::from_v1_name(&self.network)?,
            amount: None,
            extensions: None,
            other: JsonObject::new(),
        })
    }

    /// The `X-PAYMENT-RESPONSE` header value.
    pub fn to_header(&self) -> Result<String> {
        header::encode(self)
    }
    /// Decodes an `X-PAYMENT-RESPONSE` header value.
    pub fn from_header(value: impl AsRef<[u8]>) -> Result<Self> {
        header::decode(value)
    }
}
