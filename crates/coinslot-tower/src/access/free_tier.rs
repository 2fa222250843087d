//! [`FreeTier`]: a number of free calls per client per day.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use coinslot_core::BoxFuture;
use http::HeaderName;
use http::request::Parts;

use super::store::AccessStore;
use super::{Access, AccessGrant, AccessPolicy, AccessRequest};
use crate::error::Result;

type Identify = dyn Fn(&Parts) -> Option<String> + Send + Sync;

/// A free tier: each client gets `calls_per_day` free calls per UTC day; past that it pays.
///
/// A request that carries a payment is not counted (the client chose to pay), nor is one whose
/// client cannot be told (the identify function answered `None`): both go on to x402. Who a
/// client is is the server's call: the peer address (with axum, from `ConnectInfo`), a header
/// set by a trusted proxy, an account id.
#[derive(Clone)]
pub struct FreeTier<S> {
    store: S,
    calls_per_day: u64,
    identify: Arc<Identify>,
}

impl<S> fmt::Debug for FreeTier<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreeTier")
            .field("calls_per_day", &self.calls_per_day)
            .finish_non_exhaustive()
    }
}

impl<S: AccessStore> FreeTier<S> {
    /// `calls_per_day` free calls for each client, as `identify` names them.
    pub fn new<F>(store: S, calls_per_day: u64, identify: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        Self {
            store,
            calls_per_day,
            identify: Arc::new(identify),
        }
    }

    /// Clients named by the value of `header` (set by a proxy you trust: a client could send
    /// any value itself).
    pub fn by_header(store: S, calls_per_day: u64, header: HeaderName) -> Self {
        Self::new(store, calls_per_day, move |parts| {
            let value = parts.headers.get(&header)?.to_str().ok()?;
            (!value.is_empty()).then(|| value.to_owned())
        })
    }
}

fn utc_day() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400)
}

impl<S: AccessStore> AccessPolicy for FreeTier<S> {
    fn check<'a>(&'a self, request: AccessRequest<'a>) -> BoxFuture<'a, Result<Access>> {
        Box::pin(async move {
            if request.has_payment {
                return Ok(Access::Continue);
            }
            let Some(client) = (self.identify)(request.parts) else {
                return Ok(Access::Continue);
            };
            let taken = self
                .store
                .take_free_call(&client, utc_day(), self.calls_per_day)
                .await?;
            Ok(taken.map_or(Access::Continue, |used| {
                Access::Grant(AccessGrant {
                    policy: "free_tier",
                    client,
                    charged: 1,
                    remaining: self.calls_per_day - used,
                })
            }))
        })
    }
}
