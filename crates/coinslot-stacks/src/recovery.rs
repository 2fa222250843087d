//! Public-key recovery from a recoverable secp256k1 ECDSA signature: the one costly step of
//! verifying a Stacks transaction.
//!
//! Two backends give the same answers for every input (a property test holds them to it):
//! libsecp256k1, the C library of Bitcoin Core through the `secp256k1` crate, behind the
//! default `libsecp256k1` feature; and k256, pure Rust, used when that feature is off.
//! libsecp256k1 is several times faster (docs/benchmarks.md), because k256 verifies the
//! signature again after recovering the key, and its scalar multiplication is slower.
//!
//! Both take the signature through the same checks first: r and s in range, a recovery id of
//! 0 to 3, and the high-S policy. A high S that is allowed is normalized, so both backends
//! recover from the same low-S signature.

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

use crate::signature::{HighS, SignatureError};
use crate::transaction::KeyEncoding;

/// A recovered public key, kept as its 65-byte uncompressed SEC1 encoding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecoveredKey([u8; 65]);

impl RecoveredKey {
    /// The key in the encoding a spending condition names: 33 bytes compressed or 65
    /// uncompressed.
    pub(crate) fn encode(&self, encoding: KeyEncoding) -> Vec<u8> {
        match encoding {
            KeyEncoding::Uncompressed => self.0.to_vec(),
            KeyEncoding::Compressed => {
                let mut out = Vec::with_capacity(33);
                out.push(0x02 | (self.0[64] & 1));
                out.extend_from_slice(&self.0[1..33]);
                out
            }
        }
    }

    /// The key as a k256 verifying key.
    pub(crate) fn to_verifying_key(self) -> VerifyingKey {
        // Both backends answer a point of the curve, so this parse cannot fail.
        VerifyingKey::from_sec1_bytes(&self.0).expect("a recovered key is a curve point")
    }
}

impl std::fmt::Debug for RecoveredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RecoveredKey({})",
            hex::encode(self.encode(KeyEncoding::Compressed))
        )
    }
}

/// A library that recovers keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum Backend {
    /// k256: pure Rust. With libsecp256k1 on, only the test that holds both to the same
    /// answers uses it.
    #[cfg_attr(all(feature = "libsecp256k1", not(test)), allow(dead_code))]
    K256,
    /// libsecp256k1, through the `secp256k1` crate.
    #[cfg(feature = "libsecp256k1")]
    Libsecp256k1,
}

impl Default for Backend {
    /// libsecp256k1 when the `libsecp256k1` feature is on, else k256.
    fn default() -> Self {
        #[cfg(feature = "libsecp256k1")]
        return Self::Libsecp256k1;
        #[cfg(not(feature = "libsecp256k1"))]
        return Self::K256;
    }
}

/// The key that signed `digest` with the `[r][s]` signature `rs` and recovery id `recovery`,
/// with the default [`Backend`].
pub(crate) fn recover(
    digest: &[u8; 32],
    rs: &[u8; 64],
    recovery: u8,
    high_s: HighS,
) -> Result<RecoveredKey, SignatureError> {
    recover_with(Backend::default(), digest, rs, recovery, high_s)
}

/// [`recover`] with the given backend.
pub(crate) fn recover_with(
    backend: Backend,
    digest: &[u8; 32],
    rs: &[u8; 64],
    recovery: u8,
    high_s: HighS,
) -> Result<RecoveredKey, SignatureError> {
    let (signature, recovery) = checked_signature(rs, recovery, high_s)?;
    match backend {
        Backend::K256 => {
            let key = VerifyingKey::recover_from_prehash(digest, &signature, recovery)
                .map_err(|_| SignatureError::Unrecoverable)?;
            let mut out = [0u8; 65];
            out.copy_from_slice(key.to_encoded_point(false).as_bytes());
            Ok(RecoveredKey(out))
        }
        #[cfg(feature = "libsecp256k1")]
        Backend::Libsecp256k1 => libsecp256k1(digest, &signature, recovery),
    }
}

#[cfg(feature = "libsecp256k1")]
fn libsecp256k1(
    digest: &[u8; 32],
    signature: &Signature,
    recovery: RecoveryId,
) -> Result<RecoveredKey, SignatureError> {
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId as LibRecoveryId};

    let id = LibRecoveryId::try_from(i32::from(recovery.to_byte()))
        .map_err(|_| SignatureError::Malformed)?;
    let signature = RecoverableSignature::from_compact(&signature.to_bytes(), id)
        .map_err(|_| SignatureError::Malformed)?;
    let key = secp256k1::SECP256K1
        .recover_ecdsa(secp256k1::Message::from_digest(*digest), &signature)
        .map_err(|_| SignatureError::Unrecoverable)?;
    Ok(RecoveredKey(key.serialize_uncompressed()))
}

