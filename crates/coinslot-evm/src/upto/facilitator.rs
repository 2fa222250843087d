//! [`UptoEvmFacilitator`]: `upto` payments verified against their maximum and settled for the
//! charge, on one chain.

use std::sync::Arc;

use alloy::primitives::{Address, U256};
use coinslot_core::{
    BoxFuture, ErrorReason, JsonObject, Network, PaymentId, PaymentParts, Refusal, Result,
    SchemeFacilitator, SettleRequest, SettleResponse, TokenAmount, VerifyRequest, VerifyResponse,
};

use super::SCHEME;
use crate::chain::{Checked, EvmChain};
use crate::clock::unix_now;
use crate::permit2::{
    AmountRule, Permit2Payload, Signed, Terms, UptoWitness, check_chain, check_payer_signature,
    check_terms,
};
use crate::policy::{Policy, listed_extensions};
use crate::wire::claimed_payer;

/// The reason for a settlement mined and failed.
const FAILED: ErrorReason = ErrorReason::InvalidUptoEvmTransactionFailed;

/// Verifies and settles `upto` payments on the chain of an [`EvmChain`], through the x402
/// `upto` Permit2 proxy.
///
/// `/verify` checks the payment against its maximum, in the reference order: scheme and
/// network, spender, `witness.to`, `witness.facilitator` (one of this chain's keys), deadline
/// (at least 6 s left), `validAfter`, `permitted.amount == amount`, token, the signature (a
/// key's, an ERC-1271 wallet's, an ERC-6492 wallet's from an allowed factory), then the proxy's
/// `settle` of the maximum simulated as `witness.facilitator`; when that fails, the nonce,
/// Permit2's allowance (`permit2_allowance_required`) and the balance say why.
///
/// `/settle` takes the charge in `paymentRequirements.amount` and checks as the spec's
/// settle-time verification says: the signature against the permitted maximum, the charge at
/// most that maximum, then moves exactly the charge from `witness.facilitator`'s key. A charge
/// of 0 sends nothing and answers success with `transaction: ""`. Every answer carries
/// `amount`.
///
/// `/supported` publishes the first key as `extra.facilitatorAddress`, which payers put in
/// `witness.facilitator`.
#[derive(Debug, Clone)]
pub struct UptoEvmFacilitator {
    chain: Arc<EvmChain>,
    policy: Policy,
}

impl UptoEvmFacilitator {
    /// Settles on `chain` (shared with the other schemes of that chain, so they share its keys'
    /// nonce managers).
    pub fn new(chain: Arc<EvmChain>) -> Self {
        Self {
            chain,
            policy: Policy::default(),
        }
    }

    crate::policy::policy_options!();

    /// `upto` on the chain at `rpc_url`, settling with `keys`, in one call (see
    /// [`ExactEvmFacilitator::connect`](crate::exact::ExactEvmFacilitator::connect)).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub async fn connect<S>(rpc_url: &str, keys: impl IntoIterator<Item = S>) -> Result<Self>
    where
        S: alloy::network::TxSigner<alloy::primitives::Signature> + Send + Sync + 'static,
    {
        let chain = EvmChain::http(rpc_url)?.with_signers(keys).build().await?;
        Ok(Self::new(Arc::new(chain)))
    }

    /// The chain.
    pub fn chain(&self) -> &EvmChain {
        &self.chain
    }

    /// The address payers name in `witness.facilitator`: the first key.
    pub fn facilitator_address(&self) -> Address {
        self.chain.caller()
    }

    /// Scheme, network, payload shape, `witness.facilitator`, token, then the Permit2 terms
    /// under `rule`.
    fn terms(
        &self,
        parts: &PaymentParts<'_>,
        rule: AmountRule,
    ) -> Result<Terms<UptoWitness>, Refusal> {
        let network = self.chain.network();
        let requirements = &parts.requirements;
        if parts.scheme != SCHEME || requirements.scheme != SCHEME {
            return Err(Refusal::new(ErrorReason::InvalidUptoEvmScheme));
        }
        if parts.network != parts.requirements_network || requirements.network != network {
            return Err(Refusal::with(
                ErrorReason::InvalidUptoEvmNetworkMismatch,
                format!("this facilitator settles on {network}"),
            ));
        }
        let payload = Permit2Payload::<UptoWitness>::from_object(parts.payload).map_err(|e| {
            Refusal::with(
                ErrorReason::InvalidPayload,
                format!("not an upto Permit2 payload: {e}"),
            )
        })?;
        let facilitator = payload.permit2_authorization.witness.facilitator;
        if !self.chain.has_signer(facilitator) {
            return Err(Refusal::with(
                ErrorReason::UptoFacilitatorMismatch,
                format!("{facilitator} is not a key of this facilitator"),
            ));
        }
        if let Ok(asset) = requirements.asset.parse::<Address>() {
            self.policy.check_asset(asset)?;
        }
        check_terms(
            self.chain.chain_id(),
            payload,
            requirements,
            rule,
            unix_now(),
        )
    }

