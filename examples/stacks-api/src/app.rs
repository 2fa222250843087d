//! The service put together: the facilitator, the paywall over the paid routes (their list and
//! descriptions read from the handlers' OpenAPI annotations), the ways in before x402, the
//! usage record, and the free routes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::Method;
use axum::http::request::Parts;
use coinslot::Facilitator;
use coinslot::evm::exact::ExactEvmFacilitator;
use coinslot::facilitator::store::SqliteStore;
use coinslot::facilitator::{HttpFacilitator, LocalFacilitator};
use coinslot::stacks::exact::ExactStacksFacilitator;
use coinslot::stacks::node::StacksNode;
use coinslot::tower::access::{ApiKeys, FreeTier, SqliteAccessStore};
use coinslot::tower::{PaidRoute, PaymentLayer};
use coinslot_example_inference::Embedder;
use serde_json::{Value, json};
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::caller::{self, TokenType};
use crate::config::{Config, FacilitatorChoice};
use crate::error::{self, ApiError};
use crate::openapi;
use crate::pricing::{Pricing, STANDARD_USTX};
use crate::routes::{self, hashing, kv, locks, memory, paste, queue, sql, stacks};
use crate::store::PayerStores;
use crate::usage::{self, UsageRecord};

/// The largest request body: a paste at its limit, escaped as JSON, fits.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Refuses, before any payment or credit is asked, a body declared larger than any route
/// takes: paid write routes settle before they run, and would otherwise charge for a body
/// their extractor then refuses.
async fn refuse_oversized(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        let mut answer =
            ApiError::too_large(format!("a request body is at most {MAX_BODY_BYTES} bytes"))
                .answer(TokenType::default());
        // The body is left unread: the connection cannot carry another request.
        answer.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return answer;
    }
    next.run(request).await
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The tokens and prices.
    pub pricing: Arc<Pricing>,
    /// Each payer's database.
    pub stores: PayerStores,
    /// Paid calls served.
    pub usage: UsageRecord,
    /// The node's account answers.
    pub hiro: stacks::Hiro,
    /// The free documents, made once.
    pub catalog: Arc<Catalog>,
    /// The sentence model of vector memory.
    pub embedder: Arc<Embedder>,
}

/// A paid endpoint, as its handler's annotation describes it.
#[derive(Debug, Clone)]
pub struct PaidEndpoint {
    /// Its method.
    pub method: Method,
    /// Its path, in axum's syntax (`/storage/kv/{key}`).
    pub path: String,
    /// What it does.
    pub summary: String,
}

impl PaidEndpoint {
    /// Whether it changes the payer's data: such calls settle before they run, so that a
    /// write is never kept for a payment that then fails. Reads settle after a success, so
    /// that a refused read is not charged.
    pub fn writes(&self) -> bool {
        const READS_BY_POST: [&str; 2] = ["/storage/db/query", "/storage/memory/search"];
        self.method != Method::GET
            && self.path.starts_with("/storage/")
            && !READS_BY_POST.contains(&self.path.as_str())
    }
}

/// The free documents: made from the routes once, served as they are.
#[derive(Debug)]
pub struct Catalog {
    /// The paid endpoints.
    pub paid: Vec<PaidEndpoint>,
    /// `/openapi.json`.
    pub openapi: String,
    /// `/x402.json`.
    pub manifest: Value,
    /// `/llms.txt`.
    pub llms: String,
    /// Who is paid on Stacks.
    pub pay_to: String,
    /// The tokens accepted, by name, with the standard price in each.
    pub tokens: Value,
}

