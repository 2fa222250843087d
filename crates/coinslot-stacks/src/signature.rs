//! Transaction signatures (SIP-005, SIP-027): the sighash chain, recovery of the signers' keys,
//! and the check that they hash to the signer of each spending condition.
//!
//! The chain: the initial sighash is SHA-512/256 of the transaction with the origin's
//! condition cleared (fee, nonce and signatures zeroed) and a sponsor's replaced by a sentinel;
//! each signer signs `presign = SHA-512/256(sighash ‖ auth type ‖ fee ‖ nonce)` and the next
//! sighash is `postsign = SHA-512/256(presign ‖ key encoding ‖ signature)`. The origin always
//! signs with auth type 0x04; a sponsor signs after it, from the origin's last postsign, with
//! 0x05.

use k256::ecdsa::VerifyingKey;

use crate::address::{StacksAddress, hash_p2sh, hash_p2wpkh, hash_p2wsh};
use crate::hash::{hash160, sha512_256};
use crate::key::{KeyError, PrivateKey, encode_public_key};
use crate::recovery::{self, RecoveredKey};
use crate::transaction::{
    AUTH_SPONSORED, AUTH_STANDARD, AuthField, Authorization, HashMode, KeyEncoding, MultiSig,
    SingleSig, SpendingCondition, Transaction,
};

/// Why a transaction's signatures do not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A signature's bytes are not a signature (r or s out of range, recovery id above 3).
    #[error("malformed signature")]
    Malformed,
    /// No public key recovers from the signature.
    #[error("no public key recovers from the signature")]
    Unrecoverable,
    /// A high-S signature where only low-S is accepted (it would give the payment a second txid).
    #[error("signature has a high S")]
    HighS,
    /// The recovered keys do not hash to the condition's signer.
    #[error("signer hash does not match the keys that signed")]
    SignerMismatch,
    /// A multi-signature condition with the wrong number of signatures.
    #[error("wrong number of signatures")]
    SignatureCount,
    /// An uncompressed key where the hash mode wants compressed ones.
    #[error("uncompressed key in a segwit hash mode")]
    UncompressedKey,
    /// A public key field that is not a point of the curve.
    #[error("invalid public key")]
    InvalidKey,
    /// A multi-signature condition with more than 15 keys or a threshold above 15.
    #[error("multi-signature condition beyond 15 keys")]
    TooManyKeys,
    /// Signing a condition this key cannot sign (another signer, or a multi-signature one).
    #[error("this key cannot sign that spending condition")]
    WrongSigner,
    /// The key refused to sign.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Whether a high-S signature is accepted. The node accepts them before epoch 4.0; a verifier
/// of payments should not, since flipping S gives one payment a second txid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HighS {
    /// Refuse high-S signatures.
    #[default]
    Refuse,
    /// Accept them, as the node does before epoch 4.0.
    Allow,
}

/// What verifying a transaction's authorization established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAuth {
    /// The origin's address on the transaction's network.
    pub origin: StacksAddress,
    /// The origin's public keys, as the address hashes them.
    pub origin_keys: Vec<Vec<u8>>,
    /// The sponsor's address, for a sponsored transaction.
    pub sponsor: Option<StacksAddress>,
}

/// SHA-512/256 of the transaction with its signatures cleared: what the origin signs first.
pub fn initial_sighash(tx: &Transaction) -> [u8; 32] {
    let mut cleared = tx.clone();
    cleared.auth = match &tx.auth {
        Authorization::Standard(origin) => Authorization::Standard(origin.cleared()),
        Authorization::Sponsored { origin, .. } => Authorization::Sponsored {
            origin: origin.cleared(),
            sponsor: SpendingCondition::signing_sentinel(),
        },
    };
    sha512_256(&cleared.to_bytes())
}

/// `SHA-512/256(sighash ‖ auth type ‖ fee ‖ nonce)`: the digest a signer signs.
pub fn presign_sighash(sighash: &[u8; 32], auth_type: u8, fee: u64, nonce: u64) -> [u8; 32] {
    let mut data = [0u8; 49];
    data[..32].copy_from_slice(sighash);
    data[32] = auth_type;
    data[33..41].copy_from_slice(&fee.to_be_bytes());
    data[41..].copy_from_slice(&nonce.to_be_bytes());
    sha512_256(&data)
}