    /// The terms under `rule`, then the signature.
    async fn signed(
        &self,
        request: &VerifyRequest,
        rule: AmountRule,
    ) -> Checked<Signed<UptoWitness>> {
        let parts = match parts_of(request) {
            Ok(parts) => parts,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let terms = match self.terms(&parts, rule) {
            Ok(terms) => terms,
            Err(refusal) => return Ok(Err(refusal)),
        };
        check_payer_signature(
            &self.chain,
            &self.policy,
            terms,
            parts.extensions,
            unix_now(),
        )
        .await
    }

    /// Every check of `verify`: the maximum simulated last.
    async fn check(&self, request: &VerifyRequest) -> Checked<Address> {
        let signed = match self.signed(request, AmountRule::Exactly).await? {
            Ok(signed) => signed,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let a = &signed.payload.permit2_authorization;
        let checked = check_chain(
            &self.chain,
            a.witness.facilitator,
            &signed,
            a.permitted.amount,
        )
        .await?;
        Ok(checked.map(|()| a.from))
    }

    /// Settle-time verification (the charge at most the signed maximum), then the charge.
    async fn settle_checked(
        &self,
        request: &SettleRequest,
        network: Network,
    ) -> Result<SettleResponse> {
        let signed = match self.signed(request, AmountRule::AtMost).await? {
            Ok(signed) => signed,
            Err(refusal) => {
                let mut response = refusal.into_settle(network, claimed_payer(request.payload()));
                response.amount = Some(TokenAmount::ZERO);
                return Ok(response);
            }
        };
        let charge = request.amount().as_u256();
        if charge == U256::ZERO {
            // Nothing to move: no transaction, and the permit stays unused on chain (the
            // facilitator's store keeps it from being settled again).
            let payer = signed.payload.permit2_authorization.from.to_checksum(None);
            let mut response = SettleResponse::success("", network, payer);
            response.amount = Some(TokenAmount::ZERO);
            return Ok(response);
        }
        crate::permit2::send(&self.chain, &signed, charge, network, FAILED).await
    }
}

impl SchemeFacilitator for UptoEvmFacilitator {
    fn scheme(&self) -> &str {
        SCHEME
    }

    fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
        Box::pin(async move {
            Ok(match self.check(request).await? {
                Ok(payer) => VerifyResponse::valid(payer.to_checksum(None)),
                Err(refusal) => refusal.into_verify(claimed_payer(request.payload())),
            })
        })
    }

    fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>> {
        Box::pin(async move {
            let network = request.network().unwrap_or_else(|_| self.chain.network());
            self.settle_checked(request, network).await
        })
    }

    fn confirm<'a>(
        &'a self,
        request: &'a SettleRequest,
        pending: &'a SettleResponse,
    ) -> BoxFuture<'a, Result<SettleResponse>> {
        Box::pin(async move {
            match Permit2Payload::<UptoWitness>::from_object(request.payload()) {
                Ok(payload) => {
                    crate::permit2::confirm(&self.chain, &payload, pending, FAILED, unix_now())
                        .await
                }
                Err(_) => Ok(pending.clone()),
            }
        })
    }

    fn supported_extra(&self, network: &Network) -> Option<JsonObject> {
        (*network == self.chain.network()).then(|| {
            JsonObject::from_iter([(
                "facilitatorAddress".to_owned(),
                self.facilitator_address().to_checksum(None).into(),
            )])
        })
    }

    fn extensions(&self) -> Vec<String> {
        listed_extensions(&self.policy)
    }

    fn signers(&self) -> Vec<String> {
        self.chain
            .signer_addresses()
            .iter()
            .map(|a| a.to_checksum(None))
            .collect()
    }

    fn networks(&self) -> Vec<Network> {
        vec![self.chain.network()]
    }

    /// `upto` is a v2 scheme: v1 never had it.
    fn x402_versions(&self) -> &'static [u8] {
        &[2]
    }

    /// Permit2's (payer, nonce): see [`payment_id`].
    fn payment_id(&self, request: &VerifyRequest) -> PaymentId {
        payment_id(request).unwrap_or_else(|| PaymentId::of_payload(request))
    }
}

/// The [`PaymentId`] of an `upto` payment: that of
/// [`permit2::payment_id`](crate::permit2::payment_id), the same whatever the charge. `None` for
/// another scheme or network, or a payload that does not parse.
pub fn payment_id(request: &VerifyRequest) -> Option<PaymentId> {
    let network = request.network().ok()?;
    if request.scheme() != SCHEME || network.eip155_chain_id().is_none() {
        return None;
    }
    let payload = Permit2Payload::<UptoWitness>::from_object(request.payload()).ok()?;
    Some(crate::permit2::payment_id(&network, &payload))
}

/// The request seen one way whatever its version; a v1 requirement whose network name is
/// unknown is refused.
fn parts_of(request: &VerifyRequest) -> Result<PaymentParts<'_>, Refusal> {
    request
        .parts()
        .map_err(|e| Refusal::with(ErrorReason::InvalidUptoEvmNetworkMismatch, e.to_string()))
}
