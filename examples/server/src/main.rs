//! A paid API on coinslot, configured the way the reference end-to-end suite drives servers.
//!
//! Environment:
//! - `PORT`: where to listen, on all interfaces (default 4021);
//! - `FACILITATOR_URL`: the facilitator (default `http://127.0.0.1:4022`);
//! - `FACILITATOR_API_KEY`: the facilitator's bearer token, if it asks for one;
//! - `EVM_PAYEE_ADDRESS`: who is paid in USDC;
//! - `EVM_NETWORK`: `eip155:84532` (Base Sepolia, the default, also the local test chain) or
//!   `eip155:8453` (Base): USDC on that network is the price's asset;
//! - `STACKS_PAYEE_ADDRESS`: who is paid on Stacks (an `SP…` address sells on mainnet, an
//!   `ST…` one on testnet), in STX, sBTC and USDCx. At least one payee is required.
//! - `PUBLIC_URL`: the address clients know this server by, for `resource.url` (default
//!   `http://127.0.0.1:<PORT>`).
//!
//! Routes:
//! - `GET /health` → `{"status":"ok"}`, `POST /close` stops the server (exit 0);
//! - `GET /free`: free;
//! - `GET /exact/evm/eip3009`: $0.001 in USDC;
//! - `GET /exact/stacks/stx`, `/exact/stacks/sbtc`, `/exact/stacks/usdcx`: 0.001 STX,
//!   100 sats, 0.001 USDCx;
//! - `GET /weather`: $0.001 in USDC or 0.001 STX, whichever payees are set;
//! - `GET /words?count=N`: $0.0001 per word in USDC, 1 ≤ N ≤ 1000, priced from the request;
//! - `GET /exact/evm/permit2`: $0.001 in USDC through Permit2;
//! - `GET /upto/evm/permit2`: metered, up to $0.001 in USDC: it writes a sentence and charges
//!   $0.0001 per word it wrote (fewer than the ten the maximum would buy). The offer names the
//!   `upto` facilitator address the facilitator's `/supported` publishes (asked on first use;
//!   503 while it cannot be known).
//!
//! Prints `Server listening on http://…` once it accepts connections.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Extension, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use coinslot::evm::alloy::primitives::Address;
use coinslot::evm::exact::Eip3009Token;
use coinslot::facilitator::HttpFacilitator;
use coinslot::stacks::exact::{Sip010Token, StacksAsset, stacks_requirements};
use coinslot::stacks::network::StacksNetwork;
use coinslot::tower::{Charge, PaidRoute, PaymentLayer, Rejection, VerifiedPayment};
use coinslot::{Network, PaymentRequirements, Price, TokenAmount};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

