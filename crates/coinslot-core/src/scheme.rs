//! The two sides of a payment scheme: [`SchemeClient`] builds payments, [`SchemeFacilitator`]
//! verifies and settles them.
//!
//! A scheme crate (`coinslot-evm`, `coinslot-stacks`) implements both for each scheme it knows
//! (`exact`, `upto`). The reqwest client holds a set of scheme clients; the facilitator holds a
//! registry of scheme facilitators keyed by version, scheme and network pattern.

use std::sync::Arc;

use crate::api::{SettleRequest, VerifyRequest};
use crate::error::Result;
use crate::facilitator::BoxFuture;
use crate::network::Network;
use crate::payment_id::PaymentId;
use crate::v2::{
    JsonObject, PaymentPayload, PaymentRequirements, ResourceInfo, SettleResponse, VerifyResponse,
};

/// The client side of a scheme: given an offered requirement, sign a payment for it.
///
/// A scheme client owns its signer (for EVM any alloy `Signer`: a local key, a hardware wallet,
/// a cloud KMS; for Stacks a secp256k1 key). [`create_payload`](Self::create_payload) returns the
/// scheme-specific `payload` object, exactly what goes under `"payload"` in the
/// `PAYMENT-SIGNATURE` header; what it signs is the scheme's business and is documented by each
/// implementation (for `exact` on EVM: an EIP-3009 `TransferWithAuthorization` of exactly
/// `amount` from the signer to `payTo`).
///
/// ```
/// use coinslot_core::{BoxFuture, JsonObject, PaymentRequirements, Result, SchemeClient};
///
/// /// Pays "IOU" notes: a toy scheme that signs nothing.
/// struct Iou { payer: String }
///
/// impl SchemeClient for Iou {
///     fn scheme(&self) -> &str { "iou" }
///     fn payer(&self) -> String { self.payer.clone() }
///     fn can_pay(&self, requirements: &PaymentRequirements) -> bool {
///         requirements.scheme == "iou"
///     }
///     fn create_payload<'a>(&'a self, requirements: &'a PaymentRequirements) -> BoxFuture<'a, Result<JsonObject>> {
///         Box::pin(async move {
///             let mut payload = JsonObject::new();
///             payload.insert("from".into(), self.payer.clone().into());
///             payload.insert("amount".into(), requirements.amount.to_string().into());
///             Ok(payload)
///         })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let offer: PaymentRequirements = serde_json::from_value(serde_json::json!({
///     "scheme": "iou", "network": "eip155:84532", "amount": "5", "asset": "USD",
///     "payTo": "merchant", "maxTimeoutSeconds": 60
/// }))?;
/// let client: std::sync::Arc<dyn SchemeClient> = std::sync::Arc::new(Iou { payer: "alice".into() });
/// let payment = client.create_payment_payload(&offer, None).await?;
/// assert_eq!(payment.accepted, offer);
/// assert_eq!(payment.payload["amount"], "5");
/// # Ok(()) }
/// ```
pub trait SchemeClient: Send + Sync {
    /// The scheme name, as in `PaymentRequirements::scheme`.
    fn scheme(&self) -> &str;

    /// The address that pays.
    fn payer(&self) -> String;

    /// Whether this client can pay `requirements`: its scheme, a network and an asset it signs for.
    fn can_pay(&self, requirements: &PaymentRequirements) -> bool;

    /// Signs a payment for `requirements` and returns the scheme's `payload` object.
    fn create_payload<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
    ) -> BoxFuture<'a, Result<JsonObject>>;

    /// Signs a payment and wraps it as a v2 [`PaymentPayload`] that echoes `requirements`.
    fn create_payment_payload<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
        resource: Option<&'a ResourceInfo>,
    ) -> BoxFuture<'a, Result<PaymentPayload>> {
        Box::pin(async move {
            let payload = self.create_payload(requirements).await?;
            Ok(PaymentPayload::new(
                requirements.clone(),
                payload,
                resource.cloned(),
            ))
        })
    }

    /// [`create_payment_payload`](Self::create_payment_payload) for a 402 that offered
    /// `extensions` (its `PaymentRequired.extensions`): a client that can fill one in (an EVM
    /// payer's EIP-2612 permit for `eip2612GasSponsoring`) overrides this; the default ignores
    /// them.
    fn create_payment_payload_with<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
        resource: Option<&'a ResourceInfo>,
        extensions: Option<&'a JsonObject>,
    ) -> BoxFuture<'a, Result<PaymentPayload>> {
        let _ = extensions;
        self.create_payment_payload(requirements, resource)
    }
}

