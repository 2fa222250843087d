//! [`PayingClient`]: a reqwest client that pays 402s, without the middleware crate.

use coinslot_core::BoxFuture;
use reqwest::{IntoUrl, Method, Request, RequestBuilder, Response};

use crate::error::{Error, Result};
use crate::payer::{AsyncSend, Payer, send_paying};

/// A `reqwest::Client` that answers a 402 by paying, through its [`Payer`].
///
/// ```no_run
/// # async fn run(payer: coinslot_reqwest::Payer) -> coinslot_reqwest::Result<()> {
/// use coinslot_core::SettleResponse;
/// use coinslot_reqwest::PayingClient;
///
/// let client = PayingClient::new(reqwest::Client::new(), payer);
/// let response = client.send(client.get("http://127.0.0.1:4021/weather")).await?;
/// if let Some(receipt) = response.extensions().get::<SettleResponse>() {
///     println!("paid in {}", receipt.transaction());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PayingClient {
    client: reqwest::Client,
    payer: Payer,
}

struct Plain<'a>(&'a reqwest::Client);

impl AsyncSend<Error> for Plain<'_> {
    fn send(&mut self, request: Request) -> BoxFuture<'_, Result<Response>> {
        let sent = self.0.execute(request);
        Box::pin(async move { Ok(sent.await?) })
    }
}

impl PayingClient {
    /// Pays with `payer` for requests sent by `client`.
    pub const fn new(client: reqwest::Client, payer: Payer) -> Self {
        Self { client, payer }
    }

    /// The payer (for its running totals).
    pub const fn payer(&self) -> &Payer {
        &self.payer
    }

    /// A request builder on the inner client; send it with [`send`](Self::send).
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// A `GET` request builder.
    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A `POST` request builder.
    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Builds and sends a request, paying a 402 once.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response> {
        self.execute(request.build()?).await
    }

    /// Sends a request, paying a 402 once. The paid response carries the decoded receipt
    /// ([`SettleResponse`](coinslot_core::SettleResponse)) in its extensions.
    pub async fn execute(&self, request: Request) -> Result<Response> {
        send_paying(&self.payer, request, Plain(&self.client)).await
    }
}