/// The signature parsed (r and s in 1..n), the recovery id checked, and a high S refused or
/// normalized (with the parity of R flipped to match) as `high_s` says.
fn checked_signature(
    rs: &[u8; 64],
    recovery: u8,
    high_s: HighS,
) -> Result<(Signature, RecoveryId), SignatureError> {
    let mut recovery = RecoveryId::from_byte(recovery).ok_or(SignatureError::Malformed)?;
    let mut signature = Signature::from_slice(rs).map_err(|_| SignatureError::Malformed)?;
    if let Some(low) = signature.normalize_s() {
        if high_s == HighS::Refuse {
            return Err(SignatureError::HighS);
        }
        // (r, n − s) is the same signature for the key whose R has the other parity.
        signature = low;
        recovery = RecoveryId::new(!recovery.is_y_odd(), recovery.is_x_reduced());
    }
    Ok((signature, recovery))
}

#[cfg(all(test, feature = "libsecp256k1"))]
mod tests {
    use k256::ecdsa::SigningKey;
    use proptest::prelude::*;

    use super::*;

    fn signed(secret: [u8; 32], digest: [u8; 32]) -> Option<([u8; 64], u8)> {
        let key = SigningKey::from_bytes(&secret.into()).ok()?;
        let (signature, recovery) = key.sign_prehash_recoverable(&digest).ok()?;
        Some((signature.to_bytes().into(), recovery.to_byte()))
    }

    fn k256(digest: &[u8; 32], rs: &[u8; 64], recovery: u8, high_s: HighS) -> Recovered {
        recover_with(Backend::K256, digest, rs, recovery, high_s)
    }

    fn libsecp(digest: &[u8; 32], rs: &[u8; 64], recovery: u8, high_s: HighS) -> Recovered {
        recover_with(Backend::Libsecp256k1, digest, rs, recovery, high_s)
    }

    type Recovered = Result<RecoveredKey, SignatureError>;

    fn both(digest: &[u8; 32], rs: &[u8; 64], recovery: u8, high_s: HighS) {
        assert_eq!(
            k256(digest, rs, recovery, high_s),
            libsecp(digest, rs, recovery, high_s)
        );
    }

    proptest! {
        #[test]
        fn backends_agree_on_real_signatures(secret: [u8; 32], digest: [u8; 32]) {
            let Some((rs, recovery)) = signed(secret, digest) else { return Ok(()) };
            let expected = SigningKey::from_bytes(&secret.into()).unwrap();
            let key = libsecp(&digest, &rs, recovery, HighS::Refuse).unwrap();
            prop_assert_eq!(key.to_verifying_key(), *expected.verifying_key());
            both(&digest, &rs, recovery, HighS::Refuse);
        }

        #[test]
        fn backends_agree_on_high_s(secret: [u8; 32], digest: [u8; 32]) {
            let Some((rs, recovery)) = signed(secret, digest) else { return Ok(()) };
            let low = Signature::from_slice(&rs).unwrap();
            let high = Signature::from_scalars(low.r(), -*low.s()).unwrap();
            let high_rs: [u8; 64] = high.to_bytes().into();
            for policy in [HighS::Refuse, HighS::Allow] {
                both(&digest, &high_rs, recovery ^ 1, policy);
            }
            let key = libsecp(&digest, &high_rs, recovery ^ 1, HighS::Allow);
            prop_assert_eq!(key, k256(&digest, &rs, recovery, HighS::Refuse));
        }

        #[test]
        fn backends_agree_on_any_bytes(digest: [u8; 32], r: [u8; 32], s: [u8; 32], recovery in 0u8..6) {
            let mut rs = [0u8; 64];
            rs[..32].copy_from_slice(&r);
            rs[32..].copy_from_slice(&s);
            for policy in [HighS::Refuse, HighS::Allow] {
                both(&digest, &rs, recovery, policy);
            }
        }
    }

    #[test]
    fn edge_signatures_give_the_same_error() {
        let digest = [7u8; 32];
        let order = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
            .unwrap();
        let mut cases = vec![[0u8; 64], [0xff; 64]];
        let mut at_order = [1u8; 64];
        at_order[..32].copy_from_slice(&order);
        cases.push(at_order);
        let mut s_at_order = [1u8; 64];
        s_at_order[32..].copy_from_slice(&order);
        cases.push(s_at_order);
        // An r above n − p's bound with recovery ids 2 and 3 (x reduced) must fail alike.
        let mut high_r = [0u8; 64];
        high_r[..32].copy_from_slice(&order);
        high_r[31] -= 1;
        high_r[63] = 1;
        cases.push(high_r);
        for rs in &cases {
            for recovery in 0..5 {
                both(&digest, rs, recovery, HighS::Allow);
            }
        }
    }
}
