//! Bad input from anyone on the internet, against the example server in front of the example
//! facilitator (both binaries, the facilitator with an API key) on the local chain: every bad
//! payment is a 4xx with its reason at the server, the facilitator never answers 5xx while it
//! and the chain are up, and nothing moves on chain. Payments at the very limits still pay.
//!
//! The facilitator binary belongs to another package: the tests have cargo build it (a no-op
//! when it is fresh) beside the server's, so that they never run a stale one.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use coinslot::evm::alloy::primitives::{Address, B256, U256};
use coinslot::evm::exact::ExactEvmClient;
use coinslot::limits::{MAX_HEADER_JSON_LEN, MAX_RESOURCE_URL_LEN};
use coinslot::v1::PaymentPayloadV1;
use coinslot::{PaymentPayload, PaymentRequired, PaymentRequirements, SchemeClient as _};
use coinslot_testkit::{Hostile, LocalChain, ServiceProcess, USDC, exact_requirements};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The facilitator's API key.
const KEY: &str = "k";

/// The example facilitator binary, built by cargo beside this package's server binary.
fn facilitator_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let server = PathBuf::from(env!("CARGO_BIN_EXE_server"));
            let mut cargo = std::process::Command::new(env!("CARGO"));
            cargo.args(["build", "--quiet", "-p", "coinslot-example-facilitator"]);
            if server.parent().and_then(|dir| dir.file_name()) == Some("release".as_ref()) {
                cargo.arg("--release");
            }
            let status = cargo.status().expect("cargo runs");
            assert!(status.success(), "cargo could not build the facilitator");
            server.with_file_name("facilitator")
        })
        .clone()
}

/// The chain, the facilitator and the server, each a real process but the chain's client.
struct Stack {
    chain: LocalChain,
    facilitator: ServiceProcess,
    server: ServiceProcess,
    http: reqwest::Client,
}

/// What the chain holds that a payment could move: both balances and the settler's nonce.
type Ledger = (U256, U256, u64);

impl Stack {
    async fn start() -> Self {
        let chain = LocalChain::start().await.unwrap();
        for hostile in [Hostile::BurnsAllGas, Hostile::InvalidOpcode] {
            chain.place_hostile(hostile).await.unwrap();
        }
        let key =
            coinslot::evm::alloy::hex::encode_prefixed(chain.accounts().settlers[0].to_bytes());
        let facilitator = ServiceProcess::start(
            facilitator_binary(),
            &[
                ("PORT", "0".to_owned()),
                ("EVM_PRIVATE_KEY", key),
                ("EVM_RPC_URL", chain.rpc_url().to_string()),
                ("FACILITATOR_API_KEY", KEY.to_owned()),
            ],
            "Facilitator listening",
            false,
        )
        .unwrap();
        let server = ServiceProcess::start(
            env!("CARGO_BIN_EXE_server"),
            &[
                ("PORT", "0".to_owned()),
                ("FACILITATOR_URL", facilitator.url().to_owned()),
                ("FACILITATOR_API_KEY", KEY.to_owned()),
                (
                    "EVM_PAYEE_ADDRESS",
                    chain.accounts().payee.address().to_checksum(None),
                ),
            ],
            "Server listening",
            false,
        )
        .unwrap();
        Self {
            chain,
            facilitator,
            server,
            http: reqwest::Client::new(),
        }
    }

    async fn ledger(&self) -> Ledger {
        use coinslot::evm::alloy::providers::Provider as _;
        let accounts = self.chain.accounts();
        let nonce = self
            .chain
            .provider()
            .get_transaction_count(accounts.settlers[0].address())
            .await
            .unwrap();
        (
            self.chain
                .usdc_balance(accounts.payer.address())
                .await
                .unwrap(),
            self.chain
                .usdc_balance(accounts.payee.address())
                .await
                .unwrap(),
            nonce,
        )
    }

    /// The offers of `path`'s 402.
    async fn challenge(&self, path: &str) -> PaymentRequired {
        let response = self.get(path, &[]).await;
        assert_eq!(response.0, StatusCode::PAYMENT_REQUIRED, "{path}");
        response.1.expect("a 402 names its offers")
    }

