//! [`Payer`] as a `reqwest_middleware` middleware.

use coinslot_core::BoxFuture;
use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

use crate::payer::{AsyncSend, Payer, send_paying};

/// The rest of the middleware chain, as the payer's way of sending.
struct Chain<'a, 'e> {
    next: Next<'a>,
    extensions: &'e mut Extensions,
}

/// The chain's error, which a refusal of the payer converts into: a
/// `reqwest_middleware::Error::Middleware` holding a [`crate::Error`] (`downcast_ref` gets it back).
struct ChainError(reqwest_middleware::Error);

impl From<crate::Error> for ChainError {
    fn from(error: crate::Error) -> Self {
        Self(reqwest_middleware::Error::middleware(error))
    }
}

impl AsyncSend<ChainError> for Chain<'_, '_> {
    fn send(&mut self, request: Request) -> BoxFuture<'_, Result<Response, ChainError>> {
        let sent = self.next.clone().run(request, self.extensions);
        Box::pin(async move { sent.await.map_err(ChainError) })
    }
}

#[async_trait::async_trait]
impl Middleware for Payer {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        send_paying(self, request, Chain { next, extensions })
            .await
            .map_err(|ChainError(e)| e)
    }
}
