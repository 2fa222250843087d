//! The address that signed a digest, recovered from its ECDSA signature: the one costly step
//! of verifying a payment without the chain.
//!
//! With the default `libsecp256k1` feature, libsecp256k1 (the C library of Bitcoin Core,
//! through the `secp256k1` crate) recovers the key; without it, k256 through alloy. The first
//! is several times faster (docs/benchmarks.md), since k256 verifies the signature again after
//! recovering the key. A property test holds the two to the same answer for every input.

use alloy::primitives::{Address, B256, Signature};

/// The address whose key signed `hash` with `signature`, or `None` when no key did (r or s
/// out of range, or no point for r).
pub(crate) fn signer(hash: &B256, signature: &Signature) -> Option<Address> {
    #[cfg(feature = "libsecp256k1")]
    return with_libsecp256k1(hash, signature);
    #[cfg(not(feature = "libsecp256k1"))]
    return with_k256(hash, signature);
}

#[cfg(any(test, not(feature = "libsecp256k1")))]
fn with_k256(hash: &B256, signature: &Signature) -> Option<Address> {
    signature.recover_address_from_prehash(hash).ok()
}

#[cfg(feature = "libsecp256k1")]
fn with_libsecp256k1(hash: &B256, signature: &Signature) -> Option<Address> {
    use alloy::primitives::keccak256;
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};

    let id = RecoveryId::from_u8_masked(u8::from(signature.v()));
    // Parsing refuses an r or s of n or more; recovery refuses zero.
    let signature = RecoverableSignature::from_compact(&signature.as_bytes()[..64], id).ok()?;
    let key = secp256k1::SECP256K1
        .recover_ecdsa(secp256k1::Message::from_digest(hash.0), &signature)
        .ok()?;
    // An address is the last 20 bytes of the hash of the key's x ‖ y.
    Some(Address::from_word(keccak256(
        &key.serialize_uncompressed()[1..],
    )))
}

#[cfg(all(test, feature = "libsecp256k1"))]
mod tests {
    use alloy::signers::SignerSync;
    use alloy::signers::local::PrivateKeySigner;
    use proptest::prelude::*;

    use super::*;

    fn both(hash: &B256, signature: &Signature) -> Option<Address> {
        let k256 = with_k256(hash, signature);
        assert_eq!(with_libsecp256k1(hash, signature), k256);
        k256
    }

    proptest! {
        #[test]
        fn backends_agree_on_real_signatures(secret: [u8; 32], hash: [u8; 32]) {
            let Ok(key) = PrivateKeySigner::from_slice(&secret) else { return Ok(()) };
            let hash = B256::from(hash);
            let signature = key.sign_hash_sync(&hash).unwrap();
            prop_assert_eq!(both(&hash, &signature), Some(key.address()));
            // The other parity names another key (or none), the same for both.
            prop_assert_ne!(both(&hash, &signature.with_parity(!signature.v())), Some(key.address()));
        }

        #[test]
        fn backends_agree_on_any_bytes(hash: [u8; 32], r: [u8; 32], s: [u8; 32], parity: bool) {
            let mut rs = [0u8; 64];
            rs[..32].copy_from_slice(&r);
            rs[32..].copy_from_slice(&s);
            both(&B256::from(hash), &Signature::from_bytes_and_parity(&rs, parity));
        }
    }

    #[test]
    fn edge_signatures_name_no_signer_in_both() {
        let hash = B256::repeat_byte(7);
        let order = alloy::hex!("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
        let mut cases = vec![[0u8; 64], [0xff; 64]];
        let mut r_at_order = [1u8; 64];
        r_at_order[..32].copy_from_slice(&order);
        cases.push(r_at_order);
        let mut s_at_order = [1u8; 64];
        s_at_order[32..].copy_from_slice(&order);
        cases.push(s_at_order);
        let mut zero_s = [1u8; 64];
        zero_s[32..].fill(0);
        cases.push(zero_s);
        for rs in &cases {
            for parity in [false, true] {
                let signature = Signature::from_bytes_and_parity(rs, parity);
                assert_eq!(both(&hash, &signature), None, "{}", alloy::hex::encode(rs));
            }
        }
    }
}
