//! [`ExactEvmFacilitator`]: `exact` EIP-3009 payments verified and settled on one chain.

use std::sync::Arc;

use alloy::primitives::Address;
use coinslot_core::{
    BoxFuture, Network, PaymentId, Refusal, Result, SchemeFacilitator, SettleRequest,
    SettleResponse, VerifyRequest, VerifyResponse,
};

use super::SCHEME;
use super::permit2;
use super::settle;
use super::simulate;
use super::types::ExactEvmPayload;
use super::verify::{self, parts_of};
use crate::chain::{Checked, EvmChain};
use crate::clock::unix_now;
use crate::permit2::{ExactWitness, Permit2Payload, is_permit2};
use crate::policy::{Policy, listed_extensions};
use crate::signature::PayerSignature;
use crate::wire::claimed_payer;

/// Verifies and settles `exact` EIP-3009 payments on the chain of an [`EvmChain`].
///
/// ```no_run
/// # async fn f(provider: alloy::providers::DynProvider, key: alloy::signers::local::PrivateKeySigner) -> coinslot_core::Result<()> {
/// use std::sync::Arc;
/// use coinslot_core::SchemeFacilitator;
/// use coinslot_evm::EvmChain;
/// use coinslot_evm::exact::ExactEvmFacilitator;
///
/// let chain = Arc::new(EvmChain::builder(provider).with_signer(key).build().await?);
/// let exact = ExactEvmFacilitator::new(chain);
/// assert_eq!(exact.scheme(), "exact");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ExactEvmFacilitator {
    chain: Arc<EvmChain>,
    policy: Policy,
}

impl ExactEvmFacilitator {
    /// Settles on `chain` (shared with the other schemes of that chain, so they share its keys'
    /// nonce managers).
    pub fn new(chain: Arc<EvmChain>) -> Self {
        Self {
            chain,
            policy: Policy::default(),
        }
    }

    crate::policy::policy_options!();

    /// `exact` on the chain at `rpc_url`, settling with `keys`, in one call: the node is asked
    /// its chain id; the defaults hold for the rest (see [`EvmChain`] and [`crate::EvmChainBuilder`]
    /// to set a gas price cap, a receipt timeout or gas caps).
    ///
    /// ```no_run
    /// # async fn f() -> coinslot_core::Result<()> {
    /// use coinslot_evm::alloy::signers::local::PrivateKeySigner;
    /// use coinslot_evm::exact::ExactEvmFacilitator;
    ///
    /// let key: PrivateKeySigner = std::env::var("EVM_PRIVATE_KEY").unwrap().parse().unwrap();
    /// let exact = ExactEvmFacilitator::connect("https://sepolia.base.org", [key]).await?;
    /// # Ok(()) }
    /// ```
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

    /// The checks of [`verify`](SchemeFacilitator::verify) that need no node: scheme, network,
    /// EIP-712 domain, payload shape, the signature (recovering `from`, low s), recipient,
    /// time window, amount and asset. Answers `None` when the signature is not a key's
    /// signature of `from` (it may be a contract wallet's, which only the chain can check).
    ///
    /// A valid answer here is not a verified payment: the balance, the nonce's state and the
    /// transfer's simulation are read from the chain by `verify`. Use it to refuse bad
    /// payments cheaply before any RPC.
    pub fn verify_local(&self, request: &VerifyRequest) -> Option<VerifyResponse> {
        let chain_id = self.chain.chain_id();
        let checked = match parts_of(request) {
            Ok(parts) if is_permit2(parts.payload) => {
                permit2::check_locally(chain_id, &self.policy, &parts, unix_now())?
            }
            Ok(parts) => verify::check_payment_locally(chain_id, &self.policy, &parts, unix_now())?,
            Err(refusal) => Err(refusal),
        };
        Some(match checked {
            Ok(payer) => VerifyResponse::valid(payer.to_checksum(None)),
            Err(refusal) => invalid(refusal, request),
        })
    }

