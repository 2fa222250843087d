//! The one error type of `coinslot-core`.

use std::fmt;

/// What can go wrong in `coinslot-core`: decoding headers, parsing networks, amounts and prices,
/// and the failures a scheme or a facilitator reports through the traits.
///
/// A *refused payment* is not an error: it is a [`VerifyResponse`](crate::VerifyResponse) with
/// `isValid: false` or a [`SettleResponse`](crate::SettleResponse) with `success: false`. This
/// type is for input that cannot be read at all, and for infrastructure that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A header value was empty.
    #[error("header value is empty")]
    HeaderEmpty,
    /// A header value was longer than the decoder accepts.
    #[error("header value is {len} bytes, more than the limit of {max}")]
    HeaderTooLong {
        /// Length of the value, in bytes.
        len: usize,
        /// The limit it broke.
        max: usize,
    },
    /// A header value was not standard padded base64 (RFC 4648 §4).
    #[error("header value is not standard padded base64: {fault} at byte {offset}")]
    Base64 {
        /// What was wrong.
        fault: Base64Fault,
        /// Byte offset into the header value where it was found.
        offset: usize,
    },
    /// The decoded bytes were not the JSON the header must carry.
    #[error("header JSON is invalid ({category}) at line {line} column {column}: {message}")]
    Json {
        /// Syntax, data (wrong shape or value) or end of input.
        category: JsonCategory,
        /// 1-based line of the fault.
        line: usize,
        /// 1-based column of the fault.
        column: usize,
        /// The JSON parser's description.
        message: String,
    },
    /// JSON nested deeper than the decoder accepts
    /// ([`MAX_JSON_DEPTH`](crate::limits::MAX_JSON_DEPTH) for a header).
    #[error("JSON nests deeper than {max} levels")]
    JsonTooDeep {
        /// The limit it broke.
        max: usize,
    },
    /// A JSON number that would not be written back as it came (`1e15`, `0.50`, `-0`): see
    /// [`check_header_json`](crate::limits::check_header_json).
    #[error("JSON number {text:?} at byte {offset} is not in canonical form")]
    JsonNumberForm {
        /// Offset of the number in the JSON.
        offset: usize,
        /// The number as written.
        text: String,
    },
    /// A JSON value was followed by more data.
    #[error("header JSON has trailing data at byte {offset}")]
    JsonTrailingData {
        /// Offset of the first byte after the JSON value.
        offset: usize,
    },
    /// An `x402Version` other than the one the type speaks.
    #[error("unsupported x402Version {found}, expected {expected}")]
    UnsupportedVersion {
        /// The version found.
        found: u64,
        /// The version (or versions) expected, as text.
        expected: &'static str,
    },
    /// A network identifier that is not valid CAIP-2.
    #[error("invalid network {input:?}: {reason}")]
    InvalidNetwork {
        /// The rejected input.
        input: String,
        /// Which CAIP-2 rule it broke.
        reason: &'static str,
    },
    /// A network pattern (`eip155:*`, `eip155:{1,8453}`) that cannot be parsed.
    #[error("invalid network pattern {input:?}: {reason}")]
    InvalidNetworkPattern {
        /// The rejected input.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A v1 network name that has no known CAIP-2 identifier.
    #[error("unknown v1 network name {name:?}")]
    UnknownNetworkName {
        /// The name.
        name: String,
    },
    /// A CAIP-2 network that has no v1 name, so cannot be spoken in x402 v1.
    #[error("network {network} has no x402 v1 name")]
    NoV1Name {
        /// The network.
        network: String,
    },
    /// An atomic token amount that is not a canonical decimal integer below 2^256.
    #[error("invalid token amount {input:?}: {reason}")]
    InvalidAmount {
        /// The rejected input.
        input: String,
        /// Why.
        reason: &'static str,
    },
    /// A metered request's charge that is not one of the forms a handler may write, or that
    /// comes to more than the signed maximum.
    #[error("invalid charge {input:?}: {reason}")]
    InvalidCharge {
        /// The charge as the handler wrote it.
        input: String,
        /// Why.
        reason: String,
    },
    /// A price (`$0.001`, `0.001`) that cannot be parsed.
    #[error("invalid price {input:?}: {reason}")]
    InvalidPrice {
        /// The rejected input.
        input: String,
        /// Why.
        reason: &'static str,
    },
    /// A price with more fractional digits than the asset's decimals can represent.
    #[error("price {input:?} needs {needed} decimals but the asset has {decimals}")]
    PriceTooPrecise {
        /// The price as written.
        input: String,
        /// Fractional digits the price needs.
        needed: usize,
        /// Decimals of the asset.
        decimals: u8,
    },
    /// A price or amount that does not fit in 256 bits.
    #[error("amount {input:?} does not fit in 256 bits")]
    AmountOverflow {
        /// The input that overflowed.
        input: String,
    },
    /// A requirement that a scheme cannot act on (an `extra` field missing, an address that is
    /// not one…).
    #[error("invalid payment requirements: {reason}")]
    InvalidRequirements {
        /// What is wrong.
        reason: String,
    },
    /// A component was set up wrong (an EVM facilitator without a signer key…): a mistake of
    /// whoever configured it, found before any payment.
    #[error("invalid configuration: {reason}")]
    Configuration {
        /// What is wrong.
        reason: String,
    },
    /// No registered scheme handles this scheme and network.
    #[error("no {scheme:?} scheme is registered for network {network}")]
    Unsupported {
        /// The scheme asked for.
        scheme: String,
        /// The network asked for.
        network: String,
    },
    /// A scheme client could not produce a payload (signer refused, hardware wallet away…).
    #[error("signing failed: {message}")]
    Signing {
        /// What the signer said.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxedSource>,
    },
    /// A facilitator could not be reached or did not answer in time.
    #[error("facilitator unreachable: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxedSource>,
    },
    /// A facilitator answered, but not with a usable response.
    #[error("facilitator answered status {status}: {message}")]
    FacilitatorResponse {
        /// HTTP status, or 0 when there was none (an in-process facilitator).
        status: u16,
        /// Its error text, or a description of what was wrong with the body.
        message: String,
    },
    /// A facilitator's record of settlements could not be read or written.
    #[error("settlement store error: {message}")]
    Store {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxedSource>,
    },
    /// A chain node (RPC) failed while verifying or settling.
    #[error("chain error: {message}")]
    Chain {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxedSource>,
    },
}

