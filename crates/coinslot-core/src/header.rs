//! The x402 HTTP headers and their codec: standard padded base64 ([RFC 4648 §4]) of compact JSON.
//!
//! See the HTTP transports of [x402 v2] and [x402 v1].
//!
//! Decoding is strict: the URL-safe alphabet, missing padding, bytes after the padding, JSON
//! followed by anything, JSON nested deeper than [`MAX_JSON_DEPTH`](crate::limits::MAX_JSON_DEPTH),
//! numbers not in the form they are written back in, and values longer than [`MAX_HEADER_LEN`]
//! are all refused, each with its own [`Error`]. Encoding always gives the canonical form, so
//! `encode(decode(h)) == h` for every header written by a canonical encoder, and no decoded
//! header re-encodes to more bytes than it came in (the [limits](crate::limits) a server relies
//! on when it forwards a payment).
//!
//! ```
//! use coinslot_core::{header, SettleResponse};
//!
//! let value = "eyJzdWNjZXNzIjpmYWxzZSwiZXJyb3JSZWFzb24iOiJpbnN1ZmZpY2llbnRfZnVuZHMiLCJuZXR3b3JrIjoiZWlwMTU1Ojg0NTMyIn0=";
//! let response: SettleResponse = header::decode(value)?;
//! assert!(!response.success);
//! assert_eq!(header::encode(&response)?, value);
//! # Ok::<(), coinslot_core::Error>(())
//! ```
//!
//! [RFC 4648 §4]: https://www.rfc-editor.org/rfc/rfc4648#section-4
//! [x402 v2]: https://github.com/x402-foundation/x402/blob/main/specs/transports-v2/http.md
//! [x402 v1]: https://github.com/x402-foundation/x402/blob/main/specs/transports-v1/http.md

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Base64Fault, Error, JsonCategory, Result};

/// v2, server to client: the base64 [`PaymentRequired`](crate::PaymentRequired) of a 402.
pub const PAYMENT_REQUIRED: &str = "PAYMENT-REQUIRED";
/// v2, client to server: the base64 [`PaymentPayload`](crate::PaymentPayload).
pub const PAYMENT_SIGNATURE: &str = "PAYMENT-SIGNATURE";
/// v2, server to client: the base64 [`SettleResponse`](crate::SettleResponse).
pub const PAYMENT_RESPONSE: &str = "PAYMENT-RESPONSE";
/// v1, client to server: the base64 [`PaymentPayloadV1`](crate::v1::PaymentPayloadV1).
pub const X_PAYMENT: &str = "X-PAYMENT";
/// v1, server to client: the base64 [`SettleResponseV1`](crate::v1::SettleResponseV1).
pub const X_PAYMENT_RESPONSE: &str = "X-PAYMENT-RESPONSE";

/// The longest header value [`decode`] accepts (see [`limits`](crate::limits));
/// [`decode_with_limit`] takes another limit.
pub use crate::limits::MAX_HEADER_LEN;

/// Encodes `value` as a header value: standard padded base64 of its compact JSON.
///
/// Fails only if `value`'s `Serialize` implementation fails, which no type of this crate does.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let json = serde_json::to_vec(value)?;
    Ok(STANDARD.encode(json))
}

/// Decodes a header value into `T`, strictly, refusing values longer than [`MAX_HEADER_LEN`].
pub fn decode<T: DeserializeOwned>(value: impl AsRef<[u8]>) -> Result<T> {
    decode_with_limit(value, MAX_HEADER_LEN)
}

/// Decodes a header value into `T`, strictly, refusing values longer than `max_len` bytes.
pub fn decode_with_limit<T: DeserializeOwned>(
    value: impl AsRef<[u8]>,
    max_len: usize,
) -> Result<T> {
    let json = decode_base64(value.as_ref(), max_len)?;
    decode_json(&json)
}

/// The bytes a header value carries, after strict base64 decoding.
pub fn decode_base64(value: &[u8], max_len: usize) -> Result<Vec<u8>> {
    if value.is_empty() {
        return Err(Error::HeaderEmpty);
    }
    if value.len() > max_len {
        return Err(Error::HeaderTooLong {
            len: value.len(),
            max: max_len,
        });
    }
    check_alphabet(value)?;
    STANDARD
        .decode(value)
        .map_err(|err| base64_error(value, err))
}

/// Parses JSON that must make up the whole of `bytes`, within the checks of
/// [`check_header_json`](crate::limits::check_header_json).
///
/// Every x402 header carries a JSON object; anything else is refused here, because serde would
/// otherwise read a JSON array as a struct's fields in order.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    // Other first bytes are not JSON at all: serde's syntax error says so better.
    let non_object = start.filter(|&at| {
        matches!(
            bytes[at],
            b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9'
        )
    });
    if let Some(at) = non_object {
        let line_start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |nl| nl + 1);
        return Err(Error::Json {
            category: JsonCategory::Data,
            line: 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count(),
            column: 1 + at - line_start,
            message: "expected a JSON object".to_owned(),
        });
    }
    crate::limits::check_header_json(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(&mut de)?;
    if de.end().is_err() {
        return Err(Error::JsonTrailingData {
            offset: end_of_first_value(bytes),
        });
    }
    Ok(value)
}

/// Offset of the first byte after the first JSON value in `bytes` and the whitespace after it.
fn end_of_first_value(bytes: &[u8]) -> usize {
    let mut stream =
        serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
    // The value has parsed once already, so this succeeds and stops right after it.
    let _ = stream.next();
    let end = stream.byte_offset();
    end + bytes[end..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count()
}

/// Rejects the URL-safe alphabet and data after the padding with errors that say so; the base64
/// crate would report both as a bare invalid byte.
fn check_alphabet(value: &[u8]) -> Result<()> {
    let mut seen_pad = false;
    for (offset, &byte) in value.iter().enumerate() {
        match byte {
            b'-' | b'_' => {
                return Err(Error::Base64 {
                    fault: Base64Fault::UrlSafeAlphabet,
                    offset,
                });
            }
            b'=' => seen_pad = true,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if seen_pad => {
                return Err(Error::Base64 {
                    fault: Base64Fault::TrailingData,
                    offset,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

fn base64_error(value: &[u8], err: base64::DecodeError) -> Error {
    let (fault, offset) = match err {
        base64::DecodeError::InvalidByte(offset, b'=') => (Base64Fault::InvalidPadding, offset),
        base64::DecodeError::InvalidByte(offset, _) => (Base64Fault::InvalidByte, offset),
        base64::DecodeError::InvalidLength(_) => (Base64Fault::MissingPadding, value.len()),
        base64::DecodeError::InvalidLastSymbol(offset, _) => (Base64Fault::NonCanonical, offset),
        base64::DecodeError::InvalidPadding => {
            let offset = value.iter().position(|&b| b == b'=').unwrap_or(value.len());
            if value.len().is_multiple_of(4) {
                (Base64Fault::InvalidPadding, offset)
            } else {
                (Base64Fault::MissingPadding, value.len())
            }
        }
    };
    Error::Base64 { fault, offset }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_offset_points_after_value_and_whitespace() {
        let err = decode_json::<serde_json::Value>(br#"{"a":1}  x"#).unwrap_err();
        assert!(
            matches!(err, Error::JsonTrailingData { offset: 9 }),
            "{err:?}"
        );
    }

    #[test]
    fn whitespace_after_json_is_allowed() {
        let v: serde_json::Value = decode_json(b"{}\n").unwrap();
        assert_eq!(v, serde_json::json!({}));
    }
}
