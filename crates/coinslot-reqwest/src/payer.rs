//! [`Payer`]: reads a 402, picks an offer the policy allows, signs it, and reads the receipt.

use std::fmt;
use std::sync::Arc;

use coinslot_core::header::{MAX_HEADER_LEN, decode_json};
use coinslot_core::v1::{PaymentPayloadV1, PaymentRequiredV1, SettleResponseV1};
use coinslot_core::{
    BoxFuture, ErrorReason, JsonObject, Network, PaymentRequired, PaymentRequirements,
    ResourceInfo, SchemeClient, SettleResponse,
};
use http::{HeaderName, HeaderValue};
use reqwest::{Request, Response, StatusCode};

use crate::error::{Error, OfferRefusal, RefusalReason, Result};
use crate::policy::{Allowed, Budget, Reservation, SpendingPolicy};

// The spec's header names (`coinslot_core::header`), lowercase as `HeaderName` wants them.
const PAYMENT_REQUIRED: HeaderName = HeaderName::from_static("payment-required");
const PAYMENT_SIGNATURE: HeaderName = HeaderName::from_static("payment-signature");
const PAYMENT_RESPONSE: HeaderName = HeaderName::from_static("payment-response");
const X_PAYMENT: HeaderName = HeaderName::from_static("x-payment");
const X_PAYMENT_RESPONSE: HeaderName = HeaderName::from_static("x-payment-response");

/// What the approval hook is asked about: the offer about to be signed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Proposal {
    /// The offer.
    pub requirements: PaymentRequirements,
    /// The resource it pays for.
    pub resource: ResourceInfo,
}

type Approve = dyn Fn(&Proposal) -> BoxFuture<'static, bool> + Send + Sync;

/// Pays 402s: holds the wallets, the spending policy with its running budget, and an optional
/// approval hook. Use it as a `reqwest_middleware` middleware, or through
/// [`PayingClient`](crate::PayingClient). Clones share the budget.
#[derive(Clone)]
pub struct Payer {
    wallets: Arc<[Arc<dyn SchemeClient>]>,
    budget: Budget,
    approve: Option<Arc<Approve>>,
}

impl fmt::Debug for Payer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payer")
            .field(
                "wallets",
                &self.wallets.iter().map(|w| w.payer()).collect::<Vec<_>>(),
            )
            .field("budget", &self.budget)
            .field("approve", &self.approve.is_some())
            .finish()
    }
}

/// Builds a [`Payer`].
#[must_use]
#[derive(Default)]
pub struct PayerBuilder {
    wallets: Vec<Arc<dyn SchemeClient>>,
    policy: SpendingPolicy,
    approve: Option<Arc<Approve>>,
}

