//! The size limits that every side of x402 applies, in one place, so that a server never
//! forwards to its facilitator what the facilitator will refuse.
//!
//! A server decodes a payment header within [`MAX_HEADER_LEN`] and [`MAX_JSON_DEPTH`], with
//! numbers in the form they are written back in, and only for a resource URL within
//! [`MAX_RESOURCE_URL_LEN`]. Re-encoded into a `/verify` or `/settle` body, such a payment
//! (at most 48 KiB of JSON) and its requirements (at most a 402's worth, also 48 KiB) nest one
//! level deeper and stay under [`MAX_FACILITATOR_BODY_LEN`], which is what a facilitator
//! accepts. Every payment a server lets through therefore reaches the facilitator whole, and a
//! bad one is refused at the server with its reason.
//!
//! ```
//! use coinslot_core::limits::{self, MAX_JSON_DEPTH};
//!
//! assert!(limits::check_json_depth(br#"{"a":[{"b":1}]}"#, MAX_JSON_DEPTH).is_ok());
//! let deep = format!("{}{}", "[".repeat(MAX_JSON_DEPTH + 1), "]".repeat(MAX_JSON_DEPTH + 1));
//! assert!(limits::check_json_depth(deep.as_bytes(), MAX_JSON_DEPTH).is_err());
//! ```

use crate::error::{Error, Result};

/// The longest header value a decoder accepts: 64 KiB of base64, 48 KiB of JSON.
///
/// A payment payload is about 1 KiB; a `PAYMENT-REQUIRED` with several offers and discovery
/// schemas stays well under this. Anything longer is refused before it is decoded, so a hostile
/// peer cannot make the decoder allocate for it.
pub const MAX_HEADER_LEN: usize = 64 * 1024;

/// The most JSON a header of [`MAX_HEADER_LEN`] can carry: three bytes for every four of base64.
pub const MAX_HEADER_JSON_LEN: usize = MAX_HEADER_LEN / 4 * 3;

/// The deepest nesting of objects and arrays a header's JSON may have. A payment nests four
/// or five levels; extensions with JSON schemas a few more. A facilitator body, which wraps a
/// payment in one more object, may nest one level deeper.
pub const MAX_JSON_DEPTH: usize = 64;

/// The longest resource URL (the server's public base URL and the request's path and query)
/// a priced request may have. A 402 names the URL, and a v1 payment's requirements carry it to
/// the facilitator; RFC 9110 §4.1 asks servers to take at least 8,000 octets.
pub const MAX_RESOURCE_URL_LEN: usize = 8 * 1024;

/// The largest `/verify` or `/settle` body a facilitator accepts: room for a payment of
/// [`MAX_HEADER_JSON_LEN`] and requirements of the same size (a 402 must fit in a header),
/// with a margin for the field names that v1 requirements spell longer.
pub const MAX_FACILITATOR_BODY_LEN: usize = 2 * MAX_HEADER_LEN;

/// What [`scan`] checks besides depth.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Numbers {
    /// Any number JSON allows.
    Any,
    /// Only numbers that re-encode to the same text (see [`check_header_json`]).
    Canonical,
}

/// Checks that `bytes` nest no deeper than `max_depth` objects and arrays. Cheap, one pass,
/// no allocation; meant to run before a parser. For anything that is not JSON it answers `Ok`
/// and leaves the parser to say what is wrong.
pub fn check_json_depth(bytes: &[u8], max_depth: usize) -> Result<()> {
    scan(bytes, max_depth, Numbers::Any)
}

/// The checks of a header's JSON before it is parsed: nesting within [`MAX_JSON_DEPTH`], and
/// every number written the way it is written back: an integer within 64 bits without sign
/// of zero, fraction or exponent, or another number in its shortest form (`0.5`, not `5e-1`).
///
/// Together they mean that a decoded header re-encodes to no more bytes than it came in: a
/// server that forwards a payment to its facilitator stays within the facilitator's limits.
/// (`1e15` alone would come back as `1000000000000000.0`.)
pub fn check_header_json(bytes: &[u8]) -> Result<()> {
    scan(bytes, MAX_JSON_DEPTH, Numbers::Canonical)
}

