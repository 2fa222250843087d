//! [`Payment<S>`]: the paywall around one inner service.

use std::sync::Arc;
use std::task::{Context, Poll};

use coinslot_core::Facilitator;
use http::{Method, Request, Response};
use tower_service::Service;

use crate::access::AccessPolicy;
use crate::body::ResponseBody;
use crate::flow::handle;
use crate::future::ResponseFuture;
use crate::layer::ReadRawPayment;
use crate::matching::payment_header;
use crate::replay::ReplayGuard;
use crate::route::CompiledRoute;

/// What every clone of a [`Payment`] service shares.
pub(crate) struct Shared {
    pub(crate) routes: Vec<CompiledRoute>,
    pub(crate) facilitator: Arc<dyn Facilitator>,
    pub(crate) base_url: String,
    pub(crate) policies: Vec<Arc<dyn AccessPolicy>>,
    pub(crate) guard: Arc<ReplayGuard>,
    pub(crate) read_raw: Option<ReadRawPayment>,
    /// The decimals of assets, by address or name as offers write them: what turns a metered
    /// charge in dollars into atomic units.
    pub(crate) decimals: Vec<(String, u8)>,
}

impl Shared {
    /// The decimals of `asset`, when the layer was told them.
    pub(crate) fn decimals_of(&self, asset: &str) -> Option<u8> {
        self.decimals
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(asset))
            .map(|(_, decimals)| *decimals)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("routes", &self.routes)
            .field("base_url", &self.base_url)
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// The service made by [`PaymentLayer`](crate::PaymentLayer): asks for payment on priced routes,
/// passes every other request to `S` untouched.
#[derive(Debug, Clone)]
pub struct Payment<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Payment<S> {
    pub(crate) const fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The inner service.
    pub const fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub const fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, taken out of the paywall.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Payment<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let route = self
            .shared
            .routes
            .iter()
            .position(|route| route.matches(request.method(), request.uri().path()));
        let Some(route) = route else {
            return ResponseFuture::pass_through(self.inner.call(request));
        };
        // The commonest priced request, one without a payment, is answered from the 402
        // encoded when the layer was built (unless a way in before x402 must be asked first;
        // a HEAD asks none, as it is never charged).
        let has_payment = payment_header(request.headers()).is_some();
        if !has_payment
            && (self.shared.policies.is_empty() || request.method() == Method::HEAD)
            && let Some(challenge) = self.shared.routes[route].unpaid_challenge(request.uri())
        {
            return ResponseFuture::ready(challenge.response());
        }
        // The clone takes the place of the service that was polled ready, which goes with the
        // request (tower's rule for services called from a future).
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::priced(Box::pin(handle(
            Arc::clone(&self.shared),
            route,
            ready,
            request,
        )))
    }
}