    /// A fresh, valid v2 payment of the payer for `path`, as JSON.
    async fn payment(&self, path: &str) -> Value {
        let required = self.challenge(path).await;
        let payment = ExactEvmClient::new(self.chain.accounts().payer.clone())
            .create_payment_payload(&required.accepts[0], Some(&required.resource))
            .await
            .unwrap();
        serde_json::to_value(payment).unwrap()
    }

    /// GETs `path` with `headers`: the status, the 402's `PAYMENT-REQUIRED` when there is one,
    /// and the body.
    async fn get(
        &self,
        path: &str,
        headers: &[(&str, String)],
    ) -> (StatusCode, Option<PaymentRequired>, Value) {
        self.send(reqwest::Method::GET, path, headers).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
    ) -> (StatusCode, Option<PaymentRequired>, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.url()));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let required = response
            .headers()
            .get("payment-required")
            .map(|v| PaymentRequired::from_header(v.as_bytes()).unwrap());
        let body = response.bytes().await.unwrap();
        (
            status,
            required,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    /// POSTs `body` to the facilitator's `path` with its key: the status and the JSON answer.
    async fn facilitator(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.facilitator.url()))
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

/// A header value carrying `json` exactly as written.
fn header(json: &str) -> String {
    STANDARD.encode(json)
}

/// A payment for `offer` whose payer is the contract at `from` (a hostile wallet).
fn from_contract(from: Address, offer: &PaymentRequirements) -> Value {
    let valid_before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 300;
    json!({
        "x402Version": 2,
        "accepted": offer,
        "payload": {
            "signature": format!("0x{}1b", "11".repeat(64)),
            "authorization": {
                "from": from.to_checksum(None), "to": offer.pay_to,
                "value": offer.amount, "validAfter": "0", "validBefore": valid_before.to_string(),
                "nonce": B256::random().to_string(),
            },
        },
    })
}

/// One bad request to the server, and what it must answer.
struct Case {
    name: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    status: StatusCode,
    /// How the reason the answer gives starts.
    reason: String,
}

/// The error a 402 names.
fn error_of(required: Option<&PaymentRequired>) -> String {
    required
        .and_then(|r| r.error.clone())
        .expect("a 402 says why")
}