/// The most words one request may buy.
const MAX_WORDS: u64 = 1000;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(message) = run().await {
        eprintln!("server: {message}");
        std::process::exit(1);
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn run() -> Result<(), String> {
    let port: u16 = env("PORT")
        .map_or(Ok(4021), |p| p.parse())
        .map_err(|_| "PORT is not a port number".to_owned())?;
    let evm = match env("EVM_PAYEE_ADDRESS") {
        Some(payee) => {
            let payee: Address = payee
                .parse()
                .map_err(|_| "EVM_PAYEE_ADDRESS is not an EVM address".to_owned())?;
            let usdc = match env("EVM_NETWORK").as_deref() {
                None | Some("eip155:84532" | "base-sepolia") => Eip3009Token::usdc_base_sepolia(),
                Some("eip155:8453" | "base") => Eip3009Token::usdc_base(),
                Some(other) => {
                    return Err(format!(
                        "EVM_NETWORK {other:?}: use eip155:84532 or eip155:8453"
                    ));
                }
            };
            Some((usdc, payee))
        }
        None => None,
    };
    let stacks = match env("STACKS_PAYEE_ADDRESS") {
        Some(payee) => {
            let address: coinslot::stacks::StacksAddress = payee
                .parse()
                .map_err(|e| format!("STACKS_PAYEE_ADDRESS: {e}"))?;
            let network = if address.is_mainnet() {
                StacksNetwork::Mainnet
            } else {
                StacksNetwork::Testnet
            };
            Some((network, address.to_string()))
        }
        None => None,
    };
    if evm.is_none() && stacks.is_none() {
        return Err(
            "EVM_PAYEE_ADDRESS or STACKS_PAYEE_ADDRESS is required: the address that is paid"
                .into(),
        );
    }
    let facilitator_url =
        env("FACILITATOR_URL").unwrap_or_else(|| "http://127.0.0.1:4022".to_owned());
    // Naming EIP-3009 payments by token, payer and nonce lets the paywall see two encodings
    // of one signature as one payment.
    let mut facilitator = HttpFacilitator::new(&facilitator_url)
        .map_err(|e| format!("FACILITATOR_URL: {e}"))?
        .with_payment_ids(payment_id);
    if let Some(token) = env("FACILITATOR_API_KEY") {
        facilitator = facilitator.with_bearer_token(token);
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port)))
        .await
        .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    // PORT=0 takes a free port: the address printed and offered is the one bound.
    let bound = listener.local_addr().map_err(|e| e.to_string())?.port();
    let public_url = env("PUBLIC_URL").unwrap_or_else(|| format!("http://127.0.0.1:{bound}"));
    let (close, closed) = tokio::sync::oneshot::channel::<()>();
    let close = std::sync::Arc::new(std::sync::Mutex::new(Some(close)));
    let app = app(facilitator, &public_url, evm.as_ref(), stacks.as_ref())?.route(
        "/close",
        post(move || {
            if let Some(close) = close.lock().ok().and_then(|mut c| c.take()) {
                // The server stops once this answer is sent.
                let _ = close.send(());
            }
            async { Json(json!({"status": "closing"})) }
        }),
    );
    let mut sells = Vec::new();
    if let Some((usdc, payee)) = &evm {
        sells.push(format!("USDC on {} to {payee}", usdc.network()));
    }
    if let Some((network, payee)) = &stacks {
        sells.push(format!(
            "STX, sBTC, USDCx on {} to {payee}",
            network.caip2()
        ));
    }
    println!("Server listening on {public_url} ({})", sells.join("; "));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = closed => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await
        .map_err(|e| format!("server: {e}"))
}

/// What names a payment for the paywall's replay guard, whatever its encoding: EIP-3009 by
/// token, payer and nonce; Permit2 by payer and nonce; Stacks by payer and account nonce.
fn payment_id(request: &coinslot::VerifyRequest) -> Option<coinslot::PaymentId> {
    coinslot::evm::exact::payment_id(request)
        .or_else(|| coinslot::evm::upto::payment_id(request))
        .or_else(|| coinslot::stacks::exact::payment_id(request))
}

/// The `facilitatorAddress` the facilitator publishes for `upto` on `network`: who may settle
/// an `upto` offer. Asked when the first request prices the route (not at start-up, so that the
/// server starts whatever the facilitator's state), and kept once known.
async fn upto_facilitator(
    facilitator: &HttpFacilitator,
    network: &Network,
) -> Result<Address, Rejection> {
    use coinslot::Facilitator as _;
    let unavailable = |why: String| Rejection::new(StatusCode::SERVICE_UNAVAILABLE, why);
    let supported = facilitator.supported().await.map_err(|error| {
        tracing::error!(%error, "the facilitator's /supported failed");
        unavailable("the facilitator cannot be reached to price this route".to_owned())
    })?;
    supported
        .extra("upto", network)
        .and_then(|extra| extra.get("facilitatorAddress"))
        .and_then(|address| address.as_str())
        .and_then(|address| address.parse().ok())
        .ok_or_else(|| unavailable(format!("the facilitator settles no upto on {network}")))
}

/// The price of a word the `upto` route writes.
const PRICE_PER_WORD: &str = "$0.0001";