fn scan(bytes: &[u8], max_depth: usize, numbers: Numbers) -> Result<()> {
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => {
                at += 1;
                while let Some(&inner) = bytes.get(at) {
                    match inner {
                        b'\\' => at += 2,
                        b'"' => break,
                        _ => at += 1,
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(Error::JsonTooDeep { max: max_depth });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'-' | b'0'..=b'9' => {
                let end = bytes[at..]
                    .iter()
                    .position(|b| !matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .map_or(bytes.len(), |n| at + n);
                let token = &bytes[at..end];
                if numbers == Numbers::Canonical && !is_canonical_number(token) {
                    return Err(Error::JsonNumberForm {
                        offset: at,
                        text: String::from_utf8_lossy(token).into_owned(),
                    });
                }
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    Ok(())
}

/// Whether `token` is the text the JSON encoder writes for the number it parses to.
fn is_canonical_number(token: &[u8]) -> bool {
    if !token.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        // An integer: serde keeps it exactly within 64 bits, as long as the text is the one it
        // writes (no `-0`, no leading zeros, no `+`).
        let Ok(text) = std::str::from_utf8(token) else {
            return false;
        };
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty()
            || (digits.starts_with('0') && (digits.len() > 1 || text.starts_with('-')))
        {
            return false;
        }
        return if text.starts_with('-') {
            text.parse::<i64>().is_ok()
        } else {
            digits.bytes().all(|b| b.is_ascii_digit()) && text.parse::<u64>().is_ok()
        };
    }
    // Another number: parsed as the decoder parses it, written as the encoder writes it.
    serde_json::from_slice::<serde_json::Number>(token)
        .is_ok_and(|number| number.to_string().as_bytes() == token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers() {
        for good in [
            "0",
            "7",
            "-7",
            "300",
            "18446744073709551615",
            "-9223372036854775808",
            "0.5",
            "21.5",
            "-0.0",
            "1.0",
            "1e+21",
            "1e-7",
        ] {
            assert!(is_canonical_number(good.as_bytes()), "{good}");
        }
        for bad in [
            "1e15",
            "1E2",
            "5e-1",
            "0.50",
            "-0",
            "01",
            "+1",
            "18446744073709551616",
            "-9223372036854775809",
            "1e400",
            "1e21",
            "-",
            "1-2",
        ] {
            assert!(!is_canonical_number(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn depth_counts_containers_outside_strings() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(check_json_depth(nested(64).as_bytes(), 64).is_ok());
        assert!(matches!(
            check_json_depth(nested(65).as_bytes(), 64),
            Err(Error::JsonTooDeep { max: 64 })
        ));
        // Brackets in strings, escaped quotes included, are text.
        let text = format!(r#"{{"a":"\"{}"}}"#, "[".repeat(100));
        assert!(check_json_depth(text.as_bytes(), 2).is_ok());
        // Truncated input is left to the parser.
        assert!(check_json_depth(br#"{"a":"\"#, 2).is_ok());
    }

    #[test]
    fn header_json_refuses_numbers_that_would_grow() {
        assert!(check_header_json(br#"{"x402Version":2,"n":[1,-2,0.25,"1e15"]}"#).is_ok());
        let err = check_header_json(br#"{"payload":{"v":1e15}}"#).unwrap_err();
        assert!(
            matches!(&err, Error::JsonNumberForm { offset: 16, text } if text == "1e15"),
            "{err:?}"
        );
        // Literals are not numbers, whatever letters they hold.
        assert!(check_header_json(br#"{"a":true,"b":false,"c":null}"#).is_ok());
    }
}
