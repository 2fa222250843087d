//! The [`Facilitator`] trait: verify and settle payments, and say which kinds it handles.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::api::{SettleRequest, SupportedResponse, VerifyRequest};
use crate::error::Result;
use crate::payment_id::PaymentId;
use crate::v2::{SettleResponse, VerifyResponse};

/// A boxed future that can move between threads: what the traits of this crate return, so
/// that they can be used as `Arc<dyn Trait>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A facilitator: verifies payments and settles them on chain.
///
/// The server middleware and the HTTP facilitator service speak to this trait only, so a server
/// can use an in-process facilitator or a remote one over HTTP alike.
///
/// A payment that is refused is not an error: `verify` answers `Ok` with `isValid: false` and a
/// reason, `settle` answers `Ok` with `success: false`. `Err` means the facilitator could not do
/// its work (a node or the network is down) and says nothing of the payment.
///
/// Of all the `settle` calls of one payment, exactly one may answer `success: true`; every
/// other, concurrent or later, sends nothing and answers `success: false` with
/// `duplicate_settlement` and the first settlement's transaction. A server that settles
/// without a replay guard of its own relies on that to serve a payment once.
///
/// ```
/// use std::sync::Arc;
/// use coinslot_core::{
///     BoxFuture, ErrorReason, Facilitator, Result, SettleRequest, SettleResponse,
///     SupportedResponse, VerifyRequest, VerifyResponse,
/// };
///
/// /// Refuses every payment: lets a server start before a real facilitator is configured.
/// struct RefuseAll;
///
/// impl Facilitator for RefuseAll {
///     fn verify<'a>(&'a self, _: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
///         Box::pin(async { Ok(VerifyResponse::invalid(ErrorReason::UnsupportedScheme, None)) })
///     }
///     fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>> {
///         Box::pin(async move {
///             Ok(SettleResponse::failure(ErrorReason::UnsupportedScheme, request.network()?, None))
///         })
///     }
///     fn supported(&self) -> BoxFuture<'_, Result<SupportedResponse>> {
///         Box::pin(async { Ok(SupportedResponse::default()) })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let facilitator: Arc<dyn Facilitator> = Arc::new(RefuseAll);
/// assert!(facilitator.supported().await?.kinds.is_empty());
/// # Ok(()) }
/// ```
pub trait Facilitator: Send + Sync {
    /// Checks a payment without moving funds.
    fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>>;

    /// Verifies a payment again and settles it on chain, once.
    fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>>;

    /// The payment kinds, extensions and signers of this facilitator.
    fn supported(&self) -> BoxFuture<'_, Result<SupportedResponse>>;

    /// The request's [`PaymentId`] (the scheme's
    /// [`payment_id`](crate::SchemeFacilitator::payment_id): for EIP-3009 the token, payer and
    /// nonce), when this facilitator can tell without a round trip. A server uses it so that
    /// two encodings of one payment cannot run two handlers; `None` (the default, and a remote
    /// facilitator's answer unless told how) leaves the server to name the payment by its bytes.
    fn payment_id(&self, request: &VerifyRequest) -> Option<PaymentId> {
        let _ = request;
        None
    }
}

macro_rules! forward_facilitator {
    ($($ptr:ty),*) => {$(
        impl<F: Facilitator + ?Sized> Facilitator for $ptr {
            fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
                (**self).verify(request)
            }
            fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>> {
                (**self).settle(request)
            }
            fn supported(&self) -> BoxFuture<'_, Result<SupportedResponse>> {
                (**self).supported()
            }
            fn payment_id(&self, request: &VerifyRequest) -> Option<PaymentId> {
                (**self).payment_id(request)
            }
        }
    )*};
}

forward_facilitator!(Arc<F>, Box<F>, &F);
