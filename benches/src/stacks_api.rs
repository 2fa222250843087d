//! The Stacks API under load (`docs/benchmarks.md` §8): `POST /hashing/sha256` paid in STX end
//! to end on the Stacks devnet, the same call with an API key, its handler alone on bare axum
//! (the limit), and KV set and get with an API key. One service process, on one devnet, for
//! all of it.

use std::path::Path;
use std::sync::Arc;

use coinslot_core::{PaymentRequired, SchemeClient as _, header};
use coinslot_stacks::PrivateKey;
use coinslot_stacks::exact::ExactStacksClient;
use coinslot_stacks::network::StacksNetwork;
use coinslot_stacks::node::StacksNode;
use coinslot_testkit::ServiceProcess;
use coinslot_testkit::stacks::{Funds, StacksDevnet};
use http::{HeaderName, HeaderValue};

use crate::host;
use crate::load::{self, Expect, Job, Outcome, Work};
use crate::run::{Plan, Stat, clean};
use crate::serve::HASHING_ROUTE;

/// A run on one connection, and on the plan's many.
pub type Pair = (Stat, Stat);

/// The Stacks API's figures.
#[derive(Debug, Clone)]
pub struct StacksApiFigures {
    /// The hashing handler alone on bare axum.
    pub bare: Pair,
    /// The hashing call through the whole service, on an API key's credit.
    pub keyed: Pair,
    /// The hashing call paid in STX: verify, the handler, settle on the devnet, the receipt.
    pub paid: Pair,
    /// `POST /storage/kv`, one key overwritten, on an API key.
    pub kv_set: Pair,
    /// `GET /storage/kv/{key}`, on an API key.
    pub kv_get: Pair,
    /// The service's peak resident memory (with its embedding model loaded), kB.
    pub peak_kb: Option<u64>,
}

/// The STX price of a call, µSTX.
const PRICE_USTX: u128 = 1000;
const API_KEY: &str = "bench-key";
const BODY: &[u8] = br#"{"data":"hello world"}"#;