#[tokio::test]
async fn every_class_of_bad_input_is_a_4xx_with_its_reason_and_moves_nothing() {
    let stack = Stack::start().await;
    let path = "/exact/evm/eip3009";
    let payee = stack.chain.accounts().payee.address();
    let before = stack.ledger().await;

    let mut cases: Vec<Case> = Vec::new();

    // Depth: JSON nested 127 deep, as deep as the facilitator's parser goes once wrapped.
    let deep = format!(
        r#"{{"x402Version":2,"payload":{{"deep":{}1{}}}}}"#,
        "[".repeat(127),
        "]".repeat(127)
    );
    // Refused at the server, which names the header: never forwarded to be refused there.
    let at_the_server = "invalid_payload: PAYMENT-SIGNATURE";
    cases.push(Case {
        name: "nested 127 deep",
        path: path.to_owned(),
        headers: vec![("payment-signature", header(&deep))],
        status: StatusCode::PAYMENT_REQUIRED,
        reason: at_the_server.to_owned(),
    });

    // Number forms: a fresh, valid payment with exponent numbers that re-encode 4× longer,
    // filling the header to just under its limit.
    let mut payment = stack.payment(path).await;
    payment["payload"]["pad"] = json!([]);
    let json = payment.to_string();
    let room = (MAX_HEADER_JSON_LEN - json.len() - 16) / 5;
    let numbers = vec!["1e15"; room].join(",");
    let exponents = json.replacen(r#""pad":[]"#, &format!(r#""pad":[{numbers}]"#), 1);
    cases.push(Case {
        name: "1e15 numbers in a valid payment",
        path: path.to_owned(),
        headers: vec![("payment-signature", header(&exponents))],
        status: StatusCode::PAYMENT_REQUIRED,
        reason: at_the_server.to_owned(),
    });

    // Size: one byte of JSON past what a header may carry.
    let mut oversized = stack.payment(path).await;
    let filler = MAX_HEADER_JSON_LEN + 1 - oversized.to_string().len() - r#","pad":"""#.len();
    oversized["payload"]["pad"] = json!("x".repeat(filler));
    cases.push(Case {
        name: "a header over 64 KiB",
        path: path.to_owned(),
        headers: vec![("payment-signature", header(&oversized.to_string()))],
        status: StatusCode::PAYMENT_REQUIRED,
        reason: at_the_server.to_owned(),
    });

    // v1 query length: a v1 payment on a URL past the resource URL limit.
    let words = "/words?count=1";
    let v1 =
        PaymentPayloadV1::from_v2(&serde_json::from_value(stack.payment(words).await).unwrap())
            .unwrap();
    let long = format!("{words}&pad={}", "q".repeat(60 * 1024));
    cases.push(Case {
        name: "a v1 payment on a 60 KiB URL",
        path: long,
        headers: vec![("x-payment", v1.to_header().unwrap())],
        status: StatusCode::URI_TOO_LONG,
        reason: "a priced URL may have at most".to_owned(),
    });

    // Hostile payers: contract wallets whose signature check burns all gas, or halts.
    let offer = stack.challenge(path).await.accepts[0].clone();
    for (name, hostile) in [
        ("a payer that burns all gas", Hostile::BurnsAllGas),
        ("a payer that halts", Hostile::InvalidOpcode),
    ] {
        let payment = from_contract(hostile.address(), &offer);
        cases.push(Case {
            name,
            path: path.to_owned(),
            headers: vec![("payment-signature", header(&payment.to_string()))],
            status: StatusCode::PAYMENT_REQUIRED,
            reason: "invalid_exact_evm_signature".to_owned(),
        });
    }

    for Case {
        name,
        path,
        headers,
        status,
        reason,
    } in &cases
    {
        let (got, required, body) = stack.get(path, headers).await;
        assert_eq!(got, *status, "{name}: {body}");
        let said = required.as_ref().map_or_else(
            || body["error"].as_str().unwrap_or_default().to_owned(),
            |r| error_of(Some(r)),
        );
        assert!(said.starts_with(reason.as_str()), "{name}: {said}");
    }

    // Hostile assets, and hostile payers too, straight to the facilitator: refusals, never
    // a 5xx, at verify and at settle.
    let payer = stack.chain.accounts().payer.address();
    let straight = [
        (
            "an asset that burns all gas",
            payer,
            Hostile::BurnsAllGas.address(),
        ),
        (
            "an asset that halts",
            payer,
            Hostile::InvalidOpcode.address(),
        ),
        (
            "a payer that burns all gas",
            Hostile::BurnsAllGas.address(),
            USDC,
        ),
        ("a payer that halts", Hostile::InvalidOpcode.address(), USDC),
    ];
    for (name, from, asset) in straight {
        let mut offer = exact_requirements(payee, 1000);
        offer.asset = asset.to_checksum(None);
        let payment = from_contract(from, &offer);
        let body = json!({
            "x402Version": 2, "paymentPayload": payment,
            "paymentRequirements": payment["accepted"],
        });
        let (status, verified) = stack.facilitator("/verify", &body).await;
        assert_eq!(status, StatusCode::OK, "{name}: {verified}");
        assert_eq!(verified["isValid"], false, "{name}: {verified}");
        let (status, settled) = stack.facilitator("/settle", &body).await;
        assert_eq!(status, StatusCode::OK, "{name}: {settled}");
        assert_eq!(settled["success"], false, "{name}: {settled}");
        assert_eq!(settled["transaction"], "", "{name}: nothing sent");
    }

    assert_eq!(stack.ledger().await, before, "nothing moved");
}

#[tokio::test]
async fn payments_at_the_very_limits_still_pay() {
    let stack = Stack::start().await;
    let path = "/exact/evm/eip3009";
    let before = stack.ledger().await;

    // A valid payment padded to the largest header the server takes.
    let mut payment = stack.payment(path).await;
    let filler = MAX_HEADER_JSON_LEN - payment.to_string().len() - r#","pad":"""#.len();
    payment["payload"]["pad"] = json!("x".repeat(filler));
    let largest = payment.to_string();
    assert_eq!(largest.len(), MAX_HEADER_JSON_LEN);
    let (status, _, body) = stack
        .get(path, &[("payment-signature", header(&largest))])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A v1 payment on the longest URL a priced request may have: the v1 requirements carry
    // it to the facilitator.
    let base = stack.server.url().len();
    let words = "/words?count=1&pad=";
    let long = format!(
        "{words}{}",
        "q".repeat(MAX_RESOURCE_URL_LEN - base - words.len())
    );
    let v2: PaymentPayload = serde_json::from_value(stack.payment(&long).await).unwrap();
    let v1 = PaymentPayloadV1::from_v2(&v2).unwrap();
    let (status, _, body) = stack
        .get(&long, &[("x-payment", v1.to_header().unwrap())])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["paid"], "100");

    let after = stack.ledger().await;
    assert_eq!(after.1 - before.1, U256::from(1000 + 100), "both paid");
}

