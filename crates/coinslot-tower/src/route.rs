//! [`PaidRoute`]: which requests cost what, and when their payment settles.

use std::fmt;
use std::sync::Arc;

use coinslot_core::{BoxFuture, JsonObject, PaymentRequirements};
use http::Method;
use http::request::Parts;

use crate::path::PathPattern;
use crate::reject::{Challenge, EncodedChallenge, PAYMENT_HEADER_REQUIRED, Rejection};

/// What a dynamic price function returns: the offers for this request, or why it cannot be
/// priced ([`Rejection::bad_request`] for the client's mistake, a 5xx for the server's).
pub type PriceFuture = BoxFuture<'static, Result<Vec<PaymentRequirements>, Rejection>>;

type PriceFn = dyn Fn(&Parts) -> PriceFuture + Send + Sync;

/// When a route's payment settles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettlementTiming {
    /// Verify, run the handler, settle only if it answered below 400; the content is held back
    /// until the settlement succeeds. The default, and the reference servers' default.
    #[default]
    AfterHandler,
    /// Settle first and run the handler only once the money has moved: for handlers whose work
    /// cannot be taken back (a purchase, a write). A handler failure is then not refunded.
    BeforeHandler,
}

#[derive(Clone)]
pub(crate) enum Pricing {
    Fixed(Arc<[PaymentRequirements]>),
    Dynamic(Arc<PriceFn>),
}

impl fmt::Debug for Pricing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(offers) => f.debug_tuple("Fixed").field(offers).finish(),
            Self::Dynamic(_) => f.write_str("Dynamic(..)"),
        }
    }
}

/// A route that costs money: a method (or any), a path pattern, and the ways to pay for it.
///
/// Patterns use axum's syntax: `/weather`, `/users/{id}`, `/files/{*path}`. A request that no
/// priced route matches passes through the layer untouched.
///
/// ```
/// use coinslot_tower::{PaidRoute, Rejection};
/// # let offer: coinslot_core::PaymentRequirements = serde_json::from_value(serde_json::json!({
/// #     "scheme": "exact", "network": "eip155:84532", "amount": "1000",
/// #     "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
/// #     "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 300,
/// #     "extra": {"name": "USDC", "version": "2"}})).unwrap();
///
/// let fixed = PaidRoute::get("/weather").accepts(offer.clone()).description("Today's weather");
///
/// // Priced from the request: 1000 atomic units per word of the `words` query parameter.
/// let dynamic = PaidRoute::post("/translate").priced_by(move |parts| {
///     let words: Option<u64> = parts.uri.query()
///         .and_then(|q| q.strip_prefix("words="))
///         .and_then(|n| n.parse().ok());
///     let mut offer = offer.clone();
///     Box::pin(async move {
///         let words = words.ok_or_else(|| Rejection::bad_request("words=<n> is required"))?;
///         offer.amount = (1000 * words).into();
///         Ok(vec![offer])
///     })
/// });
/// # let _ = (fixed, dynamic);
/// ```
#[derive(Debug, Clone)]
pub struct PaidRoute {
    pub(crate) method: Option<Method>,
    pub(crate) pattern: String,
    pub(crate) pricing: Pricing,
    pub(crate) description: Option<String>,
    pub(crate) mime_type: Option<String>,
    pub(crate) timing: SettlementTiming,
    pub(crate) extensions: Option<JsonObject>,
}

impl PaidRoute {
    /// A route for `method` requests to `pattern`.
    pub fn new(method: Method, pattern: impl Into<String>) -> Self {
        Self::with_method(Some(method), pattern.into())
    }

    /// A route for requests of any method to `pattern`.
    pub fn any(pattern: impl Into<String>) -> Self {
        Self::with_method(None, pattern.into())
    }

    /// A `GET` route. A `HEAD` of it is answered the 402, and never charged.
    pub fn get(pattern: impl Into<String>) -> Self {
        Self::new(Method::GET, pattern)
    }

    /// A `POST` route.
    pub fn post(pattern: impl Into<String>) -> Self {
        Self::new(Method::POST, pattern)
    }

    fn with_method(method: Option<Method>, pattern: String) -> Self {
        Self {
            method,
            pattern,
            pricing: Pricing::Fixed(Arc::from([])),
            description: None,
            mime_type: None,
            timing: SettlementTiming::default(),
            extensions: None,
        }
    }