/// Measures the Stacks API; `bin_dir` holds `stacks-api` and `coinslot-bench`.
pub async fn measure(plan: &Plan, bin_dir: &Path) -> Result<StacksApiFigures, String> {
    let devnet = StacksDevnet::start_testnet()
        .await
        .map_err(|e| e.to_string())?;
    let payer = PrivateKey::from_bytes(&[21u8; 32]).map_err(|e| e.to_string())?;
    let payee = PrivateKey::from_bytes(&[22u8; 32])
        .map_err(|e| e.to_string())?
        .address(false)
        .to_string();
    let funds = Funds {
        stx: 1_000_000_000,
        sbtc: 0,
        usdcx: 0,
    };
    devnet
        .fund(&payer.address(false).to_string(), funds)
        .await
        .map_err(|e| e.to_string())?;

    let program = bin_dir.join("stacks-api");
    let data = bin_dir.join("stacks-api-bench-data");
    let _ = std::fs::remove_dir_all(&data);
    let credit = std::process::Command::new(&program)
        .args(["credit", API_KEY, "1000000000"])
        .env("DATA_DIR", &data)
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if !credit.status.success() {
        return Err(format!("stacks-api credit: {credit:?}"));
    }
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/models");
    let service = ServiceProcess::start(
        &program,
        &[
            ("PORT", "0".to_owned()),
            ("STACKS_PAYEE_ADDRESS", payee.clone()),
            ("STACKS_NODE_URL", devnet.url().to_owned()),
            ("DATA_DIR", data.display().to_string()),
            ("MODELS_DIR", models.display().to_string()),
        ],
        "Server listening",
        true,
    )
    .map_err(|e| e.to_string())?;
    let mut bare = std::process::Command::new(bin_dir.join("coinslot-bench"));
    bare.args(["serve", "bare-hashing"]);
    let bare = ServiceProcess::spawn(bare, "Server listening", true).map_err(|e| e.to_string())?;

    let key = (
        HeaderName::from_static("x-api-key"),
        HeaderValue::from_static(API_KEY),
    );
    let hashing = Job::post_json(HASHING_ROUTE, BODY.to_vec());
    let keyed = |job: Job| job.with_header(key.0.clone(), key.1.clone());
    let value = format!(r#"{{"key":"bench","value":"{}"}}"#, "v".repeat(64));

    eprintln!("==> the Stacks API");
    let url = service.url();
    let figures = StacksApiFigures {
        bare: repeated(plan, "bare hashing handler", bare.url(), &hashing, HASHED).await?,
        keyed: repeated(
            plan,
            "hashing, API key",
            url,
            &keyed(hashing.clone()),
            SERVED,
        )
        .await?,
        paid: paid(plan, &devnet, url, &payer, &payee).await?,
        kv_set: repeated(
            plan,
            "KV set, API key",
            url,
            &keyed(Job::post_json("/storage/kv", value.into_bytes())),
            SERVED,
        )
        .await?,
        kv_get: repeated(
            plan,
            "KV get, API key",
            url,
            &keyed(Job::get("/storage/kv/bench")),
            SERVED,
        )
        .await?,
        peak_kb: host::peak_memory_kb(service.id()),
    };
    drop(service);
    let _ = std::fs::remove_dir_all(&data);
    Ok(figures)
}

/// The service's successes say so; the bare handler's answer is the digest alone.
const SERVED: &str = r#""ok":true"#;
const HASHED: &str = r#""hash":"0x"#;

/// `job` over and over for the plan's run length, on one connection and on many; a served
/// answer is a 200 whose body holds `served`.
async fn repeated(
    plan: &Plan,
    what: &str,
    url: &str,
    job: &Job,
    served: &'static str,
) -> Result<Pair, String> {
    let expect = Expect {
        status: 200,
        body: Some(served),
    };
    rounds(plan, async |connections| {
        let warm = Work::Repeat(job.clone(), plan.warmup);
        clean(&format!("{what} warm-up"), url, connections, warm, expect).await?;
        let work = Work::Repeat(job.clone(), plan.challenge);
        clean(what, url, connections, work, expect).await
    })
    .await
}

/// `run` on one connection and on the plan's many, `plan.runs` times over: the medians.
async fn rounds(
    plan: &Plan,
    mut run: impl AsyncFnMut(usize) -> Result<Outcome, String>,
) -> Result<Pair, String> {
    let (mut one, mut many) = (Vec::new(), Vec::new());
    for _ in 0..plan.runs {
        one.push(run(1).await?);
        many.push(run(plan.connections).await?);
    }
    Ok((Stat::median(&one), Stat::median(&many)))
}

/// The hashing call, each request with its own pre-signed STX payment (sequential nonces of
/// one payer: the devnet holds a nonce that arrives early until its turn), on one connection
/// and on many; the payee's balance must grow by the price for every 200.
async fn paid(
    plan: &Plan,
    devnet: &StacksDevnet,
    url: &str,
    payer: &PrivateKey,
    payee: &str,
) -> Result<Pair, String> {
    let challenge = load::send_once(url, &Job::post_json(HASHING_ROUTE, BODY.to_vec())).await?;
    let required: PaymentRequired = challenge
        .headers()
        .get("payment-required")
        .ok_or("the Stacks API's 402 has no PAYMENT-REQUIRED")
        .and_then(|value| header::decode(value.as_bytes()).map_err(|_| "an unreadable 402"))?;
    let offer = required
        .accepts
        .iter()
        .find(|offer| offer.asset == "STX")
        .ok_or("the Stacks API offers no STX")?;
    let wallet = ExactStacksClient::new(payer.clone(), StacksNetwork::Testnet)
        .with_node(StacksNode::new(devnet.url()));
    let signature = HeaderName::from_static("payment-signature");
    let jobs = async |count: usize| -> Result<Work, String> {
        let mut jobs = Vec::with_capacity(count);
        for _ in 0..count {
            let payment = wallet
                .create_payment_payload(offer, Some(&required.resource))
                .await
                .map_err(|e| e.to_string())?;
            let value = header::encode(&payment).map_err(|e| e.to_string())?;
            let value = HeaderValue::try_from(value).map_err(|e| e.to_string())?;
            let job = Job::post_json(HASHING_ROUTE, BODY.to_vec());
            jobs.push(job.with_header(signature.clone(), value));
        }
        Ok(Work::Each(Arc::new(jobs), plan.limit))
    };
    let balance = async || -> Result<u128, String> {
        Ok(devnet.balances(payee).await.map_err(|e| e.to_string())?.stx)
    };
    let expect = Expect {
        status: 200,
        body: Some(SERVED),
    };
    rounds(plan, async |connections| {
        let what = "hashing, paid in STX";
        let count = if connections == 1 {
            plan.stacks_paid_serial
        } else {
            plan.stacks_paid_concurrent
        };
        // Signed in the order they are sent: a later nonce is held until its turn.
        let warm = jobs(2).await?;
        let work = jobs(count).await?;
        let before = balance().await?;
        let warm = clean(&format!("{what} warm-up"), url, 1, warm, expect).await?;
        let outcome = clean(what, url, connections, work, expect).await?;
        let served = (warm.served + outcome.served) as u128;
        let moved = balance().await? - before;
        if moved != served * PRICE_USTX {
            return Err(format!(
                "{what}: {served} served, but the payee received {moved} µSTX instead of {}",
                served * PRICE_USTX
            ));
        }
        Ok(outcome)
    })
    .await
}
