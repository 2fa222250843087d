//! Strict reading of consensus bytes: every length is checked against what is left before
//! anything is allocated, and a value must use all of its input.

use std::fmt;

/// Why bytes did not decode. `offset` is where in the input the fault was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct DecodeError {
    /// Byte offset of the fault.
    pub offset: usize,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// What was wrong with bytes that did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended inside a value.
    Truncated,
    /// Bytes were left after the value.
    TrailingBytes,
    /// A type or enum byte that names nothing (`field` says which).
    UnknownByte {
        /// The field.
        field: &'static str,
        /// The byte found.
        value: u8,
    },
    /// A length above the field's limit.
    TooLong {
        /// The field.
        field: &'static str,
        /// The length found.
        len: u64,
    },
    /// Clarity values nested deeper than the limit.
    TooDeep,
    /// A field whose content breaks its rules (a name, a string, an order).
    Invalid(&'static str),
    /// The hex text around the bytes was malformed.
    Hex,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("input ends inside a value"),
            Self::TrailingBytes => f.write_str("bytes left after the value"),
            Self::UnknownByte { field, value } => write!(f, "unknown {field} 0x{value:02x}"),
            Self::TooLong { field, len } => write!(f, "{field} of length {len} is too long"),
            Self::TooDeep => f.write_str("values nested too deep"),
            Self::Invalid(what) => write!(f, "invalid {what}"),
            Self::Hex => f.write_str("malformed hex"),
        }
    }
}

/// A cursor over bytes being decoded.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }

    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: self.offset,
            kind,
        }
    }

    pub(crate) fn error_at(offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    /// An enum byte at `at` that names nothing.
    pub(crate) fn unknown(at: usize, field: &'static str, value: u8) -> DecodeError {
        Self::error_at(at, DecodeErrorKind::UnknownByte { field, value })
    }

    /// Reads a byte and maps it with `known`; a byte it does not know is an error.
    pub(crate) fn enum_byte<T>(
        &mut self,
        field: &'static str,
        known: impl FnOnce(u8) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let at = self.offset;
        let byte = self.u8()?;
        known(byte).ok_or_else(|| Self::unknown(at, field, byte))
    }

    /// The next `len` bytes; checked before anything is taken, so a huge length costs nothing.
    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.remaining() {
            return Err(self.error(DecodeErrorKind::Truncated));
        }
        let slice = &self.bytes[self.offset..self.offset + len];
        self.offset += len;
        Ok(slice)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A u32 length that must not exceed `max` nor what is left of the input (each item
    /// taking at least `min_item` bytes), so that a count never drives an allocation.
    pub(crate) fn length(
        &mut self,
        field: &'static str,
        max: u64,
        min_item: usize,
    ) -> Result<usize, DecodeError> {
        let at = self.offset;
        let len = u64::from(self.u32()?);
        if len > max {
            return Err(Self::error_at(at, DecodeErrorKind::TooLong { field, len }));
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if min_item > 0 && len.saturating_mul(min_item) > self.remaining() {
            return Err(self.error(DecodeErrorKind::Truncated));
        }
        Ok(len)
    }

    /// Fails if anything is left.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(self.error(DecodeErrorKind::TrailingBytes))
        }
    }
}

/// Decodes hex with or without a `0x` prefix.
pub(crate) fn decode_hex(text: &str) -> Result<Vec<u8>, DecodeError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    hex::decode(digits).map_err(|_| Reader::error_at(0, DecodeErrorKind::Hex))
}