impl fmt::Debug for PayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayerBuilder")
            .field("wallets", &self.wallets.len())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl PayerBuilder {
    /// Registers a wallet: a scheme client with its signer (for EVM,
    /// `coinslot_evm::exact::ExactEvmClient` over any alloy `Signer`).
    pub fn with_wallet(mut self, wallet: impl SchemeClient + 'static) -> Self {
        self.wallets.push(Arc::new(wallet));
        self
    }

    /// The spending policy. Without one, nothing is paid.
    pub fn with_policy(mut self, policy: SpendingPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Asks `approve` before each payment is signed; `false` refuses it
    /// ([`Error::NotApproved`]).
    pub fn with_approval<F>(mut self, approve: F) -> Self
    where
        F: Fn(&Proposal) -> BoxFuture<'static, bool> + Send + Sync + 'static,
    {
        self.approve = Some(Arc::new(approve));
        self
    }

    /// The payer.
    pub fn build(self) -> Payer {
        Payer {
            wallets: self.wallets.into(),
            budget: self.policy.into_budget(),
            approve: self.approve,
        }
    }
}

/// A payment signed and attached to the retry, waiting for its receipt.
#[derive(Debug)]
pub(crate) struct Pending {
    reservation: Reservation,
    x402_version: u8,
    network: Network,
    asset: String,
}

/// The offers of a 402, as v2 requirements, with the version to answer in.
struct Offers {
    x402_version: u8,
    accepts: Vec<(PaymentRequirements, ResourceInfo)>,
    /// The extensions the 402 offers (v2), for a wallet that can fill one in.
    extensions: Option<JsonObject>,
}

impl Payer {
    /// Starts a payer.
    pub fn builder() -> PayerBuilder {
        PayerBuilder::default()
    }

    /// What has been spent so far of each allowed asset, in the policy's order.
    pub fn spent(&self) -> Vec<crate::Spent> {
        self.budget.spent()
    }

    /// Answers a 402: picks an offer, reserves its price, signs, and puts the payment header on
    /// `retry`.
    pub(crate) async fn prepare(&self, response: Response, retry: &mut Request) -> Result<Pending> {
        let offers = read_offers(response).await?;
        let mut refusals = Vec::new();
        let mut candidates: Vec<(Allowed, usize, &Arc<dyn SchemeClient>)> = Vec::new();
        for (index, (offer, _)) in offers.accepts.iter().enumerate() {
            let wallet = self.wallets.iter().find(|w| w.can_pay(offer));
            let allowed = wallet
                .ok_or(RefusalReason::NoWallet)
                .and_then(|wallet| Ok((self.budget.allows(offer)?, wallet)));
            match allowed {
                Ok((allowed, wallet)) => candidates.push((allowed, index, wallet)),
                Err(reason) => refusals.push(refusal(offer, reason)),
            }
        }
        // The policy's order of assets first, then the server's order.
        candidates.sort_by_key(|(allowed, index, _)| (allowed.limit, *index));

        for (allowed, index, wallet) in candidates {
            let (offer, resource) = &offers.accepts[index];
            let reservation = match self.budget.reserve(allowed, offer.amount) {
                Ok(reservation) => reservation,
                Err(reason) => {
                    refusals.push(refusal(offer, reason));
                    continue;
                }
            };
            if let Some(approve) = &self.approve {
                let proposal = Proposal {
                    requirements: offer.clone(),
                    resource: resource.clone(),
                };
                if !approve(&proposal).await {
                    return Err(Error::NotApproved {
                        network: offer.network.clone(),
                        asset: offer.asset.clone(),
                        amount: offer.amount,
                    });
                }
            }
            let payment = wallet
                .create_payment_payload_with(offer, Some(resource), offers.extensions.as_ref())
                .await
                .map_err(Error::Signing)?;
            let (name, value) = if offers.x402_version == 1 {
                let v1 = PaymentPayloadV1::from_v2(&payment).map_err(Error::Signing)?;
                (X_PAYMENT, v1.to_header().map_err(Error::Signing)?)
            } else {
                (
                    PAYMENT_SIGNATURE,
                    payment.to_header().map_err(Error::Signing)?,
                )
            };
            let value = HeaderValue::from_str(&value)
                .map_err(|e| Error::Signing(coinslot_core::Error::transport("header", e)))?;
            retry.headers_mut().insert(name, value);
            return Ok(Pending {
                reservation,
                x402_version: offers.x402_version,
                network: offer.network.clone(),
                asset: offer.asset.clone(),
            });
        }
        Err(Error::NoAcceptableOffer { refusals })
    }

    /// Reads the receipt of the paid retry into its extensions, and counts the spend: a
    /// settled receipt (or a success without one) spends what it says was charged (for a
    /// metered payment, perhaps less than was reserved), anything else gives the budget back.
    /// A 412 for a missing Permit2 allowance is [`Error::Permit2AllowanceRequired`].
    pub(crate) fn finish(&self, pending: Pending, response: &mut Response) -> Result<()> {
        let receipt = read_receipt(response, pending.x402_version);
        match &receipt {
            Some(settled) if settled.success => pending.reservation.commit(settled.amount),
            None if response.status().is_success() => pending.reservation.commit(None),
            _ => drop(pending.reservation),
        }
        if let Some(receipt) = receipt {
            response.extensions_mut().insert(receipt);
        }
        if response.status() == StatusCode::PRECONDITION_FAILED
            && refusal_of(response).as_deref()
                == Some(ErrorReason::Permit2AllowanceRequired.as_str())
        {
            return Err(Error::Permit2AllowanceRequired {
                network: pending.network,
                asset: pending.asset,
            });
        }
        Ok(())
    }
}

fn refusal(offer: &PaymentRequirements, reason: RefusalReason) -> OfferRefusal {
    OfferRefusal {
        scheme: offer.scheme.clone(),
        network: offer.network.clone(),
        asset: offer.asset.clone(),
        amount: offer.amount,
        reason,
    }
}

/// The offers of a 402: `PAYMENT-REQUIRED` (v2), else a v1 JSON body.
async fn read_offers(response: Response) -> Result<Offers> {
    if let Some(header) = response.headers().get(PAYMENT_REQUIRED) {
        let required = PaymentRequired::from_header(header.as_bytes())
            .map_err(Error::InvalidPaymentRequired)?;
        let resource = required.resource;
        return Ok(Offers {
            x402_version: 2,
            extensions: required.extensions,
            accepts: required
                .accepts
                .into_iter()
                .map(|offer| (offer, resource.clone()))
                .collect(),
        });
    }
    let body = response.bytes().await?;
    if body.len() > MAX_HEADER_LEN {
        return Err(Error::InvalidPaymentRequired(
            coinslot_core::Error::transport(
                "402 body",
                std::io::Error::other("the 402 body is too large to be a v1 payment requirement"),
            ),
        ));
    }
    let required: PaymentRequiredV1 = decode_json(&body).map_err(Error::InvalidPaymentRequired)?;
    Ok(Offers {
        x402_version: 1,
        extensions: None,
        // An offer on a network this crate has no name for is left out, not fatal.
        accepts: required
            .accepts
            .iter()
            .filter_map(|v1| v1.to_v2().ok())
            .collect(),
    })
}

/// The reason a server's second 402 (or 412) gives in its `PAYMENT-REQUIRED`.
fn refusal_of(response: &Response) -> Option<String> {
    let header = response.headers().get(PAYMENT_REQUIRED)?;
    PaymentRequired::from_header(header.as_bytes()).ok()?.error
}

fn read_receipt(response: &Response, x402_version: u8) -> Option<SettleResponse> {
    let headers = response.headers();
    let decoded = match (
        headers.get(PAYMENT_RESPONSE),
        headers.get(X_PAYMENT_RESPONSE),
    ) {
        (Some(v2), _) if x402_version == 2 => SettleResponse::from_header(v2.as_bytes()),
        (_, Some(v1)) => SettleResponseV1::from_header(v1.as_bytes()).and_then(|r| r.to_v2()),
        (Some(v2), None) => SettleResponse::from_header(v2.as_bytes()),
        (None, None) => return None,
    };
    decoded
        .inspect_err(|e| tracing::warn!(error = %e, "unreadable x402 payment receipt"))
        .ok()
}

/// Sends `request`; on a 402, pays and sends it once more. The one flow behind the middleware
/// and the client.
pub(crate) async fn send_paying<E, F>(
    payer: &Payer,
    request: Request,
    mut send: F,
) -> Result<Response, E>
where
    E: From<Error>,
    F: AsyncSend<E>,
{
    let retry = request.try_clone();
    let response = send.send(request).await?;
    if response.status() != StatusCode::PAYMENT_REQUIRED {
        return Ok(response);
    }
    let Some(mut retry) = retry else {
        return Err(Error::BodyNotReplayable.into());
    };
    let pending = payer.prepare(response, &mut retry).await?;
    let mut response = send.send(retry).await?;
    payer.finish(pending, &mut response)?;
    Ok(response)
}

/// One way of sending a request: a reqwest client, or the rest of a middleware chain.
pub(crate) trait AsyncSend<E> {
    fn send(&mut self, request: Request) -> BoxFuture<'_, Result<Response, E>>;
}
