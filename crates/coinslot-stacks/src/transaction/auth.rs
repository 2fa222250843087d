//! Who authorizes a transaction and pays its fee: the origin's spending condition, and a
//! sponsor's for a sponsored transaction (SIP-005, SIP-027).

use crate::address::{
    MAINNET_MULTI_SIG, MAINNET_SINGLE_SIG, StacksAddress, TESTNET_MULTI_SIG, TESTNET_SINGLE_SIG,
};
use crate::codec::{DecodeError, DecodeErrorKind, Reader};

/// The auth type byte of a standard (self-paid) transaction.
pub const AUTH_STANDARD: u8 = 0x04;
/// The auth type byte of a sponsored transaction.
pub const AUTH_SPONSORED: u8 = 0x05;

/// How the signer hash of a spending condition is made from its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HashMode {
    /// One key: Hash160 of the key (an `SP`/`ST` address).
    P2pkh = 0x00,
    /// Several keys, signing in order: Hash160 of a P2SH multisig script.
    P2sh = 0x01,
    /// One key, segwit: Hash160 of a P2WPKH program.
    P2wpkh = 0x02,
    /// Several keys, segwit, signing in order.
    P2wsh = 0x03,
    /// Several keys, signing in any order (SIP-027).
    P2shNonSequential = 0x05,
    /// Several keys, segwit, signing in any order (SIP-027).
    P2wshNonSequential = 0x07,
}

impl HashMode {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0x00 => Self::P2pkh,
            0x01 => Self::P2sh,
            0x02 => Self::P2wpkh,
            0x03 => Self::P2wsh,
            0x05 => Self::P2shNonSequential,
            0x07 => Self::P2wshNonSequential,
            _ => return None,
        })
    }

    /// Whether one key signs.
    pub fn is_single_sig(self) -> bool {
        matches!(self, Self::P2pkh | Self::P2wpkh)
    }

    /// Whether the signatures of a multi-signature condition chain, each over the last.
    pub fn is_sequential(self) -> bool {
        matches!(self, Self::P2sh | Self::P2wsh)
    }

    /// Whether every key must be compressed.
    pub fn is_segwit(self) -> bool {
        matches!(self, Self::P2wpkh | Self::P2wsh | Self::P2wshNonSequential)
    }

    /// The address version for this mode on a network: P2PKH gives `SP`/`ST`, every other
    /// mode `SM`/`SN`.
    pub fn address_version(self, mainnet: bool) -> u8 {
        match (self == Self::P2pkh, mainnet) {
            (true, true) => MAINNET_SINGLE_SIG,
            (true, false) => TESTNET_SINGLE_SIG,
            (false, true) => MAINNET_MULTI_SIG,
            (false, false) => TESTNET_MULTI_SIG,
        }
    }
}

/// Whether a public key was used compressed (33 bytes) or uncompressed (65 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum KeyEncoding {
    /// 33 bytes.
    Compressed = 0x00,
    /// 65 bytes.
    Uncompressed = 0x01,
}

impl KeyEncoding {
    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = reader.offset();
        match reader.u8()? {
            0x00 => Ok(Self::Compressed),
            0x01 => Ok(Self::Uncompressed),
            value => Err(Reader::error_at(
                at,
                DecodeErrorKind::UnknownByte {
                    field: "key encoding",
                    value,
                },
            )),
        }
    }
}

/// A single-key spending condition (103 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleSig {
    /// [`HashMode::P2pkh`] or [`HashMode::P2wpkh`].
    pub hash_mode: HashMode,
    /// The signer hash: the address's hash160.
    pub signer: [u8; 20],
    /// The account nonce.
    pub nonce: u64,
    /// The fee, in µSTX.
    pub fee: u64,
    /// How the key that signed is encoded.
    pub key_encoding: KeyEncoding,
    /// Recoverable signature, `[recovery id][r][s]`.
    pub signature: [u8; 65],
}