/// `SHA-512/256(presign ‖ key encoding ‖ signature)`: the sighash the next signer starts from.
pub fn postsign_sighash(
    presign: &[u8; 32],
    encoding: KeyEncoding,
    signature: &[u8; 65],
) -> [u8; 32] {
    let mut data = [0u8; 98];
    data[..32].copy_from_slice(presign);
    data[32] = encoding as u8;
    data[33..].copy_from_slice(signature);
    sha512_256(&data)
}

/// The public key that made a `[recovery id][r][s]` signature over `digest`.
pub fn recover_vrs(
    digest: &[u8; 32],
    signature: &[u8; 65],
    high_s: HighS,
) -> Result<VerifyingKey, SignatureError> {
    recover_vrs_key(digest, signature, high_s).map(|key| key.to_verifying_key())
}

/// The public key that made an `[r][s][recovery id]` signature over `digest`.
pub fn recover_rsv(
    digest: &[u8; 32],
    signature: &[u8; 65],
    high_s: HighS,
) -> Result<VerifyingKey, SignatureError> {
    let mut rs = [0u8; 64];
    rs.copy_from_slice(&signature[..64]);
    recovery::recover(digest, &rs, signature[64], high_s).map(|key| key.to_verifying_key())
}

fn recover_vrs_key(
    digest: &[u8; 32],
    signature: &[u8; 65],
    high_s: HighS,
) -> Result<RecoveredKey, SignatureError> {
    let mut rs = [0u8; 64];
    rs.copy_from_slice(&signature[1..]);
    recovery::recover(digest, &rs, signature[0], high_s)
}

impl Transaction {
    /// Verifies the origin's signatures and, for a sponsored transaction, the sponsor's.
    pub fn verify(&self, high_s: HighS) -> Result<VerifiedAuth, SignatureError> {
        let mainnet = self.version.is_mainnet();
        let initial = initial_sighash(self);
        let origin = self.auth.origin();
        let (origin_keys, next) = verify_condition(origin, &initial, AUTH_STANDARD, high_s)?;
        let sponsor = match self.auth.sponsor() {
            Some(sponsor) => {
                verify_condition(sponsor, &next, AUTH_SPONSORED, high_s)?;
                Some(sponsor.address(mainnet))
            }
            None => None,
        };
        Ok(VerifiedAuth {
            origin: origin.address(mainnet),
            origin_keys,
            sponsor,
        })
    }

    /// Signs as the origin with a single key: sets the signer hash for P2PKH, the key
    /// encoding and the signature. Fee, nonce and everything else must be final.
    pub fn sign_origin(&mut self, key: &PrivateKey) -> Result<(), SignatureError> {
        let signer = hash160(&key.public_key());
        let initial = {
            let origin = origin_mut(&mut self.auth);
            let SpendingCondition::Single(condition) = origin else {
                return Err(SignatureError::WrongSigner);
            };
            if condition.hash_mode != HashMode::P2pkh {
                return Err(SignatureError::WrongSigner);
            }
            condition.signer = signer;
            condition.key_encoding = key.encoding();
            initial_sighash(self)
        };
        let origin = origin_mut(&mut self.auth);
        sign_single(origin, &initial, AUTH_STANDARD, key).map(|_| ())
    }

    /// Signs as the sponsor with a single key, after the origin has signed.
    pub fn sign_sponsor(&mut self, key: &PrivateKey) -> Result<(), SignatureError> {
        let initial = initial_sighash(self);
        let Authorization::Sponsored { origin, sponsor } = &mut self.auth else {
            return Err(SignatureError::WrongSigner);
        };
        let (_, next) = verify_condition(origin, &initial, AUTH_STANDARD, HighS::Allow)?;
        let SpendingCondition::Single(condition) = sponsor else {
            return Err(SignatureError::WrongSigner);
        };
        condition.hash_mode = HashMode::P2pkh;
        condition.signer = hash160(&key.public_key());
        condition.key_encoding = key.encoding();
        sign_single(sponsor, &next, AUTH_SPONSORED, key).map(|_| ())
    }
}