/// The routes and their prices.
fn app(
    facilitator: HttpFacilitator,
    public_url: &str,
    evm: Option<&(Eip3009Token, Address)>,
    stacks: Option<&(StacksNetwork, String)>,
) -> Result<Router, String> {
    let parse = |text: &str| Price::parse(text).map_err(|e| e.to_string());
    let usdc = |text: &str| -> Result<Option<PaymentRequirements>, String> {
        evm.map(|(usdc, payee)| {
            usdc.requirements(*payee, &parse(text)?)
                .map_err(|e| e.to_string())
        })
        .transpose()
    };
    let on_stacks =
        |asset: &StacksAsset, text: &str| -> Result<Option<PaymentRequirements>, String> {
            stacks
                .map(|(network, payee)| {
                    stacks_requirements(*network, asset, payee, &parse(text)?)
                        .map_err(|e| e.to_string())
                })
                .transpose()
        };
    let mainnet = stacks.is_some_and(|(network, _)| network.is_mainnet());
    let (sbtc, usdcx) = if mainnet {
        (Sip010Token::sbtc_mainnet(), Sip010Token::usdcx_mainnet())
    } else {
        (Sip010Token::sbtc_testnet(), Sip010Token::usdcx_testnet())
    };
    let paid = |path: &str, offers: Vec<Option<PaymentRequirements>>, what: &str| {
        offers
            .into_iter()
            .flatten()
            .fold(PaidRoute::get(path), PaidRoute::accepts)
            .description(what)
            .mime_type("application/json")
    };
    let supported_by = facilitator.clone();
    let mut paywall = PaymentLayer::builder(facilitator, public_url).with_route(paid(
        "/weather",
        vec![usdc("$0.001")?, on_stacks(&StacksAsset::Stx, "0.001")?],
        "Today's weather",
    ));
    let mut router = Router::new()
        .route(
            "/free",
            get(|| async { Json(json!({"message": "free of charge"})) }),
        )
        .route("/weather", get(weather));
    if evm.is_some() {
        let per_word = usdc("$0.0001")?.ok_or("no USDC offer")?;
        paywall = paywall
            .with_route(paid(
                "/exact/evm/eip3009",
                vec![usdc("$0.001")?],
                "The end-to-end suite's protected endpoint",
            ))
            .with_route(
                PaidRoute::get("/words")
                    .priced_by(move |parts| {
                        let count = word_count(parts.uri.query());
                        let mut offer = per_word.clone();
                        Box::pin(async move {
                            let count = count?;
                            let total = offer.amount.as_u256() * coinslot::U256::from(count);
                            offer.amount = TokenAmount::from(total);
                            Ok(vec![offer])
                        })
                    })
                    .description("Words, $0.0001 each")
                    .mime_type("application/json"),
            );
        router = router
            .route("/exact/evm/eip3009", get(paid_message))
            .route("/words", get(words));
        if let Some((usdc, payee)) = evm {
            let permit2 = usdc
                .erc20()
                .exact_requirements(*payee, &parse("$0.001")?)
                .map_err(|e| e.to_string())?;
            paywall = paywall.with_route(paid(
                "/exact/evm/permit2",
                vec![Some(permit2)],
                "The end-to-end suite's Permit2 endpoint",
            ));
            router = router.route("/exact/evm/permit2", get(paid_message));
            let per_word = parse(PRICE_PER_WORD)?
                .to_atomic(usdc.decimals())
                .map_err(|e| e.to_string())?;
            let (usdc, payee, maximum) = (usdc.clone(), *payee, parse("$0.001")?);
            let settler = Arc::new(tokio::sync::OnceCell::new());
            let metered = PaidRoute::get("/upto/evm/permit2").priced_by(move |_| {
                let (usdc, maximum) = (usdc.clone(), maximum.clone());
                let (settler, facilitator) = (Arc::clone(&settler), supported_by.clone());
                Box::pin(async move {
                    let network = usdc.network().clone();
                    let settler = settler
                        .get_or_try_init(|| upto_facilitator(&facilitator, &network))
                        .await?;
                    let offer = usdc
                        .upto_requirements(payee, &maximum, *settler)
                        .map_err(|e| {
                            Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
                        })?;
                    Ok(vec![offer])
                })
            });
            paywall = paywall.with_route(
                metered
                    .description("A sentence, $0.0001 per word written, up to $0.001")
                    .mime_type("application/json"),
            );
            router = router.route(
                "/upto/evm/permit2",
                get(move |payment| metered_sentence(payment, per_word)),
            );
        }
    }
    if stacks.is_some() {
        // x402-stacks v1 clients send the bare transaction hex in X-PAYMENT.
        paywall = paywall.with_raw_payment(coinslot::stacks::exact::raw_payment);
        for (path, asset, price) in [
            ("/exact/stacks/stx", StacksAsset::Stx, "0.001"),
            ("/exact/stacks/sbtc", StacksAsset::Sip010(sbtc), "0.000001"),
            ("/exact/stacks/usdcx", StacksAsset::Sip010(usdcx), "0.001"),
        ] {
            paywall = paywall.with_route(paid(
                path,
                vec![on_stacks(&asset, price)?],
                "Paid on Stacks",
            ));
            router = router.route(path, get(paid_message));
        }
    }
    let paywall = paywall.build().map_err(|e| e.to_string())?;
    Ok(router
        .layer(paywall)
        .route("/health", get(|| async { Json(json!({"status": "ok"})) })))
}