/// One field of a multi-signature condition: a key that did not sign, or a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthField {
    /// A public key (always written compressed; `encoding` says how the address uses it).
    PublicKey {
        /// How the address uses the key.
        encoding: KeyEncoding,
        /// The compressed key.
        key: [u8; 33],
    },
    /// A recoverable signature and the encoding of the key that made it.
    Signature {
        /// How the address uses the key.
        encoding: KeyEncoding,
        /// `[recovery id][r][s]`.
        signature: [u8; 65],
    },
}

/// A multi-signature spending condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiSig {
    /// One of the four multi-signature modes.
    pub hash_mode: HashMode,
    /// The signer hash: the address's hash160.
    pub signer: [u8; 20],
    /// The account nonce.
    pub nonce: u64,
    /// The fee, in µSTX.
    pub fee: u64,
    /// Keys and signatures, in the order of the keys in the address.
    pub fields: Vec<AuthField>,
    /// How many signatures the address needs.
    pub signatures_required: u16,
}

/// A spending condition: who signs, with which nonce, paying which fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpendingCondition {
    /// One key.
    Single(SingleSig),
    /// Several keys.
    Multi(MultiSig),
}

impl SpendingCondition {
    /// The hash mode.
    pub fn hash_mode(&self) -> HashMode {
        match self {
            Self::Single(c) => c.hash_mode,
            Self::Multi(c) => c.hash_mode,
        }
    }

    /// The signer hash.
    pub fn signer(&self) -> [u8; 20] {
        match self {
            Self::Single(c) => c.signer,
            Self::Multi(c) => c.signer,
        }
    }

    /// The account nonce.
    pub fn nonce(&self) -> u64 {
        match self {
            Self::Single(c) => c.nonce,
            Self::Multi(c) => c.nonce,
        }
    }

    /// The fee, in µSTX.
    pub fn fee(&self) -> u64 {
        match self {
            Self::Single(c) => c.fee,
            Self::Multi(c) => c.fee,
        }
    }

    /// The account that signs, on mainnet or testnet.
    pub fn address(&self, mainnet: bool) -> StacksAddress {
        StacksAddress {
            version: self.hash_mode().address_version(mainnet),
            hash160: self.signer(),
        }
    }

    /// The condition with fee, nonce and signatures cleared, as the initial sighash wants it.
    pub(crate) fn cleared(&self) -> Self {
        match self {
            Self::Single(c) => Self::Single(SingleSig {
                nonce: 0,
                fee: 0,
                signature: [0; 65],
                ..c.clone()
            }),
            Self::Multi(c) => Self::Multi(MultiSig {
                nonce: 0,
                fee: 0,
                fields: Vec::new(),
                ..c.clone()
            }),
        }
    }

