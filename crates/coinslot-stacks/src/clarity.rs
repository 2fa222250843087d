//! Clarity values and their consensus encoding: a type prefix byte (15 of them), then the
//! value; tuples sorted by field name.
//!
//! Decoding refuses values nested deeper than [`MAX_DEPTH`] or declaring more than
//! [`MAX_VALUE_SIZE`] bytes, names that break the naming rules, and tuples out of order or with a
//! field twice (the encoder writes them sorted, so a value re-encodes to its own bytes).

use std::fmt;

use crate::address::{ContractName, Principal, StacksAddress};
use crate::codec::{DecodeError, DecodeErrorKind, Reader, decode_hex};

/// The deepest nesting of lists, tuples, optionals and responses that decodes.
pub const MAX_DEPTH: usize = 32;
/// The largest value, in encoded bytes, and so the longest buffer, string or list.
pub const MAX_VALUE_SIZE: u32 = 1024 * 1024;
/// The longest field name of a tuple.
pub const MAX_NAME_LEN: usize = 128;

mod prefix {
    pub(super) const INT: u8 = 0;
    pub(super) const UINT: u8 = 1;
    pub(super) const BUFFER: u8 = 2;
    pub(super) const TRUE: u8 = 3;
    pub(super) const FALSE: u8 = 4;
    pub(super) const STANDARD_PRINCIPAL: u8 = 5;
    pub(super) const CONTRACT_PRINCIPAL: u8 = 6;
    pub(super) const OK: u8 = 7;
    pub(super) const ERR: u8 = 8;
    pub(super) const NONE: u8 = 9;
    pub(super) const SOME: u8 = 10;
    pub(super) const LIST: u8 = 11;
    pub(super) const TUPLE: u8 = 12;
    pub(super) const STRING_ASCII: u8 = 13;
    pub(super) const STRING_UTF8: u8 = 14;
}

/// A Clarity value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClarityValue {
    /// `int`: a signed 128-bit integer.
    Int(i128),
    /// `uint`: an unsigned 128-bit integer.
    UInt(u128),
    /// `(buff n)`.
    Buffer(Vec<u8>),
    /// `bool`.
    Bool(bool),
    /// `principal`: an account or a contract.
    Principal(Principal),
    /// `(ok v)`.
    Ok(Box<Self>),
    /// `(err v)`.
    Err(Box<Self>),
    /// `none`.
    None,
    /// `(some v)`.
    Some(Box<Self>),
    /// `(list …)`.
    List(Vec<Self>),
    /// A tuple, its fields sorted by name (build it with [`ClarityValue::tuple`]).
    Tuple(Vec<(String, Self)>),
    /// `(string-ascii n)`: printable ASCII and whitespace.
    StringAscii(String),
    /// `(string-utf8 n)`.
    StringUtf8(String),
}

impl ClarityValue {
    /// A tuple from its fields in any order; `None` if a name breaks the rules or repeats.
    pub fn tuple<N: Into<String>>(fields: impl IntoIterator<Item = (N, Self)>) -> Option<Self> {
        let mut fields: Vec<(String, Self)> =
            fields.into_iter().map(|(n, v)| (n.into(), v)).collect();
        fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let unique = fields.windows(2).all(|w| w[0].0 != w[1].0);
        (unique && fields.iter().all(|(n, _)| is_clarity_name(n))).then_some(Self::Tuple(fields))
    }

    /// `(some v)`.
    pub fn some(value: Self) -> Self {
        Self::Some(Box::new(value))
    }

    /// A standard principal.
    pub fn standard(address: StacksAddress) -> Self {
        Self::Principal(Principal::Standard(address))
    }

    /// The consensus encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// The consensus encoding, as lowercase hex without a prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Int(v) => {
                out.push(prefix::INT);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::UInt(v) => {
                out.push(prefix::UINT);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::Buffer(bytes) => {
                out.push(prefix::BUFFER);
                put_len(out, bytes.len());
                out.extend_from_slice(bytes);
            }
            Self::Bool(true) => out.push(prefix::TRUE),
            Self::Bool(false) => out.push(prefix::FALSE),
            Self::Principal(principal) => encode_principal(principal, out),
            Self::Ok(inner) => {
                out.push(prefix::OK);
                inner.encode(out);
            }
            Self::Err(inner) => {
                out.push(prefix::ERR);
                inner.encode(out);
            }
            Self::None => out.push(prefix::NONE),
            Self::Some(inner) => {
                out.push(prefix::SOME);
                inner.encode(out);
            }
            Self::List(items) => {
                out.push(prefix::LIST);
                put_len(out, items.len());
                for item in items {
                    item.encode(out);
                }
            }
            Self::Tuple(fields) => {
                out.push(prefix::TUPLE);
                put_len(out, fields.len());
                for (name, value) in fields {
                    out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
                    out.extend_from_slice(name.as_bytes());
                    value.encode(out);
                }
            }
            Self::StringAscii(text) => {
                out.push(prefix::STRING_ASCII);
                put_len(out, text.len());
                out.extend_from_slice(text.as_bytes());
            }
            Self::StringUtf8(text) => {
                out.push(prefix::STRING_UTF8);
                put_len(out, text.len());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }

    /// Decodes exactly one value from `bytes`, with nothing after it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_VALUE_SIZE as usize {
            return Err(Reader::error_at(
                0,
                DecodeErrorKind::TooLong {
                    field: "clarity value",
                    len: bytes.len() as u64,
                },
            ));
        }
        let mut reader = Reader::new(bytes);
        let value = Self::decode(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }

    /// Decodes hex (with or without `0x`) holding exactly one value.
    pub fn from_hex(text: &str) -> Result<Self, DecodeError> {
        Self::from_bytes(&decode_hex(text)?)
    }

    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        decode_value(reader, 0)
    }
}

/// Clarity's own text form of the value (`u1`, `(some 0x01)`, `(tuple (a u1))`, `"text"`,
/// `u"text"`), as `cvToString` of stacks.js writes it.
///
/// ```
/// use coinslot_stacks::ClarityValue;
///
/// let value = ClarityValue::tuple([
///     ("amount", ClarityValue::UInt(5)),
///     ("memo", ClarityValue::some(ClarityValue::StringAscii("hi".into()))),
/// ]).unwrap();
/// assert_eq!(value.to_string(), r#"(tuple (amount u5) (memo (some "hi")))"#);
/// ```
impl fmt::Display for ClarityValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::UInt(v) => write!(f, "u{v}"),
            Self::Buffer(bytes) => write!(f, "0x{}", hex::encode(bytes)),
            Self::Bool(v) => write!(f, "{v}"),
            Self::Principal(principal) => write!(f, "{principal}"),
            Self::Ok(inner) => write!(f, "(ok {inner})"),
            Self::Err(inner) => write!(f, "(err {inner})"),
            Self::None => f.write_str("none"),
            Self::Some(inner) => write!(f, "(some {inner})"),
            Self::List(items) => {
                f.write_str("(list")?;
                for item in items {
                    write!(f, " {item}")?;
                }
                f.write_str(")")
            }
            Self::Tuple(fields) => {
                f.write_str("(tuple")?;
                for (name, value) in fields {
                    write!(f, " ({name} {value})")?;
                }
                f.write_str(")")
            }
            // JSON string escapes are Clarity's too (`\"`, `\\`, `\n`).
            Self::StringAscii(text) => write!(f, "{}", serde_json::Value::from(text.as_str())),
            Self::StringUtf8(text) => write!(f, "u{}", serde_json::Value::from(text.as_str())),
        }
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

pub(crate) fn encode_principal(principal: &Principal, out: &mut Vec<u8>) {
    match principal {
        Principal::Standard(address) => {
            out.push(prefix::STANDARD_PRINCIPAL);
            out.push(address.version);
            out.extend_from_slice(&address.hash160);
        }
        Principal::Contract(address, name) => {
            out.push(prefix::CONTRACT_PRINCIPAL);
            out.push(address.version);
            out.extend_from_slice(&address.hash160);
            put_name(out, name.as_str());
        }
    }
}

/// A u8 length and the bytes of a name checked on the way in.
pub(crate) fn put_name(out: &mut Vec<u8>, name: &str) {
    out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name.as_bytes());
}

pub(crate) fn read_address(reader: &mut Reader<'_>) -> Result<StacksAddress, DecodeError> {
    let at = reader.offset();
    let version = reader.u8()?;
    let hash = reader.array::<20>()?;
    StacksAddress::new(version, hash).ok_or_else(|| {
        Reader::error_at(
            at,
            DecodeErrorKind::UnknownByte {
                field: "address version",
                value: version,
            },
        )
    })
}

pub(crate) fn read_contract_name(reader: &mut Reader<'_>) -> Result<ContractName, DecodeError> {
    let at = reader.offset();
    let len = reader.u8()?;
    let bytes = reader.take(usize::from(len))?;
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|name| ContractName::new(name).ok())
        .ok_or_else(|| Reader::error_at(at, DecodeErrorKind::Invalid("contract name")))
}

