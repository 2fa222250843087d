//! [`PaymentLayer`] and its builder.

use std::sync::Arc;
use std::time::Duration;

use coinslot_core::Facilitator;
use tower_layer::Layer;

use crate::access::AccessPolicy;
use crate::error::{Error, Result};
use crate::replay::{DEFAULT_RETENTION, ReplayGuard};
use crate::route::{CompiledRoute, PaidRoute};
use crate::service::{Payment, Shared};

/// A tower [`Layer`] that puts a price on routes: see the [crate docs](crate).
#[derive(Debug, Clone)]
pub struct PaymentLayer {
    shared: Arc<Shared>,
}

impl PaymentLayer {
    /// Starts a layer that settles through `facilitator` (in-process, or remote over HTTP) and
    /// names its resources under `public_base_url` (`https://api.example.com`), the address
    /// clients know the server by. The `Host` header is never used: a client could send any.
    pub fn builder(
        facilitator: impl Facilitator + 'static,
        public_base_url: impl Into<String>,
    ) -> PaymentLayerBuilder {
        PaymentLayerBuilder {
            facilitator: Arc::new(facilitator),
            base_url: public_base_url.into(),
            routes: Vec::new(),
            policies: Vec::new(),
            replay_retention: DEFAULT_RETENTION,
            read_raw: None,
            decimals: Vec::new(),
        }
    }
}

impl<S> Layer<S> for PaymentLayer {
    type Service = Payment<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Payment::new(inner, Arc::clone(&self.shared))
    }
}

/// Builds a [`PaymentLayer`].
#[must_use]
pub struct PaymentLayerBuilder {
    facilitator: Arc<dyn Facilitator>,
    base_url: String,
    routes: Vec<PaidRoute>,
    policies: Vec<Arc<dyn AccessPolicy>>,
    replay_retention: Duration,
    read_raw: Option<ReadRawPayment>,
    decimals: Vec<(String, u8)>,
}

/// A function that reads a payment sent in a chain's own form rather than x402 JSON (the
/// `X-PAYMENT` header bytes), as the v2 payload for one of the route's offers; `None` if it is
/// not one. A scheme crate supplies it: `coinslot_stacks::exact::raw_payment` reads the raw
/// transaction hex that x402-stacks v1 clients send.
pub type ReadRawPayment = fn(
    header: &[u8],
    offers: &[coinslot_core::PaymentRequirements],
) -> Option<coinslot_core::PaymentPayload>;

impl std::fmt::Debug for PaymentLayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentLayerBuilder")
            .field("base_url", &self.base_url)
            .field("routes", &self.routes)
            .field("policies", &self.policies.len())
            .finish_non_exhaustive()
    }
}

impl PaymentLayerBuilder {
    /// Prices a route. Routes are tried in the order they were added; the first whose method
    /// and pattern match prices the request.
    pub fn with_route(mut self, route: PaidRoute) -> Self {
        self.routes.push(route);
        self
    }

    /// Adds a way in before x402 (an API key, a free tier), tried in the order added.
    pub fn with_access_policy(mut self, policy: impl AccessPolicy) -> Self {
        self.policies.push(Arc::new(policy));
        self
    }

    /// How long a used payment is refused by the layer itself (default one hour); past that,
    /// the facilitator and the chain refuse it.
    pub const fn with_replay_retention(mut self, retention: Duration) -> Self {
        self.replay_retention = retention;
        self
    }

    /// Accepts payments in a chain's own form in `X-PAYMENT`, read by `read` (see
    /// [`ReadRawPayment`]). They are then verified and settled as the v2 payment the reader
    /// makes of them, and answered with a v2 `PAYMENT-RESPONSE`.
    pub fn with_raw_payment(mut self, read: ReadRawPayment) -> Self {
        self.read_raw = Some(read);
        self
    }

    /// Tells the layer that `asset` (an address or a name, as offers write it) has `decimals`
    /// decimals: needed only for a metered route whose handler names its charge in dollars
    /// (`"$0.05"`).
    pub fn with_decimals(mut self, asset: impl Into<String>, decimals: u8) -> Self {
        self.decimals.push((asset.into(), decimals));
        self
    }

    /// Checks the configuration: the base URL, every path pattern, every fixed offer.
    pub fn build(self) -> Result<PaymentLayer> {
        let base_url = check_base_url(&self.base_url)?;
        let routes = self
            .routes
            .into_iter()
            .map(|route| CompiledRoute::new(route, &base_url))
            .collect::<Result<Vec<_>>>()?;
        Ok(PaymentLayer {
            shared: Arc::new(Shared {
                routes,
                facilitator: self.facilitator,
                base_url,
                policies: self.policies,
                guard: Arc::new(ReplayGuard::new(self.replay_retention)),
                read_raw: self.read_raw,
                decimals: self.decimals,
            }),
        })
    }
}

/// An absolute `http`/`https` URL without query or fragment, returned without a trailing `/`.
fn check_base_url(url: &str) -> Result<String> {
    let invalid = |reason| Error::InvalidBaseUrl {
        url: url.to_owned(),
        reason,
    };
    let uri: http::Uri = url.parse().map_err(|_| invalid("it is not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("it must start with http:// or https://")),
    }
    if uri.authority().is_none_or(|a| a.host().is_empty()) {
        return Err(invalid("it has no host"));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(invalid("it must not have a query or a fragment"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::check_base_url;

    #[test]
    fn base_urls_are_absolute_http() {
        assert_eq!(
            check_base_url("https://api.example.com/").unwrap(),
            "https://api.example.com"
        );
        assert_eq!(
            check_base_url("http://127.0.0.1:4021/v1").unwrap(),
            "http://127.0.0.1:4021/v1"
        );
        for bad in [
            "api.example.com",
            "/v1",
            "ftp://x.org",
            "https://x.org/?a=1",
            "https://x.org/#f",
            "",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }
}
