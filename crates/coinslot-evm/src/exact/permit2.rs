//! `exact` over Permit2 (`extra.assetTransferMethod = "permit2"`, any ERC-20): the scheme's own
//! checks (kind, transfer method, the operator's tokens), then the [Permit2 checks](crate::permit2)
//! with the `exact` witness; settled through the `exact` proxy for the permitted amount.

use alloy::primitives::Address;
use coinslot_core::{ErrorReason, Network, PaymentParts, Refusal, Result, SettleResponse};

use super::verify::check_kind;
use crate::chain::{Checked, EvmChain};
use crate::permit2::{
    AmountRule, ExactWitness, Permit2Payload, Signed, Terms, check_chain, check_payer_signature,
    check_terms, signed_by_key,
};
use crate::policy::Policy;

/// The reason for a settlement mined and failed.
pub(super) const FAILED: ErrorReason = ErrorReason::InvalidExactEvmTransactionFailed;

/// Everything that needs no chain: kind, method, payload shape, token, then the Permit2 terms
/// (the permitted amount exactly the requirement's).
fn terms(
    chain_id: u64,
    policy: &Policy,
    parts: &PaymentParts<'_>,
    now: u64,
) -> Result<Terms<ExactWitness>, Refusal> {
    check_kind(chain_id, parts)?;
    let requirements = &parts.requirements;
    let method = requirements
        .extra
        .as_ref()
        .and_then(|extra| extra.get("assetTransferMethod"))
        .and_then(|method| method.as_str());
    if let Some(method) = method.filter(|m| *m != "permit2") {
        return Err(Refusal::with(
            ErrorReason::UnsupportedPayloadType,
            format!("the requirement asks for {method:?}, the payment is a Permit2 one"),
        ));
    }
    let payload = Permit2Payload::<ExactWitness>::from_object(parts.payload).map_err(|e| {
        Refusal::with(
            ErrorReason::InvalidPayload,
            format!("not a Permit2 payload: {e}"),
        )
    })?;
    if let Ok(asset) = requirements.asset.parse::<Address>() {
        policy.check_asset(asset)?;
    }
    check_terms(chain_id, payload, requirements, AmountRule::Exactly, now)
}

/// The checks without a chain, for a key's signature: `None` when only the chain can tell.
pub(super) fn check_locally(
    chain_id: u64,
    policy: &Policy,
    parts: &PaymentParts<'_>,
    now: u64,
) -> Option<Result<Address, Refusal>> {
    match terms(chain_id, policy, parts, now) {
        Ok(terms) => signed_by_key(&terms).map(|_| Ok(terms.payload.permit2_authorization.from)),
        Err(refusal) => Some(Err(refusal)),
    }
}

/// The terms and the signature: what settlement needs before it sends.
async fn signed(
    chain: &EvmChain,
    policy: &Policy,
    parts: &PaymentParts<'_>,
    now: u64,
) -> Checked<Signed<ExactWitness>> {
    match terms(chain.chain_id(), policy, parts, now) {
        Ok(terms) => check_payer_signature(chain, policy, terms, parts.extensions, now).await,
        Err(refusal) => Ok(Err(refusal)),
    }
}

/// Every check of `verify`, the proxy's `settle` simulated last.
pub(super) async fn verify(
    chain: &EvmChain,
    policy: &Policy,
    parts: &PaymentParts<'_>,
    now: u64,
) -> Checked<Address> {
    let signed = match signed(chain, policy, parts, now).await? {
        Ok(signed) => signed,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let a = &signed.payload.permit2_authorization;
    let checked = check_chain(chain, chain.caller(), &signed, a.permitted.amount).await?;
    Ok(checked.map(|()| a.from))
}

/// The local checks and the signature again, then the proxy's `settle` of the permitted amount.
pub(super) async fn settle(
    chain: &EvmChain,
    policy: &Policy,
    parts: &PaymentParts<'_>,
    network: Network,
    now: u64,
) -> Result<SettleResponse> {
    let signed = match signed(chain, policy, parts, now).await? {
        Ok(signed) => signed,
        Err(refusal) => {
            let payer = crate::wire::claimed_payer(parts.payload);
            return Ok(refusal.into_settle(network, payer));
        }
    };
    let amount = signed.payload.permit2_authorization.permitted.amount;
    crate::permit2::send(chain, &signed, amount, network, FAILED).await
}