#[tokio::test]
async fn a_head_learns_the_price_and_never_pays() {
    let stack = Stack::start().await;
    let path = "/exact/evm/eip3009";
    let payment = header(&stack.payment(path).await.to_string());
    let before = stack.ledger().await;

    let (status, required, _) = stack
        .send(
            reqwest::Method::HEAD,
            path,
            &[("payment-signature", payment.clone())],
        )
        .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert!(error_of(required.as_ref()).contains("HEAD"));
    let (status, required, _) = stack.send(reqwest::Method::HEAD, path, &[]).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(required.unwrap().accepts[0].amount, 1000u64.into());
    assert_eq!(stack.ledger().await, before, "a HEAD settles nothing");

    // The payment was not used: a GET with it pays.
    let (status, _, body) = stack.get(path, &[("payment-signature", payment)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stack.ledger().await.1 - before.1, U256::from(1000));
}

#[tokio::test]
async fn the_facilitator_refuses_what_it_should_not_pay_gas_for_and_reads_any_bearer() {
    let stack = Stack::start().await;
    let accounts = stack.chain.accounts();
    let client = ExactEvmClient::new(accounts.payer.clone());
    let request = |offer: &coinslot::PaymentRequirements, payment: &PaymentPayload| json!({"x402Version": 2, "paymentPayload": payment, "paymentRequirements": offer});
    let before = stack.ledger().await;

    // Zero value, and a payment to oneself.
    let zero = exact_requirements(accounts.payee.address(), 0);
    let to_self = exact_requirements(accounts.payer.address(), 1000);
    for (offer, reason) in [
        (&zero, "invalid_payment_requirements"),
        (&to_self, "invalid_payment"),
    ] {
        let payment = client.create_payment_payload(offer, None).await.unwrap();
        let body = request(offer, &payment);
        let (status, verified) = stack.facilitator("/verify", &body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verified["invalidReason"], reason, "{verified}");
        let (status, settled) = stack.facilitator("/settle", &body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(settled["errorReason"], reason, "{settled}");
    }
    assert_eq!(stack.ledger().await, before, "nothing paid for nothing");

    // A JSON array where an object belongs is a 400, not a request read field by field.
    let offer = exact_requirements(accounts.payee.address(), 1000);
    let payment = client.create_payment_payload(&offer, None).await.unwrap();
    let (status, answer) = stack
        .facilitator("/verify", &json!([2, payment, offer]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    // The bearer scheme is case-insensitive (RFC 9110 §11.1).
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let status = stack
            .http
            .get(format!("{}/supported", stack.facilitator.url()))
            .header("authorization", format!("{scheme} {KEY}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK, "{scheme}");
    }
}