/// The paid routes, every one annotated for the OpenAPI document.
fn paid_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hashing::sha256))
        .routes(routes!(hashing::sha512))
        .routes(routes!(hashing::sha512_256))
        .routes(routes!(hashing::keccak256))
        .routes(routes!(hashing::hash160))
        .routes(routes!(hashing::ripemd160))
        .routes(routes!(stacks::address))
        .routes(routes!(stacks::decode_clarity))
        .routes(routes!(stacks::decode_transaction))
        .routes(routes!(stacks::profile))
        .routes(routes!(stacks::verify_message_route))
        .routes(routes!(stacks::verify_sip018))
        .routes(routes!(kv::set, kv::list))
        .routes(routes!(kv::get, kv::delete))
        .routes(routes!(paste::create))
        .routes(routes!(paste::get, paste::delete))
        .routes(routes!(sql::query))
        .routes(routes!(sql::execute))
        .routes(routes!(sql::schema))
        .routes(routes!(locks::lock))
        .routes(routes!(locks::unlock))
        .routes(routes!(locks::extend))
        .routes(routes!(locks::status))
        .routes(routes!(locks::list))
        .routes(routes!(queue::push))
        .routes(routes!(queue::pop))
        .routes(routes!(queue::peek))
        .routes(routes!(queue::status))
        .routes(routes!(queue::clear))
        .routes(routes!(memory::store))
        .routes(routes!(memory::search))
        .routes(routes!(memory::delete))
        .routes(routes!(memory::list))
        .routes(routes!(memory::clear))
        .routes(routes!(routes::usage))
}

fn free_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::index))
        .routes(routes!(routes::health))
        .routes(routes!(routes::openapi))
        .routes(routes!(routes::manifest))
        .routes(routes!(routes::llms))
        .routes(routes!(routes::docs))
        .routes(routes!(routes::dashboard))
        .routes(routes!(routes::dashboard_data))
}

/// The paid operations of an OpenAPI document.
fn paid_endpoints(api: &OpenApi) -> Vec<PaidEndpoint> {
    let mut paid = Vec::new();
    for (path, item) in &api.paths.paths {
        let operations = [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::DELETE, &item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            paid.push(PaidEndpoint {
                method,
                path: path.clone(),
                summary: operation.summary.clone().unwrap_or_default(),
            });
        }
    }
    paid
}

async fn facilitator(config: &Config) -> Result<Box<dyn Facilitator>, String> {
    match &config.facilitator {
        FacilitatorChoice::Remote { url, api_key } => {
            let mut remote = HttpFacilitator::new(url)
                .map_err(|e| format!("FACILITATOR_URL: {e}"))?
                .with_payment_ids(coinslot::stacks::exact::payment_id);
            if let Some(token) = api_key {
                remote = remote.with_bearer_token(token);
            }
            Ok(Box::new(remote))
        }
        FacilitatorChoice::InProcess => {
            let node = StacksNode::new(&config.stacks_node_url);
            let store = SqliteStore::open(config.data_dir.join("settlements.sqlite"))
                .map_err(|e| format!("the settlement record: {e}"))?;
            let mut local = LocalFacilitator::builder()
                .with_scheme(ExactStacksFacilitator::new(node, config.stacks_network))
                .with_store(store);
            if let Some(evm) = &config.evm
                && let (Some(rpc), Some(key)) = (&evm.rpc_url, &evm.private_key)
            {
                let key: coinslot::evm::alloy::signers::local::PrivateKeySigner = key
                    .parse()
                    .map_err(|_| "EVM_PRIVATE_KEY is not a private key".to_owned())?;
                let exact = ExactEvmFacilitator::connect(rpc, [key])
                    .await
                    .map_err(|e| format!("EVM_RPC_URL: {e}"))?;
                local = local.with_scheme(exact);
            }
            Ok(Box::new(local.build()))
        }
    }
}

/// Free-tier clients are told apart by their address; storage and usage are not free.
fn free_tier_client(parts: &Parts) -> Option<String> {
    let path = parts.uri.path();
    if path.starts_with("/storage") || path == "/usage" {
        return None;
    }
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(peer.0.ip().to_string())
}

fn manifest(
    public_url: &str,
    paid: &[PaidEndpoint],
    offers: &[coinslot::PaymentRequirements],
) -> Value {
    let items: Vec<Value> = paid
        .iter()
        .map(|endpoint| {
            json!({
                "resource": format!("{public_url}{}", endpoint.path),
                "type": "http",
                "accepts": offers,
                "metadata": {"method": endpoint.method.as_str(), "description": endpoint.summary},
            })
        })
        .collect();
    json!({"x402Version": 2, "items": items})
}

