//! The client side of `exact` with EIP-3009.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, U256};
use alloy::signers::Signer;
use alloy::sol_types::Eip712Domain;
use coinslot_core::{BoxFuture, Error, JsonObject, PaymentRequirements, Result, SchemeClient};

use super::SCHEME;
use super::types::{Authorization, ExactEvmPayload, TransferWithAuthorization};

/// How far back `validAfter` is set, so that a payer's clock running ahead of the chain's does
/// not make the authorization "not yet valid" (the reference clients use the same 10 minutes).
const VALID_AFTER_SKEW_SECS: u64 = 600;

/// Pays `exact` requirements on any `eip155:*` network with EIP-3009, signing with `S`.
///
/// ```no_run
/// use alloy::signers::local::PrivateKeySigner;
/// use coinslot_core::SchemeClient;
/// use coinslot_evm::exact::ExactEvmClient;
///
/// let client = ExactEvmClient::new(PrivateKeySigner::random());
/// assert_eq!(client.scheme(), "exact");
/// ```
#[derive(Debug, Clone)]
pub struct ExactEvmClient<S> {
    signer: S,
}

/// The parts of a requirement that EIP-3009 signing needs, checked.
struct Terms {
    chain_id: u64,
    asset: Address,
    pay_to: Address,
    name: String,
    version: String,
}

impl<S> ExactEvmClient<S> {
    /// A client that signs with `signer`.
    pub const fn new(signer: S) -> Self {
        Self { signer }
    }

    /// The signer.
    pub const fn signer(&self) -> &S {
        &self.signer
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidRequirements {
        reason: reason.into(),
    }
}

fn terms(requirements: &PaymentRequirements) -> Result<Terms> {
    if requirements.scheme != SCHEME {
        return Err(invalid(format!(
            "scheme {:?} is not exact",
            requirements.scheme
        )));
    }
    let chain_id = requirements
        .network
        .eip155_chain_id()
        .ok_or_else(|| invalid(format!("{} is not an eip155 network", requirements.network)))?;
    let extra = requirements.extra.as_ref();
    let field = |name: &str| {
        extra
            .and_then(|extra| extra.get(name))
            .and_then(|value| value.as_str())
            .map(str::to_owned)
    };
    match field("assetTransferMethod").as_deref() {
        None | Some("eip3009") => {}
        Some(other) => {
            return Err(invalid(format!(
                "assetTransferMethod {other:?} is not eip3009"
            )));
        }
    }
    let address = |what: &str, text: &str| {
        text.parse::<Address>()
            .map_err(|_| invalid(format!("{what} {text:?} is not an EVM address")))
    };
    Ok(Terms {
        chain_id,
        asset: address("asset", &requirements.asset)?,
        pay_to: address("payTo", &requirements.pay_to)?,
        name: field("name")
            .ok_or_else(|| invalid("extra.name (the token's EIP-712 name) is missing"))?,
        version: field("version")
            .ok_or_else(|| invalid("extra.version (the token's EIP-712 version) is missing"))?,
    })
}

fn unix_now() -> u64 {
    // A clock before 1970 is treated as 1970: the authorization then fails verification
    // with a clear reason instead of this client panicking.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl<S: Signer + Send + Sync> SchemeClient for ExactEvmClient<S> {
    fn scheme(&self) -> &str {
        SCHEME
    }

    fn payer(&self) -> String {
        self.signer.address().to_checksum(None)
    }

    fn can_pay(&self, requirements: &PaymentRequirements) -> bool {
        terms(requirements).is_ok()
    }

    fn create_payload<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
    ) -> BoxFuture<'a, Result<JsonObject>> {
        Box::pin(async move {
            let terms = terms(requirements)?;
            let now = unix_now();
            let authorization = Authorization {
                from: self.signer.address(),
                to: terms.pay_to,
                value: requirements.amount.as_u256(),
                valid_after: U256::from(now.saturating_sub(VALID_AFTER_SKEW_SECS)),
                valid_before: U256::from(now.saturating_add(requirements.max_timeout_seconds)),
                nonce: B256::random(),
            };
            let domain = Eip712Domain::new(
                Some(terms.name.into()),
                Some(terms.version.into()),
                Some(U256::from(terms.chain_id)),
                Some(terms.asset),
                None,
            );
            let signature = self
                .signer
                .sign_typed_data(&TransferWithAuthorization::from(&authorization), &domain)
                .await
                .map_err(|e| Error::signing("could not sign the EIP-3009 authorization", e))?;
            let payload = ExactEvmPayload {
                signature: signature.as_bytes().to_vec().into(),
                authorization,
            };
            Ok(serde_json::from_value(serde_json::to_value(payload)?)?)
        })
    }
}
