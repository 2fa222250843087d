//! Stacks private keys: secp256k1, written as 32 bytes (the key is used uncompressed) or 33
//! bytes ending in `01` (compressed, what wallets and stacks.js make).

use std::fmt;

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::address::StacksAddress;
use crate::transaction::KeyEncoding;

/// Why a private key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not 64 or 66 hex digits (66 ending in `01`).
    #[error("a Stacks private key is 32 bytes, or 33 ending in 01, in hex")]
    Format,
    /// Zero or not below the curve order.
    #[error("not a valid secp256k1 private key")]
    OutOfRange,
    /// The signer refused the digest.
    #[error("signing failed")]
    Signing,
}

/// A Stacks private key and how its public key is encoded.
#[derive(Clone)]
pub struct PrivateKey {
    key: SigningKey,
    encoding: KeyEncoding,
}

impl PrivateKey {
    /// Parses 64 hex digits (uncompressed) or 66 ending in `01` (compressed); `0x` allowed.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        let bytes = Zeroizing::new(hex::decode(digits).map_err(|_| KeyError::Format)?);
        let (secret, encoding) = match bytes.len() {
            32 => (&bytes[..], KeyEncoding::Uncompressed),
            33 if bytes[32] == 0x01 => (&bytes[..32], KeyEncoding::Compressed),
            _ => return Err(KeyError::Format),
        };
        let key = SigningKey::from_slice(secret).map_err(|_| KeyError::OutOfRange)?;
        Ok(Self { key, encoding })
    }

    /// A key from 32 secret bytes, with its public key used compressed.
    pub fn from_bytes(secret: &[u8; 32]) -> Result<Self, KeyError> {
        let key = SigningKey::from_slice(secret).map_err(|_| KeyError::OutOfRange)?;
        Ok(Self {
            key,
            encoding: KeyEncoding::Compressed,
        })
    }

    /// The key in the form [`from_hex`](Self::from_hex) reads.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(hex::encode(self.key.to_bytes()));
        if self.encoding == KeyEncoding::Compressed {
            text.push_str("01");
        }
        text
    }

    /// How the public key is encoded.
    pub fn encoding(&self) -> KeyEncoding {
        self.encoding
    }

    /// The public key, 33 or 65 bytes.
    pub fn public_key(&self) -> Vec<u8> {
        encode_public_key(self.key.verifying_key(), self.encoding)
    }

    /// The single-signature (P2PKH) address of this key.
    pub fn address(&self, mainnet: bool) -> StacksAddress {
        StacksAddress::p2pkh(&self.public_key(), mainnet)
    }

    /// A recoverable signature over a 32-byte digest, low-S, as `[recovery id][r][s]`.
    pub fn sign_vrs(&self, digest: &[u8; 32]) -> Result<[u8; 65], KeyError> {
        let (signature, recovery) = self.sign(digest)?;
        let mut out = [0u8; 65];
        out[0] = recovery.to_byte();
        out[1..].copy_from_slice(&signature.to_bytes());
        Ok(out)
    }

    /// A recoverable signature over a 32-byte digest, low-S, as `[r][s][recovery id]` (the
    /// form of message and SIP-018 signatures).
    pub fn sign_rsv(&self, digest: &[u8; 32]) -> Result<[u8; 65], KeyError> {
        let (signature, recovery) = self.sign(digest)?;
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&signature.to_bytes());
        out[64] = recovery.to_byte();
        Ok(out)
    }

    fn sign(&self, digest: &[u8; 32]) -> Result<(Signature, RecoveryId), KeyError> {
        let (signature, recovery) = self
            .key
            .sign_prehash_recoverable(digest)
            .map_err(|_| KeyError::Signing)?;
        // k256 already answers low-S; normalizing again keeps that a checked fact.
        Ok(match signature.normalize_s() {
            Some(low) => (
                low,
                RecoveryId::new(!recovery.is_y_odd(), recovery.is_x_reduced()),
            ),
            None => (signature, recovery),
        })
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.address(true))
    }
}

pub(crate) fn encode_public_key(key: &VerifyingKey, encoding: KeyEncoding) -> Vec<u8> {
    key.to_encoded_point(encoding == KeyEncoding::Compressed)
        .as_bytes()
        .to_vec()
}
