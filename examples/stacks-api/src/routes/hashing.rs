//! `POST /hashing/{sha256,sha512,sha512-256,keccak256,hash160,ripemd160}`: a digest of text or
//! bytes. SHA-512/256 is the NIST one (its own initial values), not SHA-512 cut short.

use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest as _;
use utoipa::ToSchema;

use crate::caller::Caller;
use crate::error::{ApiError, Body, ErrorBody};
use crate::routes::reply;

/// What to hash.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HashRequest {
    /// UTF-8 text, or bytes as hex after `0x`.
    pub data: String,
    /// How the digest is written: `hex` (`0x…`, the default) or `base64`.
    #[serde(default)]
    #[schema(pattern = "^(hex|base64)$")]
    pub encoding: Option<String>,
}

/// A digest.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HashResponse {
    /// The digest, `0x…` or base64.
    pub hash: String,
    /// The algorithm's name.
    pub algorithm: String,
    /// `hex` or `base64`.
    pub encoding: String,
    /// The bytes hashed.
    pub input_length: usize,
}

/// A digest the service computes.
#[derive(Debug, Clone, Copy)]
pub enum Algorithm {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
    /// SHA-512/256, FIPS 180-4's (its own initial values).
    Sha512_256,
    /// Ethereum's Keccak-256 (not SHA3-256).
    Keccak256,
    /// RIPEMD-160 of SHA-256.
    Hash160,
    /// RIPEMD-160.
    Ripemd160,
}

impl Algorithm {
    const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha512 => "SHA-512",
            Self::Sha512_256 => "SHA-512/256",
            Self::Keccak256 => "Keccak-256",
            Self::Hash160 => "Hash160",
            Self::Ripemd160 => "RIPEMD-160",
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
            Self::Sha512_256 => sha2::Sha512_256::digest(data).to_vec(),
            Self::Keccak256 => coinslot::evm::alloy::primitives::keccak256(data).to_vec(),
            Self::Hash160 => ripemd::Ripemd160::digest(sha2::Sha256::digest(data)).to_vec(),
            Self::Ripemd160 => ripemd::Ripemd160::digest(data).to_vec(),
        }
    }
}

/// The digest of `request` with `algorithm`: the handlers' work, without the service
/// around it (the benchmarks' bare handler serves it alone).
pub fn digest_of(algorithm: Algorithm, request: HashRequest) -> Result<HashResponse, ApiError> {
    let data = match request.data.strip_prefix("0x") {
        Some(hex) => hex::decode(hex)
            .map_err(|e| ApiError::bad_request(format!("data: 0x… is not hex: {e}")))?,
        None => request.data.into_bytes(),
    };
    let digest = algorithm.digest(&data);
    let (hash, encoding) = match request.encoding.as_deref() {
        None | Some("hex") => (format!("0x{}", hex::encode(&digest)), "hex"),
        Some("base64") => (
            base64::engine::general_purpose::STANDARD.encode(&digest),
            "base64",
        ),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "encoding {other:?}: use hex or base64"
            )));
        }
    };
    Ok(HashResponse {
        hash,
        algorithm: algorithm.name().to_owned(),
        encoding: encoding.to_owned(),
        input_length: data.len(),
    })
}

macro_rules! hash_route {
    ($handler:ident, $path:literal, $algorithm:expr, $summary:literal) => {
        #[doc = $summary]
        #[utoipa::path(post, path = $path, tag = "hashing", summary = $summary,
                    request_body = HashRequest,
                    responses((status = 200, body = HashResponse), (status = 400, body = ErrorBody)))]
        pub async fn $handler(
            caller: Caller,
            Body(request): Body<HashRequest>,
        ) -> Result<Json<Value>, ApiError> {
            digest_of($algorithm, request).map(|digest| reply(&caller, digest))
        }
    };
}

hash_route!(
    sha256,
    "/hashing/sha256",
    Algorithm::Sha256,
    "SHA-256 of the data"
);
hash_route!(
    sha512,
    "/hashing/sha512",
    Algorithm::Sha512,
    "SHA-512 of the data"
);
hash_route!(
    sha512_256,
    "/hashing/sha512-256",
    Algorithm::Sha512_256,
    "SHA-512/256 (FIPS 180-4) of the data"
);
hash_route!(
    keccak256,
    "/hashing/keccak256",
    Algorithm::Keccak256,
    "Keccak-256 (Ethereum's) of the data"
);
hash_route!(
    hash160,
    "/hashing/hash160",
    Algorithm::Hash160,
    "RIPEMD-160 of SHA-256 of the data"
);
hash_route!(
    ripemd160,
    "/hashing/ripemd160",
    Algorithm::Ripemd160,
    "RIPEMD-160 of the data"
);

#[cfg(test)]
mod tests {
    use super::Algorithm;

    fn hex(algorithm: Algorithm, data: &[u8]) -> String {
        hex::encode(algorithm.digest(data))
    }

    /// FIPS 180-4's examples (NIST CSRC "SHA512_256.pdf"), and the value the reference
    /// service gets wrong.
    #[test]
    fn sha512_256_is_nists() {
        assert_eq!(
            hex(Algorithm::Sha512_256, b"abc"),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
        assert_eq!(
            hex(
                Algorithm::Sha512_256,
                b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
            ),
            "3928e184fb8690f840da3988121d31be65cb9d3ef83ee6146feac861e19b563a"
        );
        assert_eq!(
            hex(Algorithm::Sha512_256, b"hello world"),
            "0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017"
        );
    }

    #[test]
    fn the_other_digests_of_abc() {
        assert_eq!(
            hex(Algorithm::Sha256, b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hex(Algorithm::Sha512, b"abc").starts_with("ddaf35a193617aba"));
        assert_eq!(
            hex(Algorithm::Keccak256, b""),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(
            hex(Algorithm::Ripemd160, b"abc"),
            "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
        );
        assert_eq!(
            hex(Algorithm::Hash160, b"abc"),
            "bb1be98c142444d7a56aa3981c3942a978e4dc33"
        );
    }
}
