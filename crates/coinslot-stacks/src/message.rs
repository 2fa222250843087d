//! Signed messages: Stacks message signing (`\x17Stacks Signed Message:\n`, and the legacy
//! `\x18Stacks Message Signing:\n` on verification) and SIP-018 structured data.
//!
//! Both sign a SHA-256 digest and write the signature `[r][s][recovery id]` (RSV).

use k256::ecdsa::VerifyingKey;

use crate::clarity::ClarityValue;
use crate::hash::sha256;
use crate::key::{KeyError, PrivateKey};
use crate::signature::{HighS, SignatureError, recover_rsv};

const MESSAGE_PREFIX: &[u8] = b"\x17Stacks Signed Message:\n";
const LEGACY_MESSAGE_PREFIX: &[u8] = b"\x18Stacks Message Signing:\n";
const SIP018_PREFIX: &[u8] = b"SIP018";

/// The digest of a message: SHA-256 of the prefix, the length (Bitcoin CompactSize) and the
/// message.
pub fn hash_message(message: &[u8]) -> [u8; 32] {
    hash_with_prefix(MESSAGE_PREFIX, message)
}

/// The digest under the legacy prefix, which verifiers still accept.
pub fn hash_message_legacy(message: &[u8]) -> [u8; 32] {
    hash_with_prefix(LEGACY_MESSAGE_PREFIX, message)
}

fn hash_with_prefix(prefix: &[u8], message: &[u8]) -> [u8; 32] {
    let mut data = Vec::with_capacity(prefix.len() + 9 + message.len());
    data.extend_from_slice(prefix);
    put_compact_size(&mut data, message.len() as u64);
    data.extend_from_slice(message);
    sha256(&data)
}

fn put_compact_size(out: &mut Vec<u8>, n: u64) {
    match n {
        0..0xfd => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// Signs a message (RSV).
pub fn sign_message(key: &PrivateKey, message: &[u8]) -> Result<[u8; 65], KeyError> {
    key.sign_rsv(&hash_message(message))
}

/// The public key that signed `message`, under the current prefix or else the legacy one.
/// High-S signatures are accepted, as wallets' verifiers do.
pub fn recover_message_signer(
    message: &[u8],
    signature: &[u8; 65],
) -> Result<VerifyingKey, SignatureError> {
    recover_rsv(&hash_message(message), signature, HighS::Allow)
        .or_else(|_| recover_rsv(&hash_message_legacy(message), signature, HighS::Allow))
}

/// Whether `signature` over `message` was made by `public_key` (33 or 65 bytes), under either
/// prefix.
pub fn verify_message(message: &[u8], signature: &[u8; 65], public_key: &[u8]) -> bool {
    [hash_message(message), hash_message_legacy(message)]
        .iter()
        .any(|digest| signed_by(digest, signature, public_key))
}

fn signed_by(digest: &[u8; 32], signature: &[u8; 65], public_key: &[u8]) -> bool {
    let Ok(expected) = VerifyingKey::from_sec1_bytes(public_key) else {
        return false;
    };
    recover_rsv(digest, signature, HighS::Allow).is_ok_and(|key| key == expected)
}

/// The SIP-018 domain tuple `{name, version, chain-id}`.
pub fn sip018_domain(name: &str, version: &str, chain_id: u32) -> Option<ClarityValue> {
    if !name.is_ascii() || !version.is_ascii() {
        return None;
    }
    ClarityValue::tuple([
        ("name", ClarityValue::StringAscii(name.to_owned())),
        ("version", ClarityValue::StringAscii(version.to_owned())),
        ("chain-id", ClarityValue::UInt(chain_id.into())),
    ])
}

/// The SIP-018 digest: `SHA-256("SIP018" ‖ SHA-256(domain) ‖ SHA-256(message))`, each value in
/// its consensus encoding.
pub fn sip018_hash(domain: &ClarityValue, message: &ClarityValue) -> [u8; 32] {
    let mut data = Vec::with_capacity(6 + 64);
    data.extend_from_slice(SIP018_PREFIX);
    data.extend_from_slice(&sha256(&domain.to_bytes()));
    data.extend_from_slice(&sha256(&message.to_bytes()));
    sha256(&data)
}

/// Signs structured data under SIP-018 (RSV).
pub fn sign_structured_data(
    key: &PrivateKey,
    domain: &ClarityValue,
    message: &ClarityValue,
) -> Result<[u8; 65], KeyError> {
    key.sign_rsv(&sip018_hash(domain, message))
}

/// Whether `signature` is `public_key`'s SIP-018 signature of `message` under `domain`.
pub fn verify_structured_data(
    domain: &ClarityValue,
    message: &ClarityValue,
    signature: &[u8; 65],
    public_key: &[u8],
) -> bool {
    signed_by(&sip018_hash(domain, message), signature, public_key)
}