    /// Every check of `verify`: the local ones, then the chain's state and a simulation.
    async fn check(&self, request: &VerifyRequest) -> Checked<Address> {
        let parts = match parts_of(request) {
            Ok(parts) => parts,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if is_permit2(parts.payload) {
            return permit2::verify(&self.chain, &self.policy, &parts, unix_now()).await;
        }
        let verified =
            match verify::check_payment(&self.chain, &self.policy, &parts, unix_now()).await? {
                Ok(verified) => verified,
                Err(refusal) => return Ok(Err(refusal)),
            };
        let checked = simulate::check_chain(&self.chain, &verified, &parts.requirements).await?;
        Ok(checked.map(|()| verified.payload.authorization.from))
    }

    /// The local checks again, then the transfer. The chain's state is not read first: the
    /// gas estimate before sending runs the transfer, and a transfer that would revert is
    /// explained then, from the same reads `verify` makes. A wallet still to be deployed is
    /// checked in full beforehand, as its deployment costs gas.
    async fn settle_checked(
        &self,
        request: &SettleRequest,
        network: Network,
    ) -> Result<SettleResponse> {
        let refused = |refusal: Refusal| {
            Ok(refusal.into_settle(network.clone(), claimed_payer(request.payload())))
        };
        let parts = match parts_of(request) {
            Ok(parts) => parts,
            Err(refusal) => return refused(refusal),
        };
        if is_permit2(parts.payload) {
            return permit2::settle(&self.chain, &self.policy, &parts, network, unix_now()).await;
        }
        let verified =
            match verify::check_payment(&self.chain, &self.policy, &parts, unix_now()).await? {
                Ok(verified) => verified,
                Err(refusal) => return refused(refusal),
            };
        if let Err(refusal) = simulate::check_asset(&self.chain, verified.asset).await? {
            return refused(refusal);
        }
        if let PayerSignature::Counterfactual(_) = &verified.signature
            && let Err(refusal) = simulate::check_state(&self.chain, &verified).await?
        {
            return refused(refusal);
        }
        settle::send(&self.chain, &verified, network.clone()).await
    }
}

impl SchemeFacilitator for ExactEvmFacilitator {
    fn scheme(&self) -> &str {
        SCHEME
    }

    fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
        Box::pin(async move {
            Ok(match self.check(request).await? {
                Ok(payer) => VerifyResponse::valid(payer.to_checksum(None)),
                Err(refusal) => invalid(refusal, request),
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
            if is_permit2(request.payload()) {
                return match Permit2Payload::<ExactWitness>::from_object(request.payload()) {
                    Ok(payload) => {
                        crate::permit2::confirm(
                            &self.chain,
                            &payload,
                            pending,
                            permit2::FAILED,
                            unix_now(),
                        )
                        .await
                    }
                    Err(_) => Ok(pending.clone()),
                };
            }
            match asset_and_payload(request) {
                Some((asset, payload)) => {
                    settle::confirm(
                        &self.chain,
                        asset,
                        &payload.authorization,
                        pending,
                        unix_now(),
                    )
                    .await
                }
                None => Ok(pending.clone()),
            }
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

    /// EIP-3009: the token, the payer and the nonce (the token uses a nonce once); Permit2: the
    /// payer and the nonce (Permit2 uses an owner's nonce once). Either is the money movement
    /// itself, whatever else the payload says.
    fn payment_id(&self, request: &VerifyRequest) -> PaymentId {
        payment_id(request).unwrap_or_else(|| PaymentId::of_payload(request))
    }
}

/// The answer to a refused payment, naming the payer the payload claims.
fn invalid(refusal: Refusal, request: &VerifyRequest) -> VerifyResponse {
    refusal.into_verify(claimed_payer(request.payload()))
}

/// The [`PaymentId`] of an `exact` payment whatever its encoding: for EIP-3009 network, token,
/// payer and nonce (a token uses a nonce once), for Permit2 those of
/// [`permit2::payment_id`](crate::permit2::payment_id). `None` for another scheme or network,
/// or a payload that does not parse.
///
/// It needs no chain: a server in front of a remote facilitator gives it to
/// `HttpFacilitator::with_payment_ids` so that its replay guard knows the two `v` encodings of
/// one signature for one payment.
pub fn payment_id(request: &VerifyRequest) -> Option<PaymentId> {
    let network = request.network().ok()?;
    if request.scheme() != SCHEME || network.eip155_chain_id().is_none() {
        return None;
    }
    if is_permit2(request.payload()) {
        let payload = Permit2Payload::<ExactWitness>::from_object(request.payload()).ok()?;
        return Some(crate::permit2::payment_id(&network, &payload));
    }
    let (asset, payload) = asset_and_payload(request)?;
    Some(PaymentId::new(format!(
        "{SCHEME}/{network}/{asset:#x}/{:#x}/{:#x}",
        payload.authorization.from, payload.authorization.nonce
    )))
}

/// The token and the EIP-3009 payload of a request, when both parse.
fn asset_and_payload(request: &VerifyRequest) -> Option<(Address, ExactEvmPayload)> {
    let asset = parts_of(request)
        .ok()?
        .requirements
        .asset
        .parse::<Address>()
        .ok()?;
    let payload = ExactEvmPayload::from_object(request.payload()).ok()?;
    Some((asset, payload))
}
