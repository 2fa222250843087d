//! c32check addresses: `S` + a version character + c32(hash160 ‖ checksum), and the contract
//! principals built on them (`ADDRESS.contract-name`).
//!
//! Decoding is our own (the `c32` crate panics on some short inputs): it takes any text and
//! answers an error for anything that is not an address.

use std::fmt;
use std::str::FromStr;

use crate::hash::{hash160, sha256, sha256d};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The version of a mainnet single-signature address (`SP…`).
pub const MAINNET_SINGLE_SIG: u8 = 22;
/// The version of a mainnet multi-signature address (`SM…`).
pub const MAINNET_MULTI_SIG: u8 = 20;
/// The version of a testnet single-signature address (`ST…`).
pub const TESTNET_SINGLE_SIG: u8 = 26;
/// The version of a testnet multi-signature address (`SN…`).
pub const TESTNET_MULTI_SIG: u8 = 21;

/// Why text is not a Stacks address or principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Empty, too short or too long to be an address.
    #[error("not the length of a Stacks address")]
    Length,
    /// Does not start with `S`.
    #[error("a Stacks address starts with S")]
    Prefix,
    /// A character outside the c32 alphabet.
    #[error("character {0:?} is not c32")]
    Character(char),
    /// The version is 32 or more.
    #[error("address version {0} is out of range")]
    Version(u8),
    /// The checksum does not match.
    #[error("address checksum does not match")]
    Checksum,
    /// The contract name breaks the naming rules.
    #[error("invalid contract name {0:?}")]
    ContractName(String),
}

/// A Stacks address: a version (which says mainnet or testnet, single or multi signature)
/// and a 20-byte hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StacksAddress {
    /// The version, below 32.
    pub version: u8,
    /// Hash160 of the public key (or of the script, for multi-signature and segwit forms).
    pub hash160: [u8; 20],
}

impl StacksAddress {
    /// An address from its parts; `None` if the version is 32 or more.
    pub fn new(version: u8, hash160: [u8; 20]) -> Option<Self> {
        (version < 32).then_some(Self { version, hash160 })
    }

    /// The single-signature (P2PKH) address of a public key, as encoded (33 or 65 bytes).
    pub fn p2pkh(public_key: &[u8], mainnet: bool) -> Self {
        let version = if mainnet {
            MAINNET_SINGLE_SIG
        } else {
            TESTNET_SINGLE_SIG
        };
        Self {
            version,
            hash160: hash160(public_key),
        }
    }

    /// Whether the version is a mainnet one (22 or 20).
    pub fn is_mainnet(&self) -> bool {
        matches!(self.version, MAINNET_SINGLE_SIG | MAINNET_MULTI_SIG)
    }

    /// Whether the version is a testnet one (26 or 21).
    pub fn is_testnet(&self) -> bool {
        matches!(self.version, TESTNET_SINGLE_SIG | TESTNET_MULTI_SIG)
    }

    fn checksum(&self) -> [u8; 4] {
        let mut data = [0u8; 21];
        data[0] = self.version;
        data[1..].copy_from_slice(&self.hash160);
        let digest = sha256d(&data);
        [digest[0], digest[1], digest[2], digest[3]]
    }
}

impl fmt::Display for StacksAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut data = [0u8; 24];
        data[..20].copy_from_slice(&self.hash160);
        data[20..].copy_from_slice(&self.checksum());
        let mut text = String::with_capacity(41);
        text.push('S');
        text.push(char::from(ALPHABET[usize::from(self.version)]));
        text.push_str(&c32_encode(&data));
        f.write_str(&text)
    }
}

impl fmt::Debug for StacksAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StacksAddress({self})")
    }
}

impl FromStr for StacksAddress {
    type Err = AddressError;

    /// Parses `S` + version + c32check data, case-insensitively and with the c32 substitutions
    /// (`O` for `0`, `I` and `L` for `1`); the checksum must match.
    fn from_str(text: &str) -> Result<Self, AddressError> {
        // 24 bytes take at most 39 c32 digits (all zero bytes: 24), plus `S` and the version.
        if !(2 + 24..=2 + 39).contains(&text.len()) {
            return Err(AddressError::Length);
        }
        let mut chars = text.chars();
        if !matches!(chars.next(), Some('S' | 's')) {
            return Err(AddressError::Prefix);
        }
        let version = chars.next().ok_or(AddressError::Length)?;
        let version = c32_digit(version)?;
        let data = c32_decode(chars.as_str())?;
        let data: [u8; 24] = data.try_into().map_err(|_| AddressError::Length)?;
        let mut hash = [0u8; 20];
        hash.copy_from_slice(&data[..20]);
        let address = Self {
            version,
            hash160: hash,
        };
        if address.checksum() != data[20..] {
            return Err(AddressError::Checksum);
        }
        Ok(address)
    }
}

impl serde::Serialize for StacksAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for StacksAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The value of one c32 character.
fn c32_digit(c: char) -> Result<u8, AddressError> {
    let normalized = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == normalized)
        .and_then(|p| u8::try_from(p).ok())
        .ok_or(AddressError::Character(c))
}