/// A foreign error carried as the `source` of an [`Error`] variant.
pub type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The ways a header value fails to be standard padded base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Base64Fault {
    /// `-` or `_`: the URL-safe alphabet, which x402 does not use.
    UrlSafeAlphabet,
    /// A byte outside the standard alphabet (space, newline, non-ASCII…).
    InvalidByte,
    /// Data or padding after the final padding character.
    TrailingData,
    /// A length that is not a multiple of four: padding is missing.
    MissingPadding,
    /// Padding in the wrong place or of the wrong amount.
    InvalidPadding,
    /// The last symbol encodes bits that a canonical encoder leaves zero.
    NonCanonical,
}

impl fmt::Display for Base64Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UrlSafeAlphabet => "url-safe alphabet",
            Self::InvalidByte => "invalid byte",
            Self::TrailingData => "data after padding",
            Self::MissingPadding => "missing padding",
            Self::InvalidPadding => "invalid padding",
            Self::NonCanonical => "non-canonical trailing bits",
        })
    }
}

/// Where a JSON decoding error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonCategory {
    /// Not JSON at all, or not UTF-8.
    Syntax,
    /// JSON, but not the expected shape or a field's value is invalid.
    Data,
    /// The input ended inside a value.
    Eof,
}

impl fmt::Display for JsonCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "syntax",
            Self::Data => "data",
            Self::Eof => "unexpected end",
        })
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        let category = match err.classify() {
            serde_json::error::Category::Data => JsonCategory::Data,
            serde_json::error::Category::Eof => JsonCategory::Eof,
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                JsonCategory::Syntax
            }
        };
        Self::Json {
            category,
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        }
    }
}

impl Error {
    /// A [`Error::Transport`] from a message and an underlying error.
    #[cold]
    pub fn transport(message: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Self::Transport {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A [`Error::Chain`] from a message and an underlying error.
    #[cold]
    pub fn chain(message: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Self::Chain {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A [`Error::Store`] from a message and an underlying error.
    #[cold]
    pub fn store(message: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Self::Store {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A [`Error::Signing`] from a message and an underlying error.
    #[cold]
    pub fn signing(message: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Self::Signing {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}
