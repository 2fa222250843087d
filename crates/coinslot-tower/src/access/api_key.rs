//! [`ApiKeys`]: prepaid API keys, charged per call.

use coinslot_core::BoxFuture;
use http::header::AUTHORIZATION;
use http::{HeaderName, StatusCode};

use super::store::{AccessStore, ApiKeyDigest, Debit};
use super::{Access, AccessGrant, AccessPolicy, AccessRequest, Rejection};
use crate::error::Result;

/// The header an API key is sent in, besides `Authorization: Bearer <key>`.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// Prepaid API keys: a request with a key (`X-API-Key: <key>` or `Authorization: Bearer <key>`)
/// is charged `cost` credits from the key's balance and served without a payment.
///
/// - a known key with enough credit: served, charged; given back if the server answers 5xx;
/// - a known key whose balance is too low: the request goes on to x402 (the 402 lets the client
///   pay for this call instead);
/// - an unknown key: 401 `{"error": "unknown API key"}`;
/// - no key: the next policy, then x402.
///
/// Keys are issued by crediting them in the store ([`AccessStore::credit`]); the store keeps
/// their SHA-256 digests only.
#[derive(Debug, Clone)]
pub struct ApiKeys<S> {
    store: S,
    cost: u64,
}

impl<S: AccessStore> ApiKeys<S> {
    /// Keys whose balances live in `store`, charged `cost` credits per call.
    pub const fn new(store: S, cost: u64) -> Self {
        Self { store, cost }
    }

    fn key<'a>(request: &AccessRequest<'a>) -> Option<&'a str> {
        let headers = &request.parts.headers;
        if let Some(value) = headers.get(API_KEY_HEADER) {
            return value.to_str().ok();
        }
        let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

impl<S: AccessStore> AccessPolicy for ApiKeys<S> {
    fn check<'a>(&'a self, request: AccessRequest<'a>) -> BoxFuture<'a, Result<Access>> {
        Box::pin(async move {
            let Some(key) = Self::key(&request) else {
                return Ok(Access::Continue);
            };
            let digest = ApiKeyDigest::of(key);
            Ok(match self.store.debit(&digest, self.cost).await? {
                Debit::Charged { remaining } => Access::Grant(AccessGrant {
                    policy: "api_key",
                    client: digest.to_hex(),
                    charged: self.cost,
                    remaining,
                }),
                Debit::Insufficient { .. } => Access::Continue,
                Debit::UnknownKey => Access::Refuse(Rejection::new(
                    StatusCode::UNAUTHORIZED,
                    "unknown API key".to_owned(),
                )),
            })
        })
    }

    fn finished<'a>(
        &'a self,
        grant: &'a AccessGrant,
        status: StatusCode,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if status.is_server_error() && grant.charged > 0 {
                // The client was charged for an answer it did not get.
                if let Some(digest) = decode_hex(&grant.client) {
                    self.store.credit(&digest, grant.charged).await?;
                }
            }
            Ok(())
        })
    }
}

fn decode_hex(hex: &str) -> Option<ApiKeyDigest> {
    let mut bytes = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(ApiKeyDigest::from_bytes(bytes))
}