/// c32 of bytes read as one big-endian number, each leading zero byte kept as a `0`.
pub(crate) fn c32_encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Base-32 digits, least significant first, by long division of the remaining number.
    let mut number: Vec<u8> = bytes[zeros..].to_vec();
    let mut digits = Vec::with_capacity(bytes.len() * 8 / 5 + 1);
    while number.iter().any(|&b| b != 0) {
        let mut remainder = 0u16;
        for byte in &mut number {
            let acc = (remainder << 8) | u16::from(*byte);
            *byte = u8::try_from(acc / 32).unwrap_or(0);
            remainder = acc % 32;
        }
        digits.push(ALPHABET[usize::from(remainder)]);
    }
    let mut text = String::with_capacity(zeros + digits.len());
    text.extend(std::iter::repeat_n('0', zeros));
    text.extend(digits.iter().rev().map(|&d| char::from(d)));
    text
}

/// The inverse of [`c32_encode`].
pub(crate) fn c32_decode(text: &str) -> Result<Vec<u8>, AddressError> {
    let digits = text.chars().map(c32_digit).collect::<Result<Vec<_>, _>>()?;
    let zeros = digits.iter().take_while(|&&d| d == 0).count();
    // Big-endian bytes of the number, by multiply-and-add per digit.
    let mut number: Vec<u8> = Vec::with_capacity(digits.len() * 5 / 8 + 1);
    for &digit in &digits[zeros..] {
        let mut carry = u16::from(digit);
        for byte in number.iter_mut().rev() {
            let acc = u16::from(*byte) * 32 + carry;
            *byte = (acc & 0xff) as u8;
            carry = acc >> 8;
        }
        while carry > 0 {
            number.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut bytes = vec![0u8; zeros];
    bytes.extend(number);
    Ok(bytes)
}

/// A contract name: 1 to 128 characters, a letter then letters, digits, `-` or `_`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContractName(String);

impl ContractName {
    /// The longest name the codec accepts.
    pub const MAX_LEN: usize = 128;

    /// Checks `name` against the rules.
    pub fn new(name: impl Into<String>) -> Result<Self, AddressError> {
        let name = name.into();
        if is_contract_name(&name) {
            Ok(Self(name))
        } else {
            Err(AddressError::ContractName(name))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) fn is_contract_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if name == "__transient" {
        return true;
    }
    !bytes.is_empty()
        && bytes.len() <= ContractName::MAX_LEN
        && bytes[0].is_ascii_alphabetic()
        && bytes[1..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl fmt::Display for ContractName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ContractName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContractName({})", self.0)
    }
}

/// Who holds or sends assets: an account, or a contract (`ADDRESS.name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// An account.
    Standard(StacksAddress),
    /// A contract deployed by `address` under `name`.
    Contract(StacksAddress, ContractName),
}

impl Principal {
    /// The address (of the account, or of the contract's deployer).
    pub fn address(&self) -> &StacksAddress {
        match self {
            Self::Standard(address) | Self::Contract(address, _) => address,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Standard(address) => write!(f, "{address}"),
            Self::Contract(address, name) => write!(f, "{address}.{name}"),
        }
    }
}

impl FromStr for Principal {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, AddressError> {
        match text.split_once('.') {
            None => Ok(Self::Standard(text.parse()?)),
            Some((address, name)) => Ok(Self::Contract(address.parse()?, ContractName::new(name)?)),
        }
    }
}

impl From<StacksAddress> for Principal {
    fn from(address: StacksAddress) -> Self {
        Self::Standard(address)
    }
}

impl serde::Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The script hash of a multi-signature condition (Bitcoin P2SH redeem script), from the
/// public keys as encoded and the number of signatures required.
pub(crate) fn hash_p2sh(required: u16, keys: &[Vec<u8>]) -> Option<[u8; 20]> {
    Some(hash160(&multisig_script(required, keys)?))
}

/// The script hash of a segwit multi-signature condition (P2WSH inside P2SH).
pub(crate) fn hash_p2wsh(required: u16, keys: &[Vec<u8>]) -> Option<[u8; 20]> {
    let script = multisig_script(required, keys)?;
    let mut program = vec![0x00, 0x20];
    program.extend_from_slice(&sha256(&script));
    Some(hash160(&program))
}

/// The hash of a segwit single-signature condition (P2WPKH inside P2SH).
pub(crate) fn hash_p2wpkh(key: &[u8]) -> [u8; 20] {
    let mut program = vec![0x00, 0x14];
    program.extend_from_slice(&hash160(key));
    hash160(&program)
}

/// `OP_m <keys> OP_n OP_CHECKMULTISIG`; `None` beyond 15 keys, which the script cannot say.
fn multisig_script(required: u16, keys: &[Vec<u8>]) -> Option<Vec<u8>> {
    let required = u8::try_from(required).ok().filter(|&m| m <= 15)?;
    let count = u8::try_from(keys.len()).ok().filter(|&n| n <= 15)?;
    let mut script = vec![0x50 + required];
    for key in keys {
        script.push(u8::try_from(key.len()).ok()?);
        script.extend_from_slice(key);
    }
    script.extend_from_slice(&[0x50 + count, 0xae]);
    Some(script)
}