fn llms_text(public_url: &str, paid: &[PaidEndpoint], tokens: &Value) -> String {
    let mut text = format!(
        "# x402 Stacks API\n\n> Pay-per-call hashing, Stacks utilities and private storage for \
         agents, paid with x402 (HTTP 402) in STX, sBTC or USDCx; no account needed.\n\n\
         Base URL: {public_url}\nPrices per call: {tokens}\n\
         Pay by answering the 402's PAYMENT-REQUIRED with a PAYMENT-SIGNATURE header, or send \
         an API key (X-API-Key). Your storage is keyed by your paying address.\n\n## Endpoints\n\n"
    );
    for endpoint in paid {
        text.push_str(&format!(
            "- {} {}: {}\n",
            endpoint.method, endpoint.path, endpoint.summary
        ));
    }
    text.push_str("\n## Documents\n\n- /openapi.json: OpenAPI 3.1\n- /x402.json: the offers of every paid route\n");
    text
}

/// The service's router for `config`, offering `public_url` as its address.
pub async fn build(config: &Config, public_url: &str) -> Result<Router, String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("DATA_DIR {}: {e}", config.data_dir.display()))?;
    let usage = UsageRecord::open(&config.data_dir.join("usage.sqlite"))
        .map_err(|e| format!("the usage record: {e}"))?;
    let access = SqliteAccessStore::open(config.data_dir.join("access.sqlite"))
        .map_err(|e| format!("the API keys: {e}"))?;
    let stores = PayerStores::new(config.data_dir.join("payers"))
        .map_err(|e| format!("the payer databases: {e}"))?;
    stores.keep_swept();
    let embedder = Embedder::load_installed(&config.models_dir)
        .map_err(|e| format!("vector memory's model (MODELS_DIR): {e}"))?;
    let pricing = Arc::new(Pricing::new(config));
    let offers = pricing.offers(STANDARD_USTX)?;

    let (paid_router, paid_api) = paid_routes().split_for_parts();
    let (free_router, free_api) = free_routes().split_for_parts();
    let paid = paid_endpoints(&paid_api);
    let mut api = paid_api.merge_from(free_api);
    api.info.title = "x402 Stacks API".to_owned();
    api.info.description = Some(
        "Paid per call with x402 v2: a priced route answers 402 with its offers in \
         PAYMENT-REQUIRED; send the payment in PAYMENT-SIGNATURE. An X-API-Key with credit \
         is served without a payment. Errors are {ok: false, error, tokenType}."
            .to_owned(),
    );
    let tokens: Value = offers
        .iter()
        .map(|offer| {
            (
                pricing.token_name(&offer.asset).to_owned(),
                Value::from(offer.amount.to_string()),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    let catalog = Catalog {
        openapi: openapi::document(
            &api,
            &paid
                .iter()
                .map(|e| (e.method.as_str().to_lowercase(), e.path.clone()))
                .collect::<Vec<_>>(),
        )?,
        manifest: manifest(public_url, &paid, &offers),
        llms: llms_text(public_url, &paid, &tokens),
        pay_to: config.stacks_payee.to_string(),
        tokens,
        paid: paid.clone(),
    };

    let mut paywall = PaymentLayer::builder(facilitator(config).await?, public_url)
        .with_raw_payment(coinslot::stacks::exact::raw_payment)
        .with_access_policy(ApiKeys::new(access.clone(), config.api_key_cost));
    if config.free_calls_per_day > 0 {
        paywall = paywall.with_access_policy(FreeTier::new(
            access,
            config.free_calls_per_day,
            free_tier_client,
        ));
    }
    for endpoint in &paid {
        let mut route = PaidRoute::new(endpoint.method.clone(), endpoint.path.clone())
            .accepts_all(offers.iter().cloned())
            .description(endpoint.summary.clone())
            .mime_type("application/json");
        if endpoint.writes() {
            route = route.settle_before_handler();
        }
        paywall = paywall.with_route(route);
    }
    let paywall = paywall.build().map_err(|e| e.to_string())?;

    let state = AppState {
        pricing,
        stores,
        usage: usage.clone(),
        hiro: stacks::Hiro::new(&config.stacks_node_url),
        catalog: Arc::new(catalog),
        embedder: Arc::new(embedder),
    };
    let paid_router = paid_router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            caller::name_caller,
        ))
        .layer(paywall)
        .layer(axum::middleware::from_fn_with_state(usage, usage::record));
    Ok(paid_router
        .merge(free_router)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_oversized))
        .layer(axum::middleware::from_fn(error::shape_refusals))
        .with_state(state))
}