/// The facilitator side of a scheme: verify a payment against its requirement, and settle it.
///
/// As with [`Facilitator`](crate::Facilitator), a refused payment is an `Ok` answer with a
/// reason; `Err` is for a failure of the node or the network. Exactly-once settlement is the
/// business of the facilitator that holds the scheme, not of the scheme.
///
/// ```
/// use coinslot_core::{
///     BoxFuture, ErrorReason, Result, SchemeFacilitator, SettleRequest, SettleResponse,
///     VerifyRequest, VerifyResponse,
/// };
///
/// /// Accepts IOU notes of exactly the required amount.
/// struct IouFacilitator;
///
/// impl SchemeFacilitator for IouFacilitator {
///     fn scheme(&self) -> &str { "iou" }
///     fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
///         Box::pin(async move {
///             let VerifyRequest::V2 { payment_payload, payment_requirements } = request else {
///                 return Ok(VerifyResponse::invalid(ErrorReason::InvalidX402Version, None));
///             };
///             let from = payment_payload.payload["from"].as_str().map(str::to_owned);
///             if payment_payload.payload["amount"] != payment_requirements.amount.to_string() {
///                 return Ok(VerifyResponse::invalid(ErrorReason::InvalidPayload, from));
///             }
///             Ok(VerifyResponse::valid(from.unwrap_or_default()))
///         })
///     }
///     fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>> {
///         Box::pin(async move {
///             let verified = self.verify(request).await?;
///             let network = request.network()?;
///             Ok(match verified.invalid_reason {
///                 Some(reason) => SettleResponse::failure(reason, network, verified.payer),
///                 None => SettleResponse::success("iou-1", network, verified.payer.unwrap_or_default()),
///             })
///         })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let request: VerifyRequest = serde_json::from_value(serde_json::json!({
///     "x402Version": 2,
///     "paymentPayload": {
///         "x402Version": 2,
///         "accepted": {"scheme": "iou", "network": "eip155:84532", "amount": "5",
///                      "asset": "USD", "payTo": "merchant", "maxTimeoutSeconds": 60},
///         "payload": {"from": "alice", "amount": "5"}
///     },
///     "paymentRequirements": {"scheme": "iou", "network": "eip155:84532", "amount": "5",
///                             "asset": "USD", "payTo": "merchant", "maxTimeoutSeconds": 60}
/// }))?;
/// let scheme: std::sync::Arc<dyn SchemeFacilitator> = std::sync::Arc::new(IouFacilitator);
/// assert!(scheme.verify(&request).await?.is_valid);
/// assert_eq!(scheme.settle(&request).await?.transaction(), "iou-1");
/// # Ok(()) }
/// ```
pub trait SchemeFacilitator: Send + Sync {
    /// The scheme name.
    fn scheme(&self) -> &str;

    /// Checks a payment against its requirement without moving funds.
    fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>>;

    /// Verifies again and settles on chain.
    fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>>;

    /// The `extra` this scheme advertises for `network` in `/supported` (for `upto`, the
    /// `facilitatorAddress`).
    fn supported_extra(&self, network: &Network) -> Option<JsonObject> {
        let _ = network;
        None
    }

    /// The extensions this scheme acts on, for `/supported` `extensions`
    /// (`eip2612GasSponsoring`…).
    fn extensions(&self) -> Vec<String> {
        Vec::new()
    }

    /// The addresses this scheme signs settlements with, for `/supported` `signers`.
    fn signers(&self) -> Vec<String> {
        Vec::new()
    }

    /// The networks this scheme settles on, listed as kinds in `/supported`. A scheme bound to
    /// one chain (an EVM node, a Stacks node) names it here.
    fn networks(&self) -> Vec<Network> {
        Vec::new()
    }

    /// The protocol versions this scheme exists in, which a facilitator registers it for: both
    /// by default; a scheme v1 never had (`upto`) answers `&[2]`, and is neither listed nor
    /// handled under v1.
    fn x402_versions(&self) -> &'static [u8] {
        &[1, 2]
    }

    /// The [`PaymentId`] of a request: the money movement it asks for, so that a facilitator
    /// settles it once however the payload is dressed. The default names the payment by its
    /// bytes ([`PaymentId::of_payload`]); a scheme that knows better (for EIP-3009: token,
    /// payer and nonce) says so, and then two encodings of one authorization cannot both be
    /// settled.
    fn payment_id(&self, request: &VerifyRequest) -> PaymentId {
        PaymentId::of_payload(request)
    }

    /// Looks again at a settlement that was sent but not confirmed in time (`pending` is the
    /// `settlement_pending` answer that named its transaction). Answers the final result once
    /// the chain has one, or `pending` again. Sends nothing.
    fn confirm<'a>(
        &'a self,
        request: &'a SettleRequest,
        pending: &'a SettleResponse,
    ) -> BoxFuture<'a, Result<SettleResponse>> {
        let _ = request;
        Box::pin(async move { Ok(pending.clone()) })
    }
}

impl<T: SchemeClient + ?Sized> SchemeClient for Arc<T> {
    fn scheme(&self) -> &str {
        (**self).scheme()
    }
    fn payer(&self) -> String {
        (**self).payer()
    }
    fn can_pay(&self, requirements: &PaymentRequirements) -> bool {
        (**self).can_pay(requirements)
    }
    fn create_payload<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
    ) -> BoxFuture<'a, Result<JsonObject>> {
        (**self).create_payload(requirements)
    }
    fn create_payment_payload_with<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
        resource: Option<&'a ResourceInfo>,
        extensions: Option<&'a JsonObject>,
    ) -> BoxFuture<'a, Result<PaymentPayload>> {
        (**self).create_payment_payload_with(requirements, resource, extensions)
    }
}

impl<T: SchemeFacilitator + ?Sized> SchemeFacilitator for Arc<T> {
    fn scheme(&self) -> &str {
        (**self).scheme()
    }
    fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
        (**self).verify(request)
    }
    fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>> {
        (**self).settle(request)
    }
    fn supported_extra(&self, network: &Network) -> Option<JsonObject> {
        (**self).supported_extra(network)
    }
    fn extensions(&self) -> Vec<String> {
        (**self).extensions()
    }
    fn signers(&self) -> Vec<String> {
        (**self).signers()
    }
    fn networks(&self) -> Vec<Network> {
        (**self).networks()
    }
    fn x402_versions(&self) -> &'static [u8] {
        (**self).x402_versions()
    }
    fn payment_id(&self, request: &VerifyRequest) -> PaymentId {
        (**self).payment_id(request)
    }
    fn confirm<'a>(
        &'a self,
        request: &'a SettleRequest,
        pending: &'a SettleResponse,
    ) -> BoxFuture<'a, Result<SettleResponse>> {
        (**self).confirm(request, pending)
    }
}