fn origin_mut(auth: &mut Authorization) -> &mut SpendingCondition {
    match auth {
        Authorization::Standard(origin) | Authorization::Sponsored { origin, .. } => origin,
    }
}

fn sign_single(
    condition: &mut SpendingCondition,
    sighash: &[u8; 32],
    auth_type: u8,
    key: &PrivateKey,
) -> Result<[u8; 32], SignatureError> {
    let SpendingCondition::Single(single) = condition else {
        return Err(SignatureError::WrongSigner);
    };
    let presign = presign_sighash(sighash, auth_type, single.fee, single.nonce);
    single.signature = key.sign_vrs(&presign)?;
    Ok(postsign_sighash(
        &presign,
        single.key_encoding,
        &single.signature,
    ))
}

/// Recovers the keys of one condition from `sighash` on, checks them against its signer, and
/// answers them with the sighash the next signer starts from.
fn verify_condition(
    condition: &SpendingCondition,
    sighash: &[u8; 32],
    auth_type: u8,
    high_s: HighS,
) -> Result<(Vec<Vec<u8>>, [u8; 32]), SignatureError> {
    match condition {
        SpendingCondition::Single(single) => verify_single(single, sighash, auth_type, high_s),
        SpendingCondition::Multi(multi) => verify_multi(multi, sighash, auth_type, high_s),
    }
}

fn verify_single(
    condition: &SingleSig,
    sighash: &[u8; 32],
    auth_type: u8,
    high_s: HighS,
) -> Result<(Vec<Vec<u8>>, [u8; 32]), SignatureError> {
    let presign = presign_sighash(sighash, auth_type, condition.fee, condition.nonce);
    let key = recover_vrs_key(&presign, &condition.signature, high_s)?;
    let key = key.encode(condition.key_encoding);
    let hash = match condition.hash_mode {
        HashMode::P2wpkh => {
            if condition.key_encoding == KeyEncoding::Uncompressed {
                return Err(SignatureError::UncompressedKey);
            }
            hash_p2wpkh(&key)
        }
        _ => hash160(&key),
    };
    if hash != condition.signer {
        return Err(SignatureError::SignerMismatch);
    }
    let next = postsign_sighash(&presign, condition.key_encoding, &condition.signature);
    Ok((vec![key], next))
}

fn verify_multi(
    condition: &MultiSig,
    sighash: &[u8; 32],
    auth_type: u8,
    high_s: HighS,
) -> Result<(Vec<Vec<u8>>, [u8; 32]), SignatureError> {
    let sequential = condition.hash_mode.is_sequential();
    let mut current = *sighash;
    let mut keys = Vec::with_capacity(condition.fields.len());
    let mut signatures = 0usize;
    let mut uncompressed = false;
    for field in &condition.fields {
        match field {
            AuthField::PublicKey { encoding, key } => {
                let point =
                    VerifyingKey::from_sec1_bytes(key).map_err(|_| SignatureError::InvalidKey)?;
                uncompressed |= *encoding == KeyEncoding::Uncompressed;
                keys.push(encode_public_key(&point, *encoding));
            }
            AuthField::Signature {
                encoding,
                signature,
            } => {
                let presign = presign_sighash(&current, auth_type, condition.fee, condition.nonce);
                let key = recover_vrs_key(&presign, signature, high_s)?;
                uncompressed |= *encoding == KeyEncoding::Uncompressed;
                keys.push(key.encode(*encoding));
                signatures += 1;
                if sequential {
                    current = postsign_sighash(&presign, *encoding, signature);
                }
            }
        }
    }
    let required = usize::from(condition.signatures_required);
    let count_ok = if sequential {
        signatures == required
    } else {
        signatures >= required
    };
    if !count_ok {
        return Err(SignatureError::SignatureCount);
    }
    if uncompressed && condition.hash_mode.is_segwit() {
        return Err(SignatureError::UncompressedKey);
    }
    let hash = match condition.hash_mode {
        HashMode::P2wsh | HashMode::P2wshNonSequential => {
            hash_p2wsh(condition.signatures_required, &keys)
        }
        _ => hash_p2sh(condition.signatures_required, &keys),
    }
    .ok_or(SignatureError::TooManyKeys)?;
    if hash != condition.signer {
        return Err(SignatureError::SignerMismatch);
    }
    Ok((keys, current))
}
