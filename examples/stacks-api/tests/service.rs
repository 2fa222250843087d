//! The Stacks API as its users meet it: the binary, configured by environment, with its
//! in-process facilitator on the Stacks devnet, called by our paying client.

use coinslot::reqwest::{AssetLimit, Limits, Payer, PayingClient, SpendingPolicy};
use coinslot::stacks::PrivateKey;
use coinslot::stacks::exact::{ExactStacksClient, Sip010Token, StacksAsset};
use coinslot::stacks::network::StacksNetwork;
use coinslot::stacks::node::StacksNode;
use coinslot::stacks::{ClarityValue, message};
use coinslot::{PaymentRequired, SchemeClient as _};
use coinslot_testkit::ServiceProcess;
use coinslot_testkit::stacks::{Funds, StacksDevnet};
use serde_json::{Value, json};

const NETWORK: StacksNetwork = StacksNetwork::Testnet;

fn key(name: &str) -> PrivateKey {
    use sha2::Digest as _;
    PrivateKey::from_bytes(&sha2::Sha256::digest(name.as_bytes()).into()).unwrap()
}

fn address(key: &PrivateKey) -> String {
    key.address(false).to_string()
}

/// The devnet, a funded payer per name, and the service on it.
struct Setup {
    devnet: StacksDevnet,
    server: ServiceProcess,
    payee: String,
    data: tempfile::TempDir,
}

