//! [`Caller`]: who a call is from and how it got in, from what the paywall left in the request:
//! a verified payment names its payer, a prepaid API key its account.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use coinslot::tower::VerifiedPayment;
use coinslot::tower::access::AccessGrant;

use crate::app::AppState;
use crate::error::ApiError;
use crate::usage::Billed;

/// How a call was paid for, as the `tokenType` of every answer says it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenType {
    /// STX (and the answer of a call not yet known to be paid).
    #[default]
    Stx,
    /// sBTC.
    Sbtc,
    /// USDCx.
    Usdcx,
    /// USDC on an EVM chain.
    Usdc,
    /// A prepaid API key's credit.
    ApiKey,
    /// The free tier.
    Free,
}

impl TokenType {
    /// Every kind, in the order of the documents.
    pub const ALL: [Self; 6] = [
        Self::Stx,
        Self::Sbtc,
        Self::Usdcx,
        Self::Usdc,
        Self::ApiKey,
        Self::Free,
    ];

    /// The name in answers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stx => "STX",
            Self::Sbtc => "sBTC",
            Self::Usdcx => "USDCx",
            Self::Usdc => "USDC",
            Self::ApiKey => "API_KEY",
            Self::Free => "FREE",
        }
    }

    fn of_token(name: &str) -> Self {
        match name {
            "STX" => Self::Stx,
            "sBTC" => Self::Sbtc,
            "USDCx" => Self::Usdcx,
            _ => Self::Usdc,
        }
    }
}

/// Whose data a call reads and writes: a payer's address or an API key's account. Its text
/// (`stx-SP…`, `evm-0x…`, `key-<sha256 hex>`) is ASCII letters, digits and one `-`, so that it
/// names a file and nothing else, whatever a facilitator reports as the payer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account(String);

impl Account {
    /// The account of a payer a facilitator reported: a Stacks address as it prints, an EVM
    /// address in lower case. Anything else has no account.
    pub fn of_payer(payer: &str) -> Option<Self> {
        if let Ok(address) = payer.parse::<coinslot::stacks::StacksAddress>() {
            return Some(Self(format!("stx-{address}")));
        }
        payer
            .parse::<coinslot::evm::alloy::primitives::Address>()
            .ok()
            .map(|address| Self(format!("evm-{}", hex::encode(address))))
    }

    /// The account of an API key, by its digest in hex.
    pub fn of_api_key(digest_hex: &str) -> Option<Self> {
        (digest_hex.len() == 64 && digest_hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(format!("key-{}", digest_hex.to_ascii_lowercase())))
    }

    /// Its text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who is calling, as the paywall let them in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Their account: absent for a free-tier call, which has none.
    pub account: Option<Account>,
    /// How the call is paid for.
    pub token: TokenType,
    /// What the call costs, in atomic units of the token (credits for an API key).
    pub amount: String,
}

impl Caller {
    /// The account whose data the call may touch; a call without one is refused.
    pub fn account(&self) -> Result<&Account, ApiError> {
        self.account.as_ref().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "storage needs an account: pay with x402 or send an API key",
            )
        })
    }

    /// Who the paywall let in, if anyone: a verified payment, or an access policy's grant.
    /// Handlers take it as an extractor, once [`name_caller`] has put it in the request.
    pub fn of_request(extensions: &Extensions, state: &AppState) -> Option<Self> {
        if let Some(payment) = extensions.get::<VerifiedPayment>() {
            let name = state.pricing.token_name(&payment.asset);
            return Some(Self {
                account: Account::of_payer(&payment.payer),
                token: TokenType::of_token(name),
                amount: payment.amount.to_string(),
            });
        }
        let grant = extensions.get::<AccessGrant>()?;
        let (account, token) = match grant.policy {
            "api_key" => (Account::of_api_key(&grant.client), TokenType::ApiKey),
            _ => (None, TokenType::Free),
        };
        Some(Self {
            account,
            token,
            amount: grant.charged.to_string(),
        })
    }
}

/// The caller [`name_caller`] named in the request.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Self>().cloned().ok_or_else(|| {
            // Every route that takes a caller is priced and marked: reaching it unpaid is our
            // mistake.
            ApiError::internal("a paid route ran without a payment", parts.uri.path())
        })
    }
}

/// Inside the paywall, around every paid route: works out who is calling once and names them
/// in the request (for the [`Caller`] extractor); answers a refusal naming how the call was
/// paid; notes a successful call in its response for [`crate::usage::record`].
pub async fn name_caller(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Some(caller) = Caller::of_request(&parts.extensions, &state) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    parts.extensions.insert(caller.clone());
    let endpoint = format!(
        "{} {}",
        parts.method,
        matched
            .as_ref()
            .map_or(parts.uri.path(), MatchedPath::as_str)
    );
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(refusal) = response.extensions().get::<ApiError>() {
        return refusal.answer(caller.token);
    }
    if response.status().as_u16() < 400 {
        response
            .extensions_mut()
            .insert(Billed::new(&caller, endpoint));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_name_files_and_nothing_else() {
        let stx = Account::of_payer("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM").unwrap();
        assert_eq!(
            stx.as_str(),
            "stx-ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
        );
        let evm = Account::of_payer("0x209693Bc6afc0C5328bA36FaF03C514EF312287C").unwrap();
        assert_eq!(evm.as_str(), "evm-209693bc6afc0c5328ba36faf03c514ef312287c");
        for hostile in ["../../etc/passwd", "ST1/../x", "", "0x12", "stx-ST1PQ"] {
            assert_eq!(Account::of_payer(hostile), None, "{hostile:?}");
        }
        assert!(Account::of_api_key(&"ab".repeat(32)).is_some());
        assert_eq!(Account::of_api_key("../ab"), None);
    }
}
