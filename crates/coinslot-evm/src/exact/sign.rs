//! The client side of `exact`: EIP-3009 when the offer names the token's EIP-712 domain,
//! Permit2 when it asks for it or names no domain.

use alloy::primitives::{B256, U256};
use alloy::providers::DynProvider;
use alloy::signers::Signer;
use alloy::sol_types::Eip712Domain;
use coinslot_core::{
    BoxFuture, Error, JsonObject, PaymentPayload, PaymentRequirements, ResourceInfo, Result,
    SchemeClient,
};

use super::SCHEME;
use super::types::{Authorization, ExactEvmPayload, TransferWithAuthorization};
use crate::clock::{VALID_AFTER_SKEW_SECS, unix_now};
use crate::permit2::{self, ExactWitness};
use crate::terms::{self, Terms, invalid};

/// Pays `exact` requirements on any `eip155:*` network, signing with `S`: with EIP-3009 when
/// the offer names the token's EIP-712 domain (`extra.name`, `extra.version`), with Permit2 when
/// it sets `extra.assetTransferMethod` to `"permit2"` or names no domain. A Permit2 payment
/// needs the payer to have let Permit2 move the token once (`approve(PERMIT2, …)`).
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
    /// Reads the payer's allowance to Permit2 (and the token's EIP-2612 nonce, or the payer's
    /// nonce and the fees), to sign the gas-sponsoring extension a 402 offers.
    provider: Option<DynProvider>,
}

/// How the payment moves the token.
enum Method {
    /// The token's own `transferWithAuthorization`, signed under its EIP-712 domain.
    Eip3009 { name: String, version: String },
    /// Permit2 and the x402 `exact` proxy: any ERC-20 the payer has let Permit2 move.
    Permit2,
}

impl<S> ExactEvmClient<S> {
    crate::permit2::client_builders!();
}

/// The offer and how to pay it: EIP-3009 when asked or when the offer names the token's
/// domain, else Permit2.
fn read_offer(requirements: &PaymentRequirements) -> Result<(Terms, Method)> {
    let terms = terms::read(requirements, SCHEME)?;
    let field = |name: &str| terms::extra(requirements, name).map(str::to_owned);
    let eip3009 = || -> Result<Method> {
        Ok(Method::Eip3009 {
            name: field("name")
                .ok_or_else(|| invalid("extra.name (the token's EIP-712 name) is missing"))?,
            version: field("version")
                .ok_or_else(|| invalid("extra.version (the token's EIP-712 version) is missing"))?,
        })
    };
    let method = match terms::extra(requirements, "assetTransferMethod") {
        Some("eip3009") => eip3009()?,
        Some("permit2") => Method::Permit2,
        // The spec's order: EIP-3009 when the offer names the token's domain, else Permit2.
        None => eip3009().unwrap_or(Method::Permit2),
        Some(other) => {
            return Err(invalid(format!(
                "assetTransferMethod {other:?} is neither eip3009 nor permit2"
            )));
        }
    };
    Ok((terms, method))
}

impl<S: Signer + Send + Sync> SchemeClient for ExactEvmClient<S> {
    fn scheme(&self) -> &str {
        SCHEME
    }

    fn payer(&self) -> String {
        self.signer.address().to_checksum(None)
    }

    fn can_pay(&self, requirements: &PaymentRequirements) -> bool {
        read_offer(requirements).is_ok()
    }

    fn create_payload<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
    ) -> BoxFuture<'a, Result<JsonObject>> {
        Box::pin(async move {
            let (terms, method) = read_offer(requirements)?;
            let now = unix_now();
            let amount = requirements.amount.as_u256();
            let valid_after = U256::from(now.saturating_sub(VALID_AFTER_SKEW_SECS));
            let valid_before = U256::from(now.saturating_add(requirements.max_timeout_seconds));
            let (name, version) = match method {
                Method::Eip3009 { name, version } => (name, version),
                Method::Permit2 => {
                    let witness = ExactWitness {
                        to: terms.pay_to,
                        valid_after,
                    };
                    let payload = permit2::sign(
                        &self.signer,
                        terms.chain_id,
                        terms.asset,
                        amount,
                        valid_before,
                        witness,
                    )
                    .await?;
                    return Ok(serde_json::from_value(serde_json::to_value(payload)?)?);
                }
            };
            let authorization = Authorization {
                from: self.signer.address(),
                to: terms.pay_to,
                value: amount,
                valid_after,
                valid_before,
                nonce: B256::random(),
            };
            let domain = Eip712Domain::new(
                Some(name.into()),
                Some(version.into()),
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

    fn create_payment_payload_with<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
        resource: Option<&'a ResourceInfo>,
        extensions: Option<&'a JsonObject>,
    ) -> BoxFuture<'a, Result<PaymentPayload>> {
        Box::pin(async move {
            let payload = self.create_payload(requirements).await?;
            let provider = self.provider.as_ref();
            permit2::payment_with_sponsorship(
                &self.signer,
                provider,
                requirements,
                resource,
                extensions,
                payload,
            )
            .await
        })
    }
}
