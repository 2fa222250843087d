//! [`Payer`] as a `reqwest_middleware` middleware.

use coinslot_core::BoxFuture;
use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

use crate::payer::{AsyncSend, Payer, send_paying};

struct Chain<'a, 'e> {
    next: Next<'a>,
    extensions: &'e mut Extensions,
}

impl AsyncSend<reqwest_middleware::Error> for Chain<'_, '_> {
    fn send(&mut self, request: Request) -> BoxFuture<'_, reqwest_middleware::Result<Response>> {
        Box::pin(self.next.clone().run(request, self.extensions))
    }
}

/// A refusal of the payer is a `reqwest_middleware::Error::Middleware` holding a
/// [`coinslot_reqwest::Error`](crate::Error); `downcast_ref` gets it back.
impl From<crate::Error> for MiddlewareError {
    fn from(error: crate::Error) -> Self {
        Self(reqwest_middleware::Error::middleware(error))
    }
}

struct MiddlewareError(reqwest_middleware::Error);

#[async_trait::async_trait]
impl Middleware for Payer {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let chain = Chain { next, extensions };
        send_paying::<MiddlewareError, _>(self, request, Wrapped(chain))
            .await
            .map_err(|MiddlewareError(e)| e)
    }
}

/// Adapts the chain's error type to one that a payer's refusal converts into.
struct Wrapped<'a, 'e>(Chain<'a, 'e>);

impl AsyncSend<MiddlewareError> for Wrapped<'_, '_> {
    fn send(&mut self, request: Request) -> BoxFuture<'_, Result<Response, MiddlewareError>> {
        let sent = self.0.send(request);
        Box::pin(async move { sent.await.map_err(MiddlewareError) })
    }
}