/// `count=N` from the query, 1 ≤ N ≤ [`MAX_WORDS`].
fn word_count(query: Option<&str>) -> Result<u64, Rejection> {
    let count = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("count="))
        .ok_or_else(|| Rejection::bad_request("count=N is required"))?;
    match count.parse::<u64>() {
        Ok(n @ 1..=MAX_WORDS) => Ok(n),
        _ => Err(Rejection::bad_request(format!(
            "count must be between 1 and {MAX_WORDS}"
        ))),
    }
}

async fn paid_message(Extension(payment): Extension<VerifiedPayment>) -> Json<Value> {
    Json(json!({"message": "paid content", "payer": payment.payer}))
}

async fn weather(Extension(payment): Extension<VerifiedPayment>) -> Json<Value> {
    Json(json!({"weather": "sunny", "temperature": 21, "payer": payment.payer}))
}

/// Writes a sentence and charges for the words it wrote, at most what the maximum buys.
async fn metered_sentence(
    Extension(payment): Extension<VerifiedPayment>,
    per_word: TokenAmount,
) -> impl IntoResponse {
    const SENTENCE: &str = "coinslot charges for the words it wrote";
    let affordable = payment.amount.as_u256() / per_word.as_u256().max(coinslot::U256::from(1));
    let words: Vec<&str> = SENTENCE
        .split(' ')
        .take(usize::try_from(affordable).unwrap_or(usize::MAX))
        .collect();
    let charge = TokenAmount::from(per_word.as_u256() * coinslot::U256::from(words.len()));
    let body = Json(json!({
        "sentence": words.join(" "),
        "words": words.len(),
        "charged": charge.to_string(),
        "maximum": payment.amount.to_string(),
    }));
    (Extension(Charge::from(charge)), body)
}

#[derive(Deserialize)]
struct Words {
    count: u64,
}

async fn words(
    Query(Words { count }): Query<Words>,
    Extension(payment): Extension<VerifiedPayment>,
) -> Json<Value> {
    const LOREM: [&str; 8] = [
        "coin", "slot", "pay", "per", "request", "with", "x402", "today",
    ];
    let words: Vec<&str> = (0..count).map(|i| LOREM[(i % 8) as usize]).collect();
    let network: &Network = &payment.network;
    Json(
        json!({"words": words.join(" "), "paid": payment.amount.to_string(), "network": network.as_str()}),
    )
}