impl Setup {
    async fn start(payers: &[&str], env: &[(&str, &str)]) -> Self {
        let devnet = StacksDevnet::start_testnet().await.unwrap();
        for name in payers {
            let funds = Funds {
                stx: 10_000_000,
                sbtc: 10_000,
                usdcx: 1_000_000,
            };
            devnet.fund(&address(&key(name)), funds).await.unwrap();
        }
        let payee = address(&key("stacks-api payee"));
        let data = tempfile::tempdir().unwrap();
        let mut vars = vec![
            ("PORT", "0".to_owned()),
            ("STACKS_PAYEE_ADDRESS", payee.clone()),
            ("STACKS_NODE_URL", devnet.url().to_owned()),
            ("DATA_DIR", data.path().display().to_string()),
            ("MODELS_DIR", models_dir()),
        ];
        vars.extend(env.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let server = ServiceProcess::start(
            env!("CARGO_BIN_EXE_stacks-api"),
            &vars,
            "Server listening",
            true,
        )
        .unwrap();
        Self {
            devnet,
            server,
            payee,
            data,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// A client paying as `name`, in `token` only (`STX`, `sBTC`, `USDCx`).
    fn client(&self, name: &str, token: &str) -> PayingClient {
        let asset = match token {
            "STX" => StacksAsset::Stx,
            "sBTC" => StacksAsset::Sip010(Sip010Token::sbtc_testnet()),
            _ => StacksAsset::Sip010(Sip010Token::usdcx_testnet()),
        };
        let limits = Limits {
            per_request: "0.01",
            budget: "1",
        };
        let limit =
            AssetLimit::new(NETWORK.caip2(), asset.offer_id(), asset.decimals(), limits).unwrap();
        let wallet = ExactStacksClient::new(key(name), NETWORK)
            .with_node(StacksNode::new(self.devnet.url()));
        PayingClient::new(
            reqwest::Client::new(),
            Payer::builder()
                .with_wallet(wallet)
                .with_policy(SpendingPolicy::new().allow(limit))
                .build(),
        )
    }

    /// `stacks-api credit <key> <credits>` on this service's data; the key's balance after.
    fn credit(&self, api_key: &str, credits: u64) -> u64 {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_stacks-api"))
            .args(["credit", api_key, &credits.to_string()])
            .env("DATA_DIR", self.data.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap()
    }
}

/// Where `scripts/install-models.sh` put the models (the test command runs it).
fn models_dir() -> String {
    format!("{}/../../target/models", env!("CARGO_MANIFEST_DIR"))
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("{status}: not JSON: {}", String::from_utf8_lossy(&body)));
    (status, value)
}

/// Calls `method path` with `body` through `client`, and expects a paid success.
async fn paid(
    client: &PayingClient,
    setup: &Setup,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let url = setup.url(path);
    let request = match method {
        "GET" => client.get(&url),
        "POST" => client.post(&url).json(&body.unwrap_or(json!({}))),
        _ => client.request(reqwest::Method::DELETE, &url),
    };
    let response = client.send(request).await.unwrap();
    assert!(
        response.headers().contains_key("payment-response"),
        "{method} {path}: no receipt"
    );
    let (status, value) = json_of(response).await;
    assert_eq!(status, 200, "{method} {path}: {value}");
    assert_eq!(value["ok"], true, "{method} {path}: {value}");
    value
}

#[tokio::test]
async fn every_paid_endpoint_answers_for_its_stx_and_the_payee_gets_exactly_the_prices() {
    let setup = Setup::start(&["alice"], &[]).await;
    let http = reqwest::Client::new();

    // Unpaid: a 402 offering the three tokens at the standard price.
    let response = http
        .post(setup.url("/hashing/sha256"))
        .json(&json!({"data": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 402);
    let required: PaymentRequired =
        coinslot::header::decode(response.headers()["payment-required"].as_bytes()).unwrap();
    let offered: Vec<(String, String)> = required
        .accepts
        .iter()
        .map(|o| (o.asset.clone(), o.amount.to_string()))
        .collect();
    assert_eq!(offered.len(), 3, "{offered:?}");
    assert_eq!(offered[0], ("STX".to_owned(), "1000".to_owned()));
    assert_eq!(offered[1].1, "1", "sBTC: half a satoshi rounds up to one");
    assert_eq!(offered[2].1, "500", "USDCx: $0.0005");

    let alice = setup.client("alice", "STX");
    let before = setup.devnet.balances(&setup.payee).await.unwrap().stx;
    let mut calls = 0u128;
    let mut call = async |method: &str, path: &str, body: Option<Value>| {
        calls += 1;
        let answer = paid(&alice, &setup, method, path, body).await;
        assert_eq!(answer["tokenType"], "STX", "{path}: {answer}");
        answer
    };

    // Hashing: SHA-512/256 is NIST's, not SHA-512 cut short.
    let hashed = call(
        "POST",
        "/hashing/sha512-256",
        Some(json!({"data": "hello world"})),
    )
    .await;
    assert_eq!(
        hashed["hash"],
        "0x0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017"
    );
    assert_eq!(hashed["inputLength"], 11);
    for (path, data) in [
        ("/hashing/sha256", "0x616263"),
        ("/hashing/sha512", "abc"),
        ("/hashing/keccak256", ""),
        ("/hashing/hash160", "abc"),
        ("/hashing/ripemd160", "abc"),
    ] {
        let answer = call(
            "POST",
            path,
            Some(json!({"data": data, "encoding": "base64"})),
        )
        .await;
        assert_eq!(answer["encoding"], "base64");
    }

    // Stacks utilities.
    let alice_address = address(&key("alice"));
    let converted = call(
        "GET",
        &format!("/stacks/address/{alice_address}?targetNetwork=mainnet"),
        None,
    )
    .await;
    assert_eq!(
        converted["converted"],
        key("alice").address(true).to_string()
    );
    let tuple = ClarityValue::tuple([("a", ClarityValue::UInt(7))]).unwrap();
    let decoded = call(
        "POST",
        "/stacks/decode/clarity",
        Some(json!({"hex": tuple.to_hex()})),
    )
    .await;
    assert_eq!(decoded["repr"], "(tuple (a u7))");
    assert_eq!(
        decoded["value"]["value"]["a"],
        json!({"type": "uint", "value": "7"})
    );
    let offer = &required.accepts[0];
    let payment = ExactStacksClient::new(key("alice"), NETWORK)
        .with_node(StacksNode::new(setup.devnet.url()))
        .create_payment_payload(offer, None)
        .await
        .unwrap();
    let raw = payment.payload["transaction"].as_str().unwrap().to_owned();
    let decoded = call(
        "POST",
        "/stacks/decode/transaction",
        Some(json!({"hex": raw})),
    )
    .await;
    assert_eq!(decoded["txType"], "token_transfer");
    assert_eq!(decoded["sender"], alice_address);
    assert_eq!(decoded["payload"]["recipient"], setup.payee);
    assert_eq!(decoded["payload"]["amount"], "1000");
    let profile = call("GET", &format!("/stacks/profile/{alice_address}"), None).await;
    assert_eq!(profile["profile"]["address"], alice_address);
    assert_eq!(
        profile["profile"]["fungibleTokens"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{profile}"
    );
    assert!(
        profile["profile"]["nonce"].as_u64().unwrap() >= 1,
        "{profile}"
    );
    let signature = message::sign_message(&key("alice"), b"hello coinslot").unwrap();
    let verified = call(
        "POST",
        "/stacks/verify/message",
        Some(json!({
            "message": "hello coinslot",
            "signature": hex::encode(signature),
            "publicKey": hex::encode(key("alice").public_key()),
        })),
    )
    .await;
    assert_eq!(verified["valid"], true);
    // SIP-018's vector (stacks.md §4.1), which the reference service fails.
    let verified = call(
        "POST",
        "/stacks/verify/sip018",
        Some(json!({
            "signature": "8b94e45701d857c9f1d1d70e8b2ca076045dae4920fb0160be0642a68cd78de072ab527b5c5277a593baeb2a8b657c216b99f7abb5d14af35b4bf12ba6460ba401",
            "publicKey": "0390a5cac7c33fda49f70bc1b0866fa0ba7a9440d9de647fecb8132ceb76a94dfa",
            "domain": {"name": "Test App", "version": "1.0.0", "chainId": 1},
            "message": ClarityValue::StringAscii("Hello World".into()).to_hex(),
        })),
    )
    .await;
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(
        verified["structuredDataHash"],
        "0x1bfdab6d4158313ce34073fbb8d6b0fc32c154d439def12247a0f44bb2225259"
    );

    // Storage.
    let set = call(
        "POST",
        "/storage/kv",
        Some(json!({"key": "greeting", "value": "hi", "metadata": {"lang": "en"}})),
    )
    .await;
    assert_eq!(set["created"], true);
    let read = call("GET", "/storage/kv/greeting", None).await;
    assert_eq!(
        (read["value"].clone(), read["metadata"]["lang"].clone()),
        (json!("hi"), json!("en"))
    );
    let listed = call("GET", "/storage/kv?prefix=gree&limit=10", None).await;
    assert_eq!(listed["count"], 1);
    let deleted = call("DELETE", "/storage/kv/greeting", None).await;
    assert_eq!(deleted["deleted"], true);
    let pasted = call(
        "POST",
        "/storage/paste",
        Some(json!({"content": "fn main() {}", "language": "rust"})),
    )
    .await;
    let id = pasted["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 8);
    let read = call("GET", &format!("/storage/paste/{id}"), None).await;
    assert_eq!(read["content"], "fn main() {}");
    let deleted = call("DELETE", &format!("/storage/paste/{id}"), None).await;
    assert_eq!(deleted["deleted"], true);

    let executed = call(
        "POST",
        "/storage/db/execute",
        Some(json!({"query": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"})),
    )
    .await;
    assert_eq!(executed["success"], true);
    let queried = call(
        "POST",
        "/storage/db/query",
        Some(json!({"query": "SELECT ?1 + 1 AS two", "params": [1]})),
    )
    .await;
    assert_eq!(queried["rows"], json!([[2]]));
    let schema = call("GET", "/storage/db/schema", None).await;
    assert_eq!(schema["tables"][0]["name"], "notes", "{schema}");
    let locked = call("POST", "/storage/sync/lock", Some(json!({"name": "job"}))).await;
    let token = locked["token"].as_str().unwrap().to_owned();
    let status = call("GET", "/storage/sync/status/job", None).await;
    assert_eq!(status["locked"], true);
    let listed = call("GET", "/storage/sync/list", None).await;
    assert_eq!(listed["count"], 1);
    let extended = call(
        "POST",
        "/storage/sync/extend",
        Some(json!({"name": "job", "token": token, "ttl": 120})),
    )
    .await;
    assert_eq!(extended["extended"], true);
    let unlocked = call(
        "POST",
        "/storage/sync/unlock",
        Some(json!({"name": "job", "token": token})),
    )
    .await;
    assert_eq!(unlocked["released"], true);
    call(
        "POST",
        "/storage/queue/push",
        Some(json!({"name": "q", "items": [1, 2]})),
    )
    .await;
    let peeked = call("GET", "/storage/queue/peek?name=q&count=2", None).await;
    assert_eq!(peeked["count"], 2);
    let popped = call("POST", "/storage/queue/pop", Some(json!({"name": "q"}))).await;
    assert_eq!(popped["items"][0]["data"], 1);
    let status = call("GET", "/storage/queue/status?name=q", None).await;
    assert_eq!(status["pending"], 1);
    let cleared = call("POST", "/storage/queue/clear", Some(json!({"name": "q"}))).await;
    assert_eq!(cleared["cleared"], 1);
    let stored = call(
        "POST",
        "/storage/memory/store",
        Some(json!({"items": [
            {"id": "m1", "text": "The payment settled on the Stacks chain.", "metadata": {"n": 1}},
            {"id": "m2", "text": "My dog loves long walks in the park."},
        ]})),
    )
    .await;
    assert_eq!(
        (stored["stored"].clone(), stored["dimensions"].clone()),
        (json!(2), json!(384))
    );
    let found = call(
        "POST",
        "/storage/memory/search",
        Some(
            json!({"query": "a blockchain transaction was confirmed", "limit": 1, "threshold": 0}),
        ),
    )
    .await;
    assert_eq!(found["results"][0]["id"], "m1", "{found}");
    assert_eq!(found["results"][0]["metadata"]["n"], 1, "{found}");
    let listed = call("GET", "/storage/memory/list?limit=1&offset=1", None).await;
    assert_eq!(
        (listed["total"].clone(), listed["items"][0]["id"].clone()),
        (json!(2), json!("m2"))
    );
    let deleted = call(
        "POST",
        "/storage/memory/delete",
        Some(json!({"ids": ["m1", "nope"]})),
    )
    .await;
    assert_eq!(deleted["deleted"], 1);
    let cleared = call("POST", "/storage/memory/clear", None).await;
    assert_eq!(cleared["cleared"], 1);

    // The payer's own usage: every call before this one, each at 1000 µSTX.
    let usage = call("GET", "/usage", None).await;
    let lines = usage["usage"].as_array().unwrap();
    let recorded: u64 = lines.iter().map(|l| l["calls"].as_u64().unwrap()).sum();
    assert_eq!(u128::from(recorded), calls - 1, "{usage}");
    assert!(lines.iter().all(|l| l["token"] == "STX"));

    let after = setup.devnet.balances(&setup.payee).await.unwrap().stx;
    assert_eq!(after - before, calls * 1000, "{calls} calls at 0.001 STX");
    assert_eq!(calls, 38, "every paid route once");
}

#[tokio::test]
async fn sbtc_and_usdcx_pay_their_equivalents() {
    let setup = Setup::start(&["bob"], &[]).await;
    let before = setup.devnet.balances(&setup.payee).await.unwrap();
    for token in ["sBTC", "USDCx"] {
        let client = setup.client("bob", token);
        let answer = paid(
            &client,
            &setup,
            "POST",
            "/hashing/keccak256",
            Some(json!({"data": "abc"})),
        )
        .await;
        assert_eq!(answer["tokenType"], token);
    }
    let answer = paid(
        &setup.client("bob", "sBTC"),
        &setup,
        "POST",
        "/storage/kv",
        Some(json!({"key": "k", "value": "v"})),
    )
    .await;
    assert_eq!(answer["tokenType"], "sBTC");
    let after = setup.devnet.balances(&setup.payee).await.unwrap();
    assert_eq!(
        (
            after.sbtc - before.sbtc,
            after.usdcx - before.usdcx,
            after.stx - before.stx
        ),
        (2, 500, 0)
    );
}

#[tokio::test]
async fn each_account_sees_only_its_own_data() {
    let setup = Setup::start(&["carol", "dave"], &[]).await;
    assert_eq!(setup.credit("erin-key", 10), 10);
    let (carol, dave) = (setup.client("carol", "STX"), setup.client("dave", "STX"));
    for (client, value) in [(&carol, "carol's"), (&dave, "dave's")] {
        paid(
            client,
            &setup,
            "POST",
            "/storage/kv",
            Some(json!({"key": "same", "value": value})),
        )
        .await;
    }
    let http = reqwest::Client::new();
    let with_key =
        |request: reqwest::RequestBuilder| request.header("x-api-key", "erin-key").send();
    let (status, erin) = json_of(
        with_key(http.get(setup.url("/storage/kv/same")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, erin["tokenType"].clone()),
        (404, json!("API_KEY")),
        "{erin}"
    );
    let (status, _) = json_of(
        with_key(
            http.post(setup.url("/storage/kv"))
                .json(&json!({"key": "same", "value": "erin's"})),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    for (client, value) in [(&carol, "carol's"), (&dave, "dave's")] {
        let read = paid(client, &setup, "GET", "/storage/kv/same", None).await;
        assert_eq!(read["value"], value);
        let listed = paid(client, &setup, "GET", "/storage/kv", None).await;
        assert_eq!(listed["count"], 1, "{listed}");
    }
    let (_, erin) = json_of(
        with_key(http.get(setup.url("/storage/kv/same")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(erin["value"], "erin's");
    // One database file per account, named by it.
    let mut files: Vec<String> = std::fs::read_dir(setup.data.path().join("payers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sqlite"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f == &format!("stx-{}.sqlite", address(&key("carol"))))
    );
}

#[tokio::test]
async fn api_keys_free_calls_limits_and_bad_input_are_clear_answers() {
    let setup = Setup::start(&[], &[("FREE_CALLS_PER_DAY", "2")]).await;
    setup.credit("frank-key", 100);
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| http.post(setup.url(path)).json(&body);
    let keyed = |request: reqwest::RequestBuilder| request.header("x-api-key", "frank-key");

    // The free tier covers two stateless calls a day; storage is never free.
    for _ in 0..2 {
        let (status, body) = json_of(
            post("/hashing/sha256", json!({"data": "x"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, body["tokenType"].clone()), (200, json!("FREE")));
    }
    let third = post("/hashing/sha256", json!({"data": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 402);
    let storage = post("/storage/kv", json!({"key": "k", "value": "v"}))
        .send()
        .await
        .unwrap();
    assert_eq!(storage.status(), 402);

    // An unknown key is refused, in the service's shape too; a known one is charged and served.
    let (status, body) = json_of(
        post("/hashing/sha256", json!({"data": "x"}))
            .header("x-api-key", "nobody")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"ok": false, "error": "unknown API key", "tokenType": "API_KEY"})
        )
    );

    // Bad input: each a 4xx in the service's shape, naming what is wrong.
    let long_key = "k".repeat(257);
    let big_value = "v".repeat(64 * 1024 + 1);
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            keyed(
                http.post(setup.url("/hashing/sha256"))
                    .body("{not json")
                    .header("content-type", "application/json"),
            ),
            400,
            "",
        ),
        (
            keyed(post("/hashing/sha256", json!({"data": "0xzz"}))),
            400,
            "not hex",
        ),
        (
            keyed(post(
                "/hashing/sha256",
                json!({"data": "a", "encoding": "base58"}),
            )),
            400,
            "encoding",
        ),
        (
            keyed(post("/stacks/decode/clarity", json!({"hex": "0xff"}))),
            400,
            "not a Clarity value",
        ),
        (
            keyed(post("/stacks/decode/transaction", json!({"hex": "00"}))),
            400,
            "not a Stacks transaction",
        ),
        (
            keyed(http.get(setup.url("/stacks/address/not-an-address"))),
            400,
            "address",
        ),
        (
            keyed(post(
                "/stacks/verify/message",
                json!({"message": "m", "signature": "00", "publicKey": "02"}),
            )),
            400,
            "65 bytes",
        ),
        (
            keyed(post("/storage/kv", json!({"key": long_key, "value": "v"}))),
            413,
            "at most 256",
        ),
        (
            keyed(post("/storage/kv", json!({"key": "k", "value": big_value}))),
            413,
            "at most 65536",
        ),
        (
            keyed(post(
                "/storage/kv",
                json!({"key": "k", "value": "v", "ttl": 0}),
            )),
            400,
            "ttl",
        ),
        (
            keyed(post("/storage/kv", json!({"key": "", "value": "v"}))),
            400,
            "key",
        ),
        (
            keyed(http.get(setup.url("/storage/kv/missing"))),
            404,
            "no key",
        ),
        (
            keyed(http.get(setup.url("/storage/kv?limit=5000"))),
            400,
            "limit",
        ),
        (
            keyed(http.get(setup.url("/storage/paste/nothere"))),
            404,
            "no paste",
        ),
        // Refusals of the layers around the handlers have the same shape.
        (
            keyed(http.get(setup.url("/storage/kv?limit=many"))),
            400,
            "limit",
        ),
        (
            keyed(http.get(setup.url("/no/such/route"))),
            404,
            "Not Found",
        ),
        (
            keyed(http.put(setup.url("/hashing/sha256"))),
            405,
            "Method Not Allowed",
        ),
        (
            keyed(http.post(setup.url("/hashing/sha256")).body("data=x")),
            415,
            "Content-Type",
        ),
        (
            keyed(post("/storage/memory/store", json!({"items": []}))),
            400,
            "items: 1 to 100",
        ),
        (
            keyed(post(
                "/storage/memory/store",
                json!({"items": [{"id": "a", "text": "t".repeat(8 * 1024 + 1)}]}),
            )),
            413,
            "text is 8193 bytes",
        ),
        (
            keyed(post(
                "/storage/memory/search",
                json!({"query": "q", "limit": 101}),
            )),
            400,
            "limit 101",
        ),
        (
            keyed(post(
                "/storage/memory/search",
                json!({"query": "q", "threshold": 1.5}),
            )),
            400,
            "threshold",
        ),
    ];
    for (request, expected, says) in cases {
        let (status, body) = json_of(request.send().await.unwrap()).await;
        assert_eq!(status, expected, "{body}");
        assert_eq!(body["ok"], false, "{body}");
        assert_eq!(body["tokenType"], "API_KEY", "{body}");
        assert!(body["error"].as_str().unwrap().contains(says), "{body}");
    }

    // A body larger than any route takes is refused before the key is charged.
    let balance = setup.credit("frank-key", 0);
    let huge = json!({"key": "k", "value": "v".repeat(2 * 1024 * 1024)});
    let (status, body) = json_of(keyed(post("/storage/kv", huge)).send().await.unwrap()).await;
    assert_eq!((status, body["ok"].clone()), (413, json!(false)), "{body}");
    assert_eq!(setup.credit("frank-key", 0), balance, "not charged");

    // A value kept for a second is gone after it.
    let (status, _) = json_of(
        keyed(post(
            "/storage/kv",
            json!({"key": "brief", "value": "v", "ttl": 1}),
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = json_of(
        keyed(http.get(setup.url("/storage/kv/brief")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _) = json_of(
        keyed(http.get(setup.url("/storage/kv/brief")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_free_documents_describe_every_paid_route() {
    let setup = Setup::start(&[], &[]).await;
    let get = |path: &str| reqwest::get(setup.url(path));
    let (_, openapi) = json_of(get("/openapi.json").await.unwrap()).await;
    assert!(
        openapi["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        openapi["openapi"]
    );
    let (_, manifest) = json_of(get("/x402.json").await.unwrap()).await;
    assert_eq!(manifest["x402Version"], 2);
    let items = manifest["items"].as_array().unwrap();
    assert_eq!(items.len(), 38);
    let paths = openapi["paths"].as_object().unwrap();
    for item in items {
        let resource = item["resource"].as_str().unwrap();
        let path = resource.strip_prefix(setup.server.url()).unwrap();
        let method = item["metadata"]["method"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(paths[path][&method].is_object(), "{path} {method}");
        assert_eq!(item["accepts"].as_array().unwrap().len(), 3);
    }
    let llms = get("/llms.txt").await.unwrap().text().await.unwrap();
    assert!(llms.contains("POST /hashing/sha512-256"), "{llms}");
    let (status, index) = json_of(get("/").await.unwrap()).await;
    assert_eq!((status, index["paidEndpoints"].clone()), (200, json!(38)));
    assert_eq!(
        index["tokens"],
        json!({"STX": "1000", "sBTC": "1", "USDCx": "500"})
    );
    let (status, health) = json_of(get("/health").await.unwrap()).await;
    assert_eq!((status, health), (200, json!({"status": "ok"})));
}

/// A caller with an API key, for the tests of what the storage does rather than how it is paid.
async fn keyed_call(
    setup: &Setup,
    api_key: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let request = match method {
        "GET" => http.get(setup.url(path)),
        _ => http.post(setup.url(path)).json(&body),
    };
    json_of(request.header("x-api-key", api_key).send().await.unwrap()).await
}

#[tokio::test]
async fn payer_sql_runs_in_a_sandbox_that_keeps_the_service_answering() {
    let setup = Setup::start(&[], &[]).await;
    setup.credit("gina-key", 1000);
    setup.credit("hank-key", 1000);
    let sql = |key: &'static str, path: &'static str, query: &str| {
        keyed_call(&setup, key, "POST", path, json!({"query": query}))
    };
    let (status, _) = sql(
        "gina-key",
        "/storage/db/execute",
        "CREATE TABLE notes (body TEXT)",
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = keyed_call(
        &setup,
        "gina-key",
        "POST",
        "/storage/db/execute",
        json!({"query": "INSERT INTO notes VALUES (?1)", "params": ["mine"]}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, rows) = sql("gina-key", "/storage/db/query", "SELECT body FROM notes").await;
    assert_eq!(rows["rows"], json!([["mine"]]));
    // Another account, the same table name: not there.
    let (status, body) = sql("hank-key", "/storage/db/query", "SELECT body FROM notes").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("no such table"),
        "{body}"
    );
    let (_, schema) = keyed_call(&setup, "hank-key", "GET", "/storage/db/schema", json!({})).await;
    assert_eq!(schema["tables"], json!([]));

    let escapes: [(&str, &str, u16); 13] = [
        (
            "/storage/db/execute",
            "CREATE TABLE leak AS SELECT sql FROM sqlite_master",
            403,
        ),
        (
            "/storage/db/execute",
            "ATTACH DATABASE 'other.sqlite' AS other",
            403,
        ),
        ("/storage/db/query", "SELECT load_extension('evil')", 403),
        ("/storage/db/execute", "PRAGMA writable_schema = 1", 403),
        ("/storage/db/query", "PRAGMA table_info(notes)", 403),
        ("/storage/db/query", "SELECT * FROM x402_kv", 403),
        ("/storage/db/query", "SELECT sql FROM sqlite_master", 403),
        ("/storage/db/execute", "DROP TABLE x402_kv", 403),
        (
            "/storage/db/execute",
            "CREATE TRIGGER t AFTER INSERT ON notes BEGIN DELETE FROM notes; END",
            403,
        ),
        (
            "/storage/db/query",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
            400,
        ),
        ("/storage/db/query", "SELECT zeroblob(100000000)", 413),
        ("/storage/db/query", "SELECT 1; SELECT 2", 400),
        (
            "/storage/db/query",
            "INSERT INTO notes VALUES ('sneaky')",
            400,
        ),
    ];
    for (path, query, expected) in escapes {
        let (status, body) = sql("gina-key", path, query).await;
        assert_eq!(status, expected, "{query}: {body}");
        assert_eq!(body["ok"], false, "{query}: {body}");
    }
    let (status, body) = sql("gina-key", "/storage/db/execute", "SELECT 1").await;
    assert_eq!(status, 400, "{body}");
    // Still answering, and the payer's data intact.
    let (_, rows) = sql(
        "gina-key",
        "/storage/db/query",
        "SELECT count(*) FROM notes",
    )
    .await;
    assert_eq!(rows["rows"], json!([[1]]));
    let (_, schema) = keyed_call(&setup, "gina-key", "GET", "/storage/db/schema", json!({})).await;
    assert_eq!(schema["tables"].as_array().unwrap().len(), 1, "{schema}");
}

/// A memory search's results.
fn results(found: &Value) -> impl Iterator<Item = &Value> {
    found["results"].as_array().unwrap().iter()
}

/// The ids of a memory search's results, closest first.
fn result_ids(found: &Value) -> Vec<&str> {
    results(found).map(|r| r["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn vector_memory_ranks_by_meaning_and_keeps_accounts_apart() {
    let setup = Setup::start(&["ivan"], &[]).await;
    setup.credit("grace-key", 100);
    setup.credit("heidi-key", 100);
    let http = reqwest::Client::new();
    let call = async |api_key: &str, path: &str, body: Value| {
        let request = http.post(setup.url(path)).json(&body);
        json_of(request.header("x-api-key", api_key).send().await.unwrap()).await
    };

    let notes = [
        (
            "bread",
            "Knead the dough, let it rise for an hour, then bake the loaf at 220 °C.",
        ),
        (
            "fees",
            "Stacks transactions pay their fees in STX to the miners.",
        ),
        (
            "cat",
            "The cat sleeps on the windowsill in the afternoon sun.",
        ),
        (
            "tax",
            "Quarterly tax filings are due at the end of the month.",
        ),
    ];
    let items: Vec<Value> = notes
        .iter()
        .map(|(id, text)| json!({"id": id, "text": text}))
        .collect();
    let (status, stored) = call(
        "grace-key",
        "/storage/memory/store",
        json!({"items": items}),
    )
    .await;
    assert_eq!(
        (status, stored["stored"].clone()),
        (200, json!(4)),
        "{stored}"
    );

    let search =
        |query: &str, threshold: f32| json!({"query": query, "limit": 4, "threshold": threshold});
    let (_, found) = call(
        "grace-key",
        "/storage/memory/search",
        search("how do I make a baguette?", -1.0),
    )
    .await;
    let ranked = result_ids(&found);
    assert_eq!(ranked.len(), 4, "{found}");
    assert_eq!(ranked[0], "bread", "{found}");
    let similarities: Vec<f64> = results(&found)
        .map(|r| r["similarity"].as_f64().unwrap())
        .collect();
    assert!(similarities.windows(2).all(|w| w[0] >= w[1]), "{found}");
    let (_, found) = call(
        "grace-key",
        "/storage/memory/search",
        search("who gets the blockchain fee?", -1.0),
    )
    .await;
    assert_eq!(found["results"][0]["id"], "fees", "{found}");

    // The default threshold (0.5) keeps only what is close in meaning.
    let (_, found) = call(
        "grace-key",
        "/storage/memory/search",
        json!({"query": "a kitten napping in sunlight"}),
    )
    .await;
    let ids = result_ids(&found);
    assert_eq!(ids, ["cat"], "{found}");

    // Storing an id again replaces its text and vector.
    let replaced = json!({"items": [{"id": "cat", "text": "Sourdough needs a starter fed with flour and water."}]});
    call("grace-key", "/storage/memory/store", replaced).await;
    let (_, found) = call(
        "grace-key",
        "/storage/memory/search",
        search("baking bread at home", 0.3),
    )
    .await;
    let ids = result_ids(&found);
    assert!(ids.contains(&"cat") && !ids.contains(&"tax"), "{found}");

    // Another account has its own, empty memory.
    let (status, found) = call("heidi-key", "/storage/memory/search", search("bread", -1.0)).await;
    assert_eq!((status, found["count"].clone()), (200, json!(0)), "{found}");

    // A refused search is not charged: reads settle after a success.
    let before = setup.devnet.balances(&setup.payee).await.unwrap().stx;
    let ivan = setup.client("ivan", "STX");
    let request = ivan
        .post(setup.url("/storage/memory/search"))
        .json(&json!({"query": " "}));
    let (status, body) = json_of(ivan.send(request).await.unwrap()).await;
    assert_eq!(
        (status, body["tokenType"].clone()),
        (400, json!("STX")),
        "{body}"
    );
    let after = setup.devnet.balances(&setup.payee).await.unwrap().stx;
    assert_eq!(after, before, "not charged");
}

#[tokio::test]
async fn locks_have_one_holder_and_expire_and_queues_pop_by_priority() {
    let setup = Setup::start(&[], &[]).await;
    setup.credit("ivy-key", 1000);
    // Eight contenders at once: one holder.
    let contenders = (0..8).map(|_| {
        keyed_call(
            &setup,
            "ivy-key",
            "POST",
            "/storage/sync/lock",
            json!({"name": "door", "ttl": 10}),
        )
    });
    let answers = futures_util::future::join_all(contenders).await;
    let holders: Vec<&Value> = answers
        .iter()
        .filter(|(_, a)| a["acquired"] == true)
        .map(|(_, a)| a)
        .collect();
    assert_eq!(holders.len(), 1, "{answers:?}");
    let token = holders[0]["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 32);
    let (_, wrong) = keyed_call(
        &setup,
        "ivy-key",
        "POST",
        "/storage/sync/unlock",
        json!({"name": "door", "token": "x"}),
    )
    .await;
    assert_eq!(wrong["released"], false);
    let (status, bad) = keyed_call(
        &setup,
        "ivy-key",
        "POST",
        "/storage/sync/lock",
        json!({"name": "door", "ttl": 5}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    // Held for ten seconds, then free for the next.
    tokio::time::sleep(std::time::Duration::from_millis(10_200)).await;
    let (_, status) = keyed_call(
        &setup,
        "ivy-key",
        "GET",
        "/storage/sync/status/door",
        json!({}),
    )
    .await;
    assert_eq!(status["locked"], false, "{status}");
    let (_, again) = keyed_call(
        &setup,
        "ivy-key",
        "POST",
        "/storage/sync/lock",
        json!({"name": "door"}),
    )
    .await;
    assert_eq!(again["acquired"], true);
    let (_, late) = keyed_call(
        &setup,
        "ivy-key",
        "POST",
        "/storage/sync/extend",
        json!({"name": "door", "token": token}),
    )
    .await;
    assert_eq!(
        late["extended"], false,
        "the first holder's token ended with its hold"
    );

    for (items, priority) in [(json!(["a", "b"]), 0), (json!(["c"]), 5), (json!(["d"]), 0)] {
        let (status, _) = keyed_call(
            &setup,
            "ivy-key",
            "POST",
            "/storage/queue/push",
            json!({"name": "jobs", "items": items, "priority": priority}),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (_, popped) = keyed_call(
        &setup,
        "ivy-key",
        "POST",
        "/storage/queue/pop",
        json!({"name": "jobs", "count": 3}),
    )
    .await;
    let order: Vec<&str> = popped["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["data"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["c", "a", "b"]);
    let (_, peeked) = keyed_call(
        &setup,
        "ivy-key",
        "GET",
        "/storage/queue/peek?name=jobs&count=5",
        json!({}),
    )
    .await;
    assert_eq!(peeked["items"][0]["data"], "d");
    let (status, body) = keyed_call(
        &setup,
        "ivy-key",
        "POST",
        "/storage/queue/pop",
        json!({"name": "jobs", "count": 101}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn usdc_on_base_pays_too_through_the_in_process_evm_facilitator() {
    use coinslot::evm::alloy::hex;
    use coinslot::evm::exact::ExactEvmClient;

    let chain = coinslot_testkit::LocalChain::start().await.unwrap();
    let payee = chain.accounts().payee.address();
    let settler = hex::encode_prefixed(chain.accounts().settlers[0].to_bytes());
    let (payee_text, rpc) = (payee.to_checksum(None), chain.rpc_url().to_string());
    let setup = Setup::start(
        &[],
        &[
            ("EVM_PAYEE_ADDRESS", &payee_text),
            ("EVM_RPC_URL", &rpc),
            ("EVM_PRIVATE_KEY", &settler),
        ],
    )
    .await;
    let limit = AssetLimit::usdc_base_sepolia(Limits {
        per_request: "$0.01",
        budget: "$1",
    })
    .unwrap();
    let client = PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(ExactEvmClient::new(chain.accounts().payer.clone()))
            .with_policy(SpendingPolicy::new().allow(limit))
            .build(),
    );
    let before = chain.usdc_balance(payee).await.unwrap();
    let answer = paid(
        &client,
        &setup,
        "POST",
        "/hashing/sha256",
        Some(json!({"data": "abc"})),
    )
    .await;
    assert_eq!(answer["tokenType"], "USDC");
    let answer = paid(
        &client,
        &setup,
        "POST",
        "/storage/kv",
        Some(json!({"key": "k", "value": "v"})),
    )
    .await;
    assert_eq!(answer["tokenType"], "USDC");
    let after = chain.usdc_balance(payee).await.unwrap();
    assert_eq!(
        after - before,
        coinslot::U256::from(1000),
        "two calls at $0.0005"
    );
}

#[tokio::test]
async fn schemathesis_finds_every_answer_in_the_openapi_document() {
    let setup = Setup::start(&[], &[]).await;
    // Every generated call is served on this key's credit.
    setup.credit("schemathesis-key", 1_000_000);
    let schemathesis = coinslot_testkit::tools::schemathesis().unwrap();
    let report = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("stacks-api-schemathesis");
    let _ = std::fs::remove_dir_all(&report);

    // The document is valid OpenAPI 3.1 (unique operation ids, every parameter where it is).
    let document = reqwest::get(setup.url("/openapi.json"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::create_dir_all(&report).unwrap();
    let saved = report.join("openapi.json");
    std::fs::write(&saved, &document).unwrap();
    let validated = schemathesis
        .command(schemathesis.packages.join("bin/openapi-spec-validator"))
        .arg(&saved)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&validated.stdout);
    assert!(
        validated.status.success() && said.contains(": OK"),
        "{said}"
    );

    let mut command = schemathesis.command(schemathesis.packages.join("bin/st"));
    command
        .args(["run", &setup.url("/openapi.json")])
        // No 5xx; every status, content type and body as the document says.
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--header", "X-API-Key: schemathesis-key"])
        .args(["--max-examples", "20", "--seed", "402", "--workers", "1"])
        .args(["--generation-database", "none", "--no-color"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Its summary, for `--nocapture`.
    println!("{stdout}");
    assert!(
        output.status.success(),
        "schemathesis failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It ran the whole document: every operation, free and paid.
    let (_, document) = json_of(reqwest::get(setup.url("/openapi.json")).await.unwrap()).await;
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    // schemathesis leaves out the document it reads, /openapi.json.
    let tested = operations - 1;
    let selected = format!("{tested} selected / {tested} total");
    assert!(stdout.contains(&selected), "{selected}?\n{stdout}");
    // The service is still answering.
    let health = reqwest::get(setup.url("/health")).await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn docs_and_dashboard_load_in_chromium_without_errors() {
    let setup = Setup::start(&["judy"], &[]).await;
    setup.credit("judy-key", 10);
    for _ in 0..2 {
        let (status, _) = keyed_call(
            &setup,
            "judy-key",
            "POST",
            "/hashing/sha256",
            json!({"data": "x"}),
        )
        .await;
        assert_eq!(status, 200);
    }
    paid(
        &setup.client("judy", "STX"),
        &setup,
        "POST",
        "/hashing/keccak256",
        Some(json!({"data": "x"})),
    )
    .await;

    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let pages = [
        (
            "/docs",
            ".operation",
            [
                "/storage/kv/{key}",
                "0.001 STX · 0.00000001 sBTC",
                "38 paid endpoints",
            ],
        ),
        (
            "/dashboard",
            "#chart svg rect",
            ["POST /hashing/sha256", "0.001", "STX from 1 calls"],
        ),
    ];
    for (path, shown, expected) in pages {
        let screenshot = dir.join(format!("stacks-api{}.png", path.replace('/', "-")));
        let _ = std::fs::remove_file(&screenshot);
        let page = coinslot_testkit::browser::check_page(&setup.url(path), shown, &screenshot)
            .await
            .unwrap();
        assert!(page.is_clean(), "{path}: {page:?}");
        for text in expected {
            assert!(
                page.text.contains(text),
                "{path} shows no {text:?}: {}",
                page.text
            );
        }
        let size = std::fs::metadata(&screenshot).unwrap().len();
        assert!(size > 10_000, "{path}: a {size}-byte screenshot");
    }
}
