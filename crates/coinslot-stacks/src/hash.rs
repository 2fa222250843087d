//! The hash functions Stacks uses: SHA-512/256 for txids and sighashes, Hash160 for addresses.

use ripemd::Ripemd160;
use sha2::{Digest, Sha256, Sha512_256};

/// SHA-512/256: transaction ids, sighashes.
pub(crate) fn sha512_256(data: &[u8]) -> [u8; 32] {
    Sha512_256::digest(data).into()
}

/// SHA-256: message hashes, SIP-018.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// RIPEMD-160 of SHA-256, as Bitcoin: the public key hash in an address.
pub(crate) fn hash160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(sha256(data)).into()
}

/// SHA-256 twice: the c32check checksum.
pub(crate) fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256(&sha256(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            hex::encode(sha512_256(b"")),
            "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"
        );
        assert_eq!(
            hex::encode(hash160(&[0u8; 33])),
            "29cfc6376255a78451eeb4b129ed8eacffa2feef"
        );
    }
}
