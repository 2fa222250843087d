//! The smallest paywall: `GET /` is free, `GET /weather` costs $0.001 in USDC on Base Sepolia,
//! settled by the facilitator at `FACILITATOR_URL` and paid to `PAY_TO`. Listens on
//! `127.0.0.1:3000`.
//!
//! The app is one function, [`app`], so that its tests drive it without a socket
//! (`tower::ServiceExt::oneshot`), as axum's `examples/testing` does.

use axum::Router;
use axum::routing::get;
use coinslot::prelude::*;

/// The routes, and the price of `/weather`, paid to `pay_to` through `facilitator`.
fn app(
    facilitator: impl Facilitator + 'static,
    pay_to: Address,
) -> Result<Router, Box<dyn std::error::Error>> {
    let price = Eip3009Token::usdc_base_sepolia().requirements(pay_to, &Price::parse("$0.001")?)?;
    let paywall = PaymentLayer::builder(facilitator, "http://127.0.0.1:3000")
        .with_route(PaidRoute::get("/weather").accepts(price))
        .build()?;
    Ok(Router::new()
        .route("/weather", get(|| async { "sunny" }))
        .layer(paywall)
        .route("/", get(|| async { "free" })))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is required"));
    let facilitator = HttpFacilitator::new(&env("FACILITATOR_URL")?)?
        .with_payment_ids(coinslot::evm::exact::payment_id);
    let app = app(facilitator, env("PAY_TO")?.parse()?)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("Server listening on http://127.0.0.1:3000");
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use coinslot_testkit::LocalChain;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    const PAY_TO: Address = address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");

    /// A facilitator nobody listens for: the routes below never reach it.
    fn nowhere() -> HttpFacilitator {
        HttpFacilitator::new("http://127.0.0.1:9").unwrap()
    }

    async fn body(response: axum::response::Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_free_route_is_free() {
        let request = Request::get("/").body(Body::empty()).unwrap();
        let response = app(nowhere(), PAY_TO)
            .unwrap()
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body(response).await, "free");
    }

    #[tokio::test]
    async fn the_priced_route_names_its_price() {
        let request = Request::get("/weather").body(Body::empty()).unwrap();
        let response = app(nowhere(), PAY_TO)
            .unwrap()
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED);
        let required =
            PaymentRequired::from_header(response.headers()["payment-required"].as_bytes())
                .unwrap();
        assert_eq!(required.accepts[0].amount, TokenAmount::from(1000u64));
        assert_eq!(required.accepts[0].pay_to, PAY_TO.to_checksum(None));
        assert_eq!(required.resource.url, "http://127.0.0.1:3000/weather");
    }

    /// Paid for real: the payer's signature, verified and settled in-process on anvil.
    #[tokio::test]
    async fn a_payment_buys_the_weather() {
        let chain = LocalChain::start().await.unwrap();
        let exact = ExactEvmFacilitator::connect(
            chain.rpc_url().as_str(),
            [chain.accounts().settlers[0].clone()],
        )
        .await
        .unwrap();
        let facilitator = LocalFacilitator::builder().with_scheme(exact).build();
        let app = app(facilitator, PAY_TO).unwrap();

        let unpaid = Request::get("/weather").body(Body::empty()).unwrap();
        let challenge = app.clone().oneshot(unpaid).await.unwrap();
        let required =
            PaymentRequired::from_header(challenge.headers()["payment-required"].as_bytes())
                .unwrap();
        let payment = ExactEvmClient::new(chain.accounts().payer.clone())
            .create_payment_payload(&required.accepts[0], Some(&required.resource))
            .await
            .unwrap();
        let paid = Request::get("/weather")
            .header("payment-signature", payment.to_header().unwrap())
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(paid).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key("payment-response"));
        assert_eq!(body(response).await, "sunny");
        assert_eq!(
            chain.usdc_balance(PAY_TO).await.unwrap(),
            coinslot::U256::from(1000u64)
        );
    }
}