    /// The sponsor slot's placeholder while the origin signs.
    pub(crate) fn signing_sentinel() -> Self {
        Self::Single(SingleSig {
            hash_mode: HashMode::P2pkh,
            signer: [0; 20],
            nonce: 0,
            fee: 0,
            key_encoding: KeyEncoding::Compressed,
            signature: [0; 65],
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Single(c) => {
                out.push(c.hash_mode as u8);
                out.extend_from_slice(&c.signer);
                out.extend_from_slice(&c.nonce.to_be_bytes());
                out.extend_from_slice(&c.fee.to_be_bytes());
                out.push(c.key_encoding as u8);
                out.extend_from_slice(&c.signature);
            }
            Self::Multi(c) => {
                out.push(c.hash_mode as u8);
                out.extend_from_slice(&c.signer);
                out.extend_from_slice(&c.nonce.to_be_bytes());
                out.extend_from_slice(&c.fee.to_be_bytes());
                out.extend_from_slice(
                    &u32::try_from(c.fields.len())
                        .unwrap_or(u32::MAX)
                        .to_be_bytes(),
                );
                for field in &c.fields {
                    match field {
                        AuthField::PublicKey { encoding, key } => {
                            out.push(*encoding as u8);
                            out.extend_from_slice(key);
                        }
                        AuthField::Signature {
                            encoding,
                            signature,
                        } => {
                            out.push(0x02 | *encoding as u8);
                            out.extend_from_slice(signature);
                        }
                    }
                }
                out.extend_from_slice(&c.signatures_required.to_be_bytes());
            }
        }
    }

    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = reader.offset();
        let byte = reader.u8()?;
        let hash_mode = HashMode::from_byte(byte).ok_or_else(|| {
            Reader::error_at(
                at,
                DecodeErrorKind::UnknownByte {
                    field: "hash mode",
                    value: byte,
                },
            )
        })?;
        let signer = reader.array()?;
        let nonce = reader.u64()?;
        let fee = reader.u64()?;
        if hash_mode.is_single_sig() {
            let key_encoding = KeyEncoding::read(reader)?;
            let signature = reader.array()?;
            return Ok(Self::Single(SingleSig {
                hash_mode,
                signer,
                nonce,
                fee,
                key_encoding,
                signature,
            }));
        }
        // Each field takes at least 34 bytes.
        let count = reader.length("auth fields", u32::MAX.into(), 34)?;
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            let at = reader.offset();
            let field = match reader.u8()? {
                id @ (0x00 | 0x01) => AuthField::PublicKey {
                    encoding: encoding_of(id),
                    key: reader.array()?,
                },
                id @ (0x02 | 0x03) => AuthField::Signature {
                    encoding: encoding_of(id),
                    signature: reader.array()?,
                },
                value => {
                    return Err(Reader::error_at(
                        at,
                        DecodeErrorKind::UnknownByte {
                            field: "auth field",
                            value,
                        },
                    ));
                }
            };
            fields.push(field);
        }
        let signatures_required = reader.u16()?;
        Ok(Self::Multi(MultiSig {
            hash_mode,
            signer,
            nonce,
            fee,
            fields,
            signatures_required,
        }))
    }
}

fn encoding_of(field_id: u8) -> KeyEncoding {
    if field_id & 0x01 == 0 {
        KeyEncoding::Compressed
    } else {
        KeyEncoding::Uncompressed
    }
}

/// The authorization of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// The origin signs and pays the fee.
    Standard(SpendingCondition),
    /// The origin signs; a sponsor signs after it and pays the fee.
    Sponsored {
        /// The origin (its fee is normally 0).
        origin: SpendingCondition,
        /// The sponsor.
        sponsor: SpendingCondition,
    },
}

impl Authorization {
    /// The origin's condition.
    pub fn origin(&self) -> &SpendingCondition {
        match self {
            Self::Standard(origin) | Self::Sponsored { origin, .. } => origin,
        }
    }

    /// The sponsor's condition, if sponsored.
    pub fn sponsor(&self) -> Option<&SpendingCondition> {
        match self {
            Self::Standard(_) => None,
            Self::Sponsored { sponsor, .. } => Some(sponsor),
        }
    }

    /// The condition that pays the fee: the sponsor's, or the origin's.
    pub fn payer(&self) -> &SpendingCondition {
        self.sponsor().unwrap_or_else(|| self.origin())
    }

    /// The auth type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Self::Standard(_) => AUTH_STANDARD,
            Self::Sponsored { .. } => AUTH_SPONSORED,
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.type_byte());
        match self {
            Self::Standard(origin) => origin.encode(out),
            Self::Sponsored { origin, sponsor } => {
                origin.encode(out);
                sponsor.encode(out);
            }
        }
    }

    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = reader.offset();
        match reader.u8()? {
            AUTH_STANDARD => Ok(Self::Standard(SpendingCondition::decode(reader)?)),
            AUTH_SPONSORED => Ok(Self::Sponsored {
                origin: SpendingCondition::decode(reader)?,
                sponsor: SpendingCondition::decode(reader)?,
            }),
            value => Err(Reader::error_at(
                at,
                DecodeErrorKind::UnknownByte {
                    field: "auth type",
                    value,
                },
            )),
        }
    }
}
