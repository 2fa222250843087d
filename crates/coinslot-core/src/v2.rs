//! x402 v2 wire types, field for field as the [v2 specification] §5 and the reference SDKs
//! write them.
//!
//! Amounts, times and nonces are strings; `x402Version` and `maxTimeoutSeconds` are numbers.
//! Optional fields that are absent stay absent when written back, and fields this crate does not
//! know (in `extra`, in `extensions`, or beside the known fields) are kept, so that a decoded
//! value re-encodes to the same JSON.
//!
//! [v2 specification]: https://github.com/x402-foundation/x402/blob/main/specs/x402-specification-v2.md

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::amount::TokenAmount;
use crate::error::Result;
use crate::header;
use crate::network::Network;
use crate::reason::ErrorReason;
use crate::version::V2;

/// A JSON object whose content this crate does not interpret: `extra`, `extensions`, and the
/// scheme-specific `payload`.
pub type JsonObject = Map<String, Value>;

/// The body of the `PAYMENT-REQUIRED` header of a 402: what the resource costs, and how it can
/// be paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequired {
    /// Always 2.
    pub x402_version: V2,
    /// Why payment is required (for example `PAYMENT-SIGNATURE header is required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The resource being paid for.
    pub resource: ResourceInfo,
    /// The ways the server accepts payment; the client picks one.
    pub accepts: Vec<PaymentRequirements>,
    /// Protocol extensions (`bazaar`, `payment-identifier`…), each `{info, schema}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
}

/// The resource a payment is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInfo {
    /// The URL of the resource.
    pub url: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type of the resource's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Fields this crate does not know, kept for the round trip.
    #[serde(flatten)]
    pub other: JsonObject,
}

/// One way to pay: a scheme on a network, an amount of an asset to an address.
///
/// A client echoes the one it chose, unchanged, as [`PaymentPayload::accepted`]; the server
/// finds it again with [`find_matching_requirements`](crate::find_matching_requirements), which
/// compares every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirements {
    /// The payment scheme: `exact`, `upto`…
    pub scheme: String,
    /// The CAIP-2 network.
    pub network: Network,
    /// The amount in atomic units of `asset`. For `upto` it is the maximum at `/verify` and the
    /// actual charge at `/settle`.
    pub amount: TokenAmount,
    /// The asset: a token contract address, `slip44:5757`, a currency code…
    pub asset: String,
    /// Who is paid: an address, or a role such as `merchant`.
    pub pay_to: String,
    /// How long the payment may take, in seconds.
    pub max_timeout_seconds: u64,
    /// Scheme-specific data: the EIP-712 domain (`name`, `version`), `assetTransferMethod`,
    /// `facilitatorAddress`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<JsonObject>,
    /// Fields this crate does not know, kept for the round trip and for matching.
    #[serde(flatten)]
    pub other: JsonObject,
}

/// The body of the `PAYMENT-SIGNATURE` header: a signed payment for one offered requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayload {
    /// Always 2.
    pub x402_version: V2,
    /// The resource paid for, as the 402 described it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceInfo>,
    /// The requirement this payment satisfies, exactly as offered.
    pub accepted: PaymentRequirements,
    /// The scheme-specific payment: for `exact` on EVM, `{signature, authorization}`.
    pub payload: JsonObject,
    /// Extensions, echoed from the 402 and extended by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
}

/// The answer of `/verify`: whether the payment is valid, and if not, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    /// Whether the payment would settle.
    pub is_valid: bool,
    /// Why it would not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<ErrorReason>,
    /// A human-readable detail of the reason (reference SDKs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_message: Option<String>,
    /// The address that pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// Extension data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Fields this crate does not know (`extensionResponses`, `extra`…), kept.
    #[serde(flatten)]
    pub other: JsonObject,
}

/// The answer of `/settle`, and the body of the `PAYMENT-RESPONSE` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleResponse {
    /// Whether the payment settled.
    pub success: bool,
    /// Why it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<ErrorReason>,
    /// A human-readable detail of the reason (reference SDKs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The settlement transaction; the spec writes `""` on failure, some senders omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// The network it settled on.
    pub network: Network,
    /// The address that paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// The amount actually charged (`upto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<TokenAmount>,
    /// Extension data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Fields this crate does not know (`extensionResponses`, `extra`…), kept.
    #[serde(flatten)]
    pub other: JsonObject,
}

impl PaymentRequired {
    /// The `PAYMENT-REQUIRED` header value.
    pub fn to_header(&self) -> Result<String> {
        header::encode(self)
    }
    /// Decodes a `PAYMENT-REQUIRED` header value.
    pub fn from_header(value: impl AsRef<[u8]>) -> Result<Self> {
        header::decode(value)
    }
}

impl PaymentPayload {
    /// A payload for `accepted`, with the resource it pays for.
    pub fn new(
        accepted: PaymentRequirements,
        payload: JsonObject,
        resource: Option<ResourceInfo>,
    ) -> Self {
        Self {
            x402_version: V2::default(),
            resource,
            accepted,
            payload,
            extensions: None,
        }
    }
    /// The `PAYMENT-SIGNATURE` header value.
    pub fn to_header(&self) -> Result<String> {
        header::encode(self)
    }
    /// Decodes a `PAYMENT-SIGNATURE` header value.
    pub fn from_header(value: impl AsRef<[u8]>) -> Result<Self> {
        header::decode(value)
    }
}

impl VerifyResponse {
    /// A valid payment by `payer`.
    pub fn valid(payer: impl Into<String>) -> Self {
        Self {
            is_valid: true,
            invalid_reason: None,
            invalid_message: None,
            payer: Some(payer.into()),
            extensions: None,
            other: JsonObject::new(),
        }
    }
    /// A refused payment.
    pub fn invalid(reason: ErrorReason, payer: Option<String>) -> Self {
        Self {
            is_valid: false,
            invalid_reason: Some(reason),
            invalid_message: None,
            payer,
            extensions: None,
            other: JsonObject::new(),
        }
    }
    /// Adds a human-readable detail.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.invalid_message = Some(message.into());
        self
    }
}

impl SettleResponse {
    /// A settled payment.
    pub fn success(
        transaction: impl Into<String>,
        network: Network,
        payer: impl Into<String>,
    ) -> Self {
        Self {
            success: true,
            error_reason: None,
            error_message: None,
            payer: Some(payer.into()),
            transaction: Some(transaction.into()),
            network,
            amount: None,
            extensions: None,
            other: JsonObject::new(),
        }
    }
    /// A failed settlement; `transaction` is `""` as the spec writes it.
    pub fn failure(reason: ErrorReason, network: Network, payer: Option<String>) -> Self {
        Self {
            success: false,
            error_reason: Some(reason),
            error_message: None,
            payer,
            transaction: Some(String::new()),
            network,
            amount: None,
            extensions: None,
            other: JsonObject::new(),
        }
    }
    /// Adds a human-readable detail.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.error_message = Some(message.into());
        self
    }
    /// The transaction, `""` when there is none.
    pub fn transaction(&self) -> &str {
        self.transaction.as_deref().unwrap_or("")
    }
    /// The `PAYMENT-RESPONSE` header value.
    pub fn to_header(&self) -> Result<String> {
        header::encode(self)
    }
    /// Decodes a `PAYMENT-RESPONSE` header value.
    pub fn from_header(value: impl AsRef<[u8]>) -> Result<Self> {
        header::decode(value)
    }
}
