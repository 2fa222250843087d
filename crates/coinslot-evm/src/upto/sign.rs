//! The client side of `upto`: a Permit2 authorization of the offer's maximum, which only the
//! offer's facilitator may settle.

use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use alloy::signers::Signer;
use coinslot_core::{
    BoxFuture, JsonObject, PaymentPayload, PaymentRequirements, ResourceInfo, Result, SchemeClient,
};

use super::SCHEME;
use crate::clock::{VALID_AFTER_SKEW_SECS, unix_now};
use crate::permit2::{self, UptoWitness};
use crate::terms::{self, Terms, invalid};

/// Pays `upto` offers on any `eip155:*` network, signing with `S`: a Permit2 authorization of
/// the offer's `amount` (the most the server may charge) to `payTo`, settleable only by
/// `extra.facilitatorAddress`. The payer must have let Permit2 move the token once
/// (`approve(PERMIT2, …)`).
///
/// ```no_run
/// use alloy::signers::local::PrivateKeySigner;
/// use coinslot_core::SchemeClient;
/// use coinslot_evm::upto::UptoEvmClient;
///
/// let client = UptoEvmClient::new(PrivateKeySigner::random());
/// assert_eq!(client.scheme(), "upto");
/// ```
#[derive(Debug, Clone)]
pub struct UptoEvmClient<S> {
    signer: S,
    /// Reads the payer's allowance to Permit2 (and the token's EIP-2612 nonce, or the payer's
    /// nonce and the fees), to sign the gas-sponsoring extension a 402 offers.
    provider: Option<DynProvider>,
}

impl<S> UptoEvmClient<S> {
    crate::permit2::client_builders!();
}

/// The offer and the facilitator it names, the only one that may settle.
fn read_offer(requirements: &PaymentRequirements) -> Result<(Terms, Address)> {
    let terms = terms::read(requirements, SCHEME)?;
    let facilitator = terms::extra(requirements, "facilitatorAddress")
        .ok_or_else(|| invalid("extra.facilitatorAddress (who may settle) is missing"))?;
    Ok((
        terms,
        terms::address("extra.facilitatorAddress", facilitator)?,
    ))
}

impl<S: Signer + Send + Sync> SchemeClient for UptoEvmClient<S> {
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
            let (terms, facilitator) = read_offer(requirements)?;
            let now = unix_now();
            let witness = UptoWitness {
                to: terms.pay_to,
                facilitator,
                valid_after: U256::from(now.saturating_sub(VALID_AFTER_SKEW_SECS)),
            };
            let deadline = U256::from(now.saturating_add(requirements.max_timeout_seconds));
            let payload = permit2::sign(
                &self.signer,
                terms.chain_id,
                terms.asset,
                requirements.amount.as_u256(),
                deadline,
                witness,
            )
            .await?;
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
