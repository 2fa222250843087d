//! [`Loopback`]: a test's HTTP service on a free loopback port.

use tokio::net::TcpListener;

use crate::error::{Error, Result};

/// A free port on 127.0.0.1, bound, whose URL is known before the service is built (a paywall
/// names its resources under it).
///
/// ```no_run
/// # async fn f() -> coinslot_testkit::Result<()> {
/// use coinslot_testkit::Loopback;
///
/// let port = Loopback::bind().await?;
/// let url = port.url().to_owned();
/// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
/// port.serve(app);
/// # let _ = url; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    url: String,
}

impl Loopback {
    /// Binds a free port.
    pub async fn bind() -> Result<Self> {
        let io = |e: std::io::Error| Error::Tool {
            tool: "loopback",
            message: e.to_string(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(io)?;
        let url = format!("http://{}", listener.local_addr().map_err(io)?);
        Ok(Self { listener, url })
    }

    /// The service's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves `router` on the port, for as long as the caller's runtime lives; returns the URL.
    pub fn serve(self, router: axum::Router) -> String {
        let Self { listener, url } = self;
        tokio::spawn(async move {
            // The runtime ends with the test, and the server with it.
            let _ = axum::serve(listener, router).await;
        });
        url
    }
}

/// Serves `router` on a free loopback port, for as long as the caller's runtime lives; returns
/// its base URL.
pub async fn serve(router: axum::Router) -> Result<String> {
    Ok(Loopback::bind().await?.serve(router))
}
