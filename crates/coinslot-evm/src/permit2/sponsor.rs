//! The payer's side of gas sponsoring: which extension, if any, a Permit2 payment carries for a
//! payer who has not approved Permit2. The token's EIP-2612 permit when the 402 offers
//! `eip2612GasSponsoring` and names the token's domain (no transaction at all), else a signed
//! `approve` when it offers `erc20ApprovalGasSponsoring` (any ERC-20).

use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use alloy::signers::Signer;
use coinslot_core::{JsonObject, PaymentPayload, PaymentRequirements, ResourceInfo, Result};

use super::eip2612::{EIP2612_GAS_SPONSORING, sign_permit};
use super::erc20_approval::{ERC20_APPROVAL_GAS_SPONSORING, sign_approval};

/// The constructor and builder methods both EVM clients share (a type with the fields
/// `signer: S` and `provider: Option<DynProvider>`).
macro_rules! client_builders {
    () => {
        /// A client that signs with `signer`.
        pub const fn new(signer: S) -> Self {
            Self {
                signer,
                provider: None,
            }
        }

        /// Lets the client read the chain through `provider`, so that when a 402 offers gas
        /// sponsoring and the payer has not approved Permit2 for the token, it signs what the
        /// offer sponsors with the payment: the token's EIP-2612 permit for Permit2
        /// (`eip2612GasSponsoring`, when the offer names the token's domain) or its
        /// `approve(Permit2, max)` transaction (`erc20ApprovalGasSponsoring`). The facilitator
        /// submits it, and the payer needs no gas. Without a provider such a payment is
        /// answered `permit2_allowance_required`.
        #[must_use]
        pub fn with_provider(mut self, provider: alloy::providers::DynProvider) -> Self {
            self.provider = Some(provider);
            self
        }

        /// The signer.
        pub const fn signer(&self) -> &S {
            &self.signer
        }
    };
}
pub(crate) use client_builders;

/// `payload` as a payment, with a gas-sponsoring extension when the 402 offers one
/// (`offered`), `provider` can read the chain, the payload is a Permit2 one and the payer's
/// allowance to Permit2 is short of the permitted amount. An EIP-2612 permit expires with the
/// Permit2 authorization.
pub(crate) async fn payment_with_sponsorship<S: Signer + Send + Sync>(
    signer: &S,
    provider: Option<&DynProvider>,
    requirements: &PaymentRequirements,
    resource: Option<&ResourceInfo>,
    offered: Option<&JsonObject>,
    payload: JsonObject,
) -> Result<PaymentPayload> {
    let extensions = match (provider, offered) {
        (Some(provider), Some(offered)) => {
            sponsorship(signer, provider, requirements, &payload, offered).await?
        }
        _ => None,
    };
    let mut payment = PaymentPayload::new(requirements.clone(), payload, resource.cloned());
    payment.extensions = extensions;
    Ok(payment)
}

/// The extension for `payload`'s Permit2 authorization, as the payment's extensions.
async fn sponsorship<S: Signer + Send + Sync>(
    signer: &S,
    provider: &DynProvider,
    requirements: &PaymentRequirements,
    payload: &JsonObject,
    offered: &JsonObject,
) -> Result<Option<JsonObject>> {
    let permit = offered.contains_key(EIP2612_GAS_SPONSORING);
    let approval = offered.contains_key(ERC20_APPROVAL_GAS_SPONSORING);
    let Some(chain_id) = requirements.network.eip155_chain_id() else {
        return Ok(None);
    };
    if !(permit || approval) {
        return Ok(None);
    }
    let Some(authorization) = payload.get("permit2Authorization") else {
        return Ok(None);
    };
    let number =
        |value: &serde_json::Value| value.as_str().and_then(|text| text.parse::<U256>().ok());
    let (Some(token), Some(amount), Some(deadline)) = (
        authorization["permitted"]["token"]
            .as_str()
            .and_then(|token| token.parse::<Address>().ok()),
        number(&authorization["permitted"]["amount"]),
        number(&authorization["deadline"]),
    ) else {
        return Ok(None);
    };
    // Unreadable, the allowance is taken as short: the facilitator checks it again anyway.
    let allowance = super::allowance(provider, token, signer.address()).await;
    if allowance.is_ok_and(|allowance| allowance >= amount) {
        return Ok(None);
    }
    let extension = |key: &str, info: serde_json::Value| {
        Some(JsonObject::from_iter([(
            key.to_owned(),
            serde_json::json!({ "info": info }),
        )]))
    };
    if permit
        && let Some(info) =
            sign_permit(signer, provider, requirements, token, amount, deadline).await?
    {
        return Ok(extension(EIP2612_GAS_SPONSORING, serde_json::json!(info)));
    }
    if approval {
        let info = sign_approval(signer, provider, chain_id, token).await?;
        return Ok(extension(
            ERC20_APPROVAL_GAS_SPONSORING,
            serde_json::json!(info),
        ));
    }
    Ok(None)
}