/// A Clarity name (of a function, a tuple field, an asset): 1 to 128 characters, a letter then
/// letters, digits or `-_!?+<>=/*`, or one of the operators `-`, `+`, `=`, `/`, `*`, `<`,
/// `>`, `<=`, `>=`.
pub fn is_clarity_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if matches!(name, "-" | "+" | "=" | "/" | "*" | "<" | ">" | "<=" | ">=") {
        return true;
    }
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes[0].is_ascii_alphabetic()
        && bytes[1..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-_!?+<>=/*".contains(&b))
}

pub(crate) fn read_clarity_name(reader: &mut Reader<'_>) -> Result<String, DecodeError> {
    let at = reader.offset();
    let len = reader.u8()?;
    let bytes = reader.take(usize::from(len))?;
    std::str::from_utf8(bytes)
        .ok()
        .filter(|name| is_clarity_name(name))
        .map(str::to_owned)
        .ok_or_else(|| Reader::error_at(at, DecodeErrorKind::Invalid("clarity name")))
}

fn is_clarity_ascii(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b.is_ascii_punctuation() || b.is_ascii_whitespace()
}

fn decode_value(reader: &mut Reader<'_>, depth: usize) -> Result<ClarityValue, DecodeError> {
    let at = reader.offset();
    let type_prefix = reader.u8()?;
    let nested = |reader: &mut Reader<'_>| -> Result<Box<ClarityValue>, DecodeError> {
        if depth + 1 > MAX_DEPTH {
            return Err(Reader::error_at(at, DecodeErrorKind::TooDeep));
        }
        decode_value(reader, depth + 1).map(Box::new)
    };
    Ok(match type_prefix {
        prefix::INT => ClarityValue::Int(i128::from_be_bytes(reader.array()?)),
        prefix::UINT => ClarityValue::UInt(u128::from_be_bytes(reader.array()?)),
        prefix::BUFFER => {
            let len = reader.length("buffer", MAX_VALUE_SIZE.into(), 1)?;
            ClarityValue::Buffer(reader.take(len)?.to_vec())
        }
        prefix::TRUE => ClarityValue::Bool(true),
        prefix::FALSE => ClarityValue::Bool(false),
        prefix::STANDARD_PRINCIPAL => {
            ClarityValue::Principal(Principal::Standard(read_address(reader)?))
        }
        prefix::CONTRACT_PRINCIPAL => {
            let address = read_address(reader)?;
            ClarityValue::Principal(Principal::Contract(address, read_contract_name(reader)?))
        }
        prefix::OK => ClarityValue::Ok(nested(reader)?),
        prefix::ERR => ClarityValue::Err(nested(reader)?),
        prefix::NONE => ClarityValue::None,
        prefix::SOME => ClarityValue::Some(nested(reader)?),
        prefix::LIST => {
            if depth + 1 > MAX_DEPTH {
                return Err(Reader::error_at(at, DecodeErrorKind::TooDeep));
            }
            let len = reader.length("list", MAX_VALUE_SIZE.into(), 1)?;
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(decode_value(reader, depth + 1)?);
            }
            ClarityValue::List(items)
        }
        prefix::TUPLE => {
            if depth + 1 > MAX_DEPTH {
                return Err(Reader::error_at(at, DecodeErrorKind::TooDeep));
            }
            // Each field takes at least a name byte, a name and a prefix byte.
            let len = reader.length("tuple", MAX_VALUE_SIZE.into(), 3)?;
            let mut fields: Vec<(String, ClarityValue)> = Vec::with_capacity(len);
            for _ in 0..len {
                let name_at = reader.offset();
                let name = read_clarity_name(reader)?;
                if let Some((last, _)) = fields.last()
                    && last.as_bytes() >= name.as_bytes()
                {
                    return Err(Reader::error_at(
                        name_at,
                        DecodeErrorKind::Invalid("tuple field order"),
                    ));
                }
                let value = decode_value(reader, depth + 1)?;
                fields.push((name, value));
            }
            ClarityValue::Tuple(fields)
        }
        prefix::STRING_ASCII => {
            let len = reader.length("string-ascii", MAX_VALUE_SIZE.into(), 1)?;
            let bytes = reader.take(len)?;
            if !bytes.iter().all(|&b| is_clarity_ascii(b)) {
                return Err(Reader::error_at(
                    at,
                    DecodeErrorKind::Invalid("string-ascii"),
                ));
            }
            ClarityValue::StringAscii(String::from_utf8_lossy(bytes).into_owned())
        }
        prefix::STRING_UTF8 => {
            let len = reader.length("string-utf8", MAX_VALUE_SIZE.into(), 1)?;
            let bytes = reader.take(len)?;
            let text = std::str::from_utf8(bytes)
                .map_err(|_| Reader::error_at(at, DecodeErrorKind::Invalid("string-utf8")))?;
            ClarityValue::StringUtf8(text.to_owned())
        }
        other => {
            return Err(Reader::error_at(
                at,
                DecodeErrorKind::UnknownByte {
                    field: "clarity type prefix",
                    value: other,
                },
            ));
        }
    })
}