    /// Offers one more way to pay (another network, asset or scheme). A route with no offer
    /// is free.
    #[must_use]
    pub fn accepts(self, requirements: PaymentRequirements) -> Self {
        self.accepts_all([requirements])
    }

    /// Offers several ways to pay, in the order clients should prefer them.
    #[must_use]
    pub fn accepts_all(mut self, offers: impl IntoIterator<Item = PaymentRequirements>) -> Self {
        let mut all = match &self.pricing {
            Pricing::Fixed(existing) => existing.to_vec(),
            Pricing::Dynamic(_) => Vec::new(),
        };
        all.extend(offers);
        self.pricing = Pricing::Fixed(all.into());
        self
    }

    /// Prices each request with `price`, an async function of the request's head (method, URI,
    /// headers, extensions; not the body). An empty list makes this request free.
    #[must_use]
    pub fn priced_by<F>(mut self, price: F) -> Self
    where
        F: Fn(&Parts) -> PriceFuture + Send + Sync + 'static,
    {
        self.pricing = Pricing::Dynamic(Arc::new(price));
        self
    }

    /// What the resource is (`resource.description` of the 402).
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The MIME type of the resource (`resource.mimeType` of the 402).
    #[must_use]
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// Offers protocol extensions in this route's 402 (`PaymentRequired.extensions`, each key's
    /// `{info, schema}`), such as `coinslot_evm::permit2::eip2612_declaration()` when the facilitator
    /// sponsors EIP-2612 approvals. Added to those offered before.
    #[must_use]
    pub fn with_extensions(mut self, extensions: JsonObject) -> Self {
        self.extensions
            .get_or_insert_with(JsonObject::new)
            .extend(extensions);
        self
    }

    /// Settles before the handler runs; see [`SettlementTiming::BeforeHandler`].
    #[must_use]
    pub const fn settle_before_handler(mut self) -> Self {
        self.timing = SettlementTiming::BeforeHandler;
        self
    }
}

/// A route with its pattern parsed, as the service holds it.
#[derive(Debug)]
pub(crate) struct CompiledRoute {
    pub(crate) route: PaidRoute,
    path: PathPattern,
    /// The 402 to a request without a payment for exactly the pattern's path (no query), when
    /// the route has a fixed price and a literal path: the same bytes every time.
    unpaid: Option<EncodedChallenge>,
}

impl CompiledRoute {
    pub(crate) fn new(route: PaidRoute, base_url: &str) -> crate::Result<Self> {
        let path = PathPattern::parse(&route.pattern)?;
        let mut unpaid = None;
        if let Pricing::Fixed(offers) = &route.pricing {
            for offer in offers.iter() {
                coinslot_core::header::encode(offer).map_err(|source| {
                    crate::Error::InvalidOffer {
                        pattern: route.pattern.clone(),
                        source,
                    }
                })?;
            }
            if !offers.is_empty() && !Challenge::fits_any_request(offers, base_url, &route) {
                return Err(crate::Error::ChallengeTooLarge {
                    pattern: route.pattern.clone(),
                });
            }
            if !offers.is_empty()
                && !route.pattern.contains('{')
                && let Ok(uri) = route.pattern.parse::<http::Uri>()
            {
                let challenge = Challenge {
                    offers: Arc::clone(offers),
                    base_url,
                    uri,
                    route: &route,
                };
                unpaid = challenge.encode(PAYMENT_HEADER_REQUIRED);
            }
        }
        Ok(Self {
            route,
            path,
            unpaid,
        })
    }

    /// The ready 402 for a request of `uri` without a payment, if this route has one for it.
    pub(crate) fn unpaid_challenge(&self, uri: &http::Uri) -> Option<&EncodedChallenge> {
        let unpaid = self.unpaid.as_ref()?;
        (uri.path_and_query().map(|p| p.as_str()) == Some(self.route.pattern.as_str()))
            .then_some(unpaid)
    }

    pub(crate) fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = match &self.route.method {
            None => true,
            Some(m) if m == Method::GET => method == Method::GET || method == Method::HEAD,
            Some(m) => m == method,
        };
        method_ok && self.path.matches(path)
    }

    pub(crate) async fn offers(
        &self,
        parts: &Parts,
    ) -> Result<Arc<[PaymentRequirements]>, Rejection> {
        match &self.route.pricing {
            Pricing::Fixed(offers) => Ok(Arc::clone(offers)),
            Pricing::Dynamic(price) => price(parts).await.map(Arc::from),
        }
    }
}
