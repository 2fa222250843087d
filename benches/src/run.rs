//! The runner: every load measurement of `docs/benchmarks.md`, one process at a time so that
//! none disturbs another's figures, on local chains started fresh so that no peer inherits the
//! blocks of another.
//!
//! A measurement that is not clean (a request answered otherwise than expected, or a paid
//! request whose settlement is missing on the chain) stops the run with an error: a broken
//! setup never turns into a figure.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, U256, address};
use coinslot_core::{PaymentRequired, header};
use coinslot_testkit::{LocalChain, ServiceProcess};
use http::{HeaderName, HeaderValue};

use crate::host;
use crate::load::{self, Expect, Job, Outcome, Work};
use crate::samples;
use crate::serve::{METERED_CHARGE, METERED_ROUTE, PRICE_UNITS, ROUTE};
use crate::stacks_api::{self, StacksApiFigures};

/// How much to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Runs of each measurement; the report gives their medians.
    pub runs: usize,
    /// Load before each timed 402 run, not counted.
    pub warmup: Duration,
    /// Length of each timed 402 run.
    pub challenge: Duration,
    /// Timed 402 runs: more than `runs`, since the light path's rate drifts from run to run
    /// on a small machine more than it differs between servers.
    pub challenge_runs: usize,
    /// Connections of the concurrent loads.
    pub connections: usize,
    /// Paid requests per run, one connection.
    pub paid_serial: usize,
    /// Paid requests per run, `connections` connections.
    pub paid_concurrent: usize,
    /// `/verify` requests per run.
    pub verify: usize,
    /// `/settle` requests per run.
    pub settle: usize,
    /// Seconds of each `@stacks/transactions` run.
    pub stacks_seconds: f64,
    /// Calls to the Stacks API paid in STX per run, one connection (each waits for its
    /// block on the devnet).
    pub stacks_paid_serial: usize,
    /// The same, `connections` connections.
    pub stacks_paid_concurrent: usize,
    /// The longest a run of paid requests, `/verify` or `/settle` may take: past it no new
    /// request is sent (a slow peer serves fewer requests; its rate is what it served).
    pub limit: Duration,
    /// The peers to measure (all when empty), for profiling one of them.
    pub only: Vec<Peer>,
}

impl Plan {
    /// The figures of `docs/benchmarks.md`.
    pub fn full() -> Self {
        Self {
            runs: 3,
            warmup: Duration::from_secs(1),
            challenge: Duration::from_secs(5),
            challenge_runs: 5,
            connections: 32,
            // Each paid request and settlement is a block: anvil slows as blocks pile up
            // (even pruned), so these stay modest; every paid run gets a fresh chain.
            paid_serial: 200,
            paid_concurrent: 500,
            verify: 2000,
            settle: 300,
            stacks_seconds: 3.0,
            stacks_paid_serial: 50,
            stacks_paid_concurrent: 300,
            limit: Duration::from_secs(30),
            only: Vec::new(),
        }
    }

    /// A run of every path with a few requests, so that CI knows the benches still work.
    pub fn smoke() -> Self {
        Self {
            runs: 1,
            warmup: Duration::from_millis(100),
            challenge: Duration::from_millis(300),
            challenge_runs: 1,
            connections: 4,
            paid_serial: 3,
            paid_concurrent: 8,
            verify: 8,
            settle: 4,
            stacks_seconds: 0.2,
            stacks_paid_serial: 3,
            stacks_paid_concurrent: 8,
            limit: Duration::from_secs(30),
            only: Vec::new(),
        }
    }
}

/// The implementations compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The same route on axum with no middleware: the limit.
    Axum,
    /// coinslot-tower with coinslot's facilitator in-process.
    Coinslot,
    /// x402-axum with x402-rs's facilitator in-process.
    X402Rs,
    /// `@x402/hono` with the reference facilitator in-process, on Node.
    Reference,
}

impl Peer {
    /// Every peer, in the order of the report's tables.
    pub const ALL: [Self; 4] = [Self::Coinslot, Self::X402Rs, Self::Reference, Self::Axum];

    /// The peer named `name` as on the command line (`coinslot`, `x402-rs`, `ts`, `axum`).
    pub fn from_arg(name: &str) -> Option<Self> {
        Some(match name {
            "coinslot" => Self::Coinslot,
            "x402-rs" => Self::X402Rs,
            "ts" => Self::Reference,
            "axum" => Self::Axum,
            _ => return None,
        })
    }

    /// The name in the report.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Axum => "bare axum",
            Self::Coinslot => "coinslot",
            Self::X402Rs => "x402-rs",
            Self::Reference => "TS reference",
        }
    }
}

/// The median of several runs of one measurement.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    /// Served requests (or operations) per second.
    pub throughput: f64,
    /// Latency, ms.
    pub p50: f64,
    /// Latency, ms.
    pub p99: f64,
}

impl Stat {
    pub(crate) fn median(outcomes: &[Outcome]) -> Self {
        Self {
            throughput: median(outcomes.iter().map(Outcome::throughput)),
            p50: median(outcomes.iter().map(|o| o.percentile_ms(0.50))),
            p99: median(outcomes.iter().map(|o| o.percentile_ms(0.99))),
        }
    }
}

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One peer's server under load.
#[derive(Debug, Clone)]
pub struct ServerFigures {
    /// Who.
    pub peer: Peer,
    /// The 402 challenge (bare axum: its plain 200).
    pub challenge: Stat,
    /// The server's CPU time per 402 challenge, µs, in user space and in the kernel (medians
    /// of the runs).
    pub challenge_cpu_us: Option<(f64, f64)>,
    /// Whether the challenge ran with the server and the driver on separate cores.
    pub pinned: bool,
    /// Paid requests on one connection, and on `connections`; `None` for bare axum.
    pub paid: Option<(Stat, Stat)>,
    /// Peak resident memory (VmHWM) of its server processes, the largest, kB.
    pub peak_kb: Option<u64>,
}

/// One peer's facilitator under load.
#[derive(Debug, Clone)]
pub struct FacilitatorFigures {
    /// Who.
    pub peer: Peer,
    /// `/verify` of valid payments.
    pub verify: Stat,
    /// `/settle`, each a transaction on the chain.
    pub settle: Stat,
}

/// One peer's metered (`upto`) route under load.
#[derive(Debug, Clone)]
pub struct MeteredFigures {
    /// Who.
    pub peer: Peer,
    /// Metered requests on one connection, and on `connections`.
    pub serial: Stat,
    /// See `serial`.
    pub concurrent: Stat,
}

/// What a paid run pays for: a route, its scheme, and what each request moves to the payee.
#[derive(Debug, Clone, Copy)]
struct Priced {
    route: &'static str,
    scheme: &'static str,
    /// Atomic units the payee receives per request (a metered request's charge).
    moves: u64,
}

/// `GET /weather`, `exact` at $0.001.
const PAID: Priced = Priced {
    route: ROUTE,
    scheme: "exact",
    moves: PRICE_UNITS,
};

/// The metered route, `upto` $0.001, charged [`METERED_CHARGE`].
const METERED: Priced = Priced {
    route: METERED_ROUTE,
    scheme: "upto",
    moves: METERED_CHARGE,
};

/// Everything the load runs measured.
#[derive(Debug, Clone)]
pub struct Figures {
    /// The plan they followed.
    pub plan: Plan,
    /// Per server.
    pub servers: Vec<ServerFigures>,
    /// Per facilitator.
    pub facilitators: Vec<FacilitatorFigures>,
    /// Metered (`upto`) requests, per server that meters.
    pub metered: Vec<MeteredFigures>,
    /// `@stacks/transactions` decoding and verifying, transactions per second.
    pub stacks_js: f64,
    /// The Stacks API, when coinslot is measured.
    pub stacks_api: Option<StacksApiFigures>,
}

/// Contracts x402-rs checks for at start-up (its ERC-6492 validator and Permit2 proxies); the
/// `exact` EIP-3009 path measured never calls them, so a stub of code is enough.
const X402RS_REQUIRED: [Address; 2] = [
    address!("0xdAcD51A54883eb67D95FAEb2BBfdC4a9a6BD2a3B"),
    address!("0x402085c248EeA27D92E8b30b2C58ed07f9E20001"),
];

/// Where the peers run from, and who pays whom.
struct Setup {
    chain: LocalChain,
    bin_dir: PathBuf,
    settler_key: String,
}

impl Setup {
    /// A fresh chain for one peer: anvil slows down as its chain grows, so no peer inherits
    /// the blocks of another.
    async fn start(bin_dir: &Path) -> Result<Self, String> {
        let chain = LocalChain::start_for_load()
            .await
            .map_err(|e| e.to_string())?;
        for at in X402RS_REQUIRED {
            chain
                .set_code(at, Bytes::from_static(&[0xfe]))
                .await
                .map_err(|e| e.to_string())?;
        }
        // One settlement key for every peer: the reference facilitator takes only one.
        let settler_key = format!(
            "0x{}",
            alloy::hex::encode(chain.accounts().settlers[0].to_bytes())
        );
        Ok(Self {
            chain,
            bin_dir: bin_dir.to_owned(),
            settler_key,
        })
    }

    fn payee(&self) -> Address {
        self.chain.accounts().payee.address()
    }

    fn envs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("RPC_URL", self.chain.rpc_url().to_string()),
            ("SETTLER_KEYS", self.settler_key.clone()),
            ("PAY_TO", self.payee().to_checksum(None)),
        ]
    }

    fn ours(&self, args: &[&str], ready: &str) -> Result<ServiceProcess, String> {
        let mut command = std::process::Command::new(self.bin_dir.join("coinslot-bench"));
        command.args(args).envs(self.envs());
        ServiceProcess::spawn(command, ready, true).map_err(|e| e.to_string())
    }

    fn x402_rs(&self, mode: &str, ready: &str) -> Result<ServiceProcess, String> {
        let program = self.bin_dir.join("x402-rs-peer");
        if !program.exists() {
            return Err(format!(
                "{} is missing: scripts/bench.sh builds it",
                program.display()
            ));
        }
        let mut command = std::process::Command::new(program);
        command.arg(mode).envs(self.envs());
        ServiceProcess::spawn(command, ready, true).map_err(|e| e.to_string())
    }

    fn server(&self, peer: Peer) -> Result<ServiceProcess, String> {
        match peer {
            Peer::Axum => self.ours(&["serve", "bare"], "Server listening"),
            Peer::Coinslot => self.ours(&["serve", "paid"], "Server listening"),
            Peer::X402Rs => self.x402_rs("server", "Server listening"),
            Peer::Reference => coinslot_testkit::reference::reference_server_in_process(
                &self.payee().to_checksum(None),
                self.chain.rpc_url().as_str(),
                &self.settler_key,
            )
            .map_err(|e| e.to_string()),
        }
    }

    /// The peer's metered route, when it has one: ours, and the reference's `@x402/hono`
    /// (its `/upto/evm/permit2` charges [`METERED_CHARGE`] too).
    fn metered_server(&self, peer: Peer) -> Result<ServiceProcess, String> {
        match peer {
            Peer::Coinslot => self.ours(&["serve", "metered"], "Server listening"),
            Peer::Reference => self.server(peer),
            _ => Err(format!("{} has no metered route here", peer.name())),
        }
    }

    fn facilitator(&self, peer: Peer) -> Result<ServiceProcess, String> {
        match peer {
            Peer::Axum => Err("bare axum has no facilitator".into()),
            Peer::Coinslot => self.ours(&["serve", "facilitator"], "Facilitator listening"),
            Peer::X402Rs => self.x402_rs("facilitator", "Facilitator listening"),
            Peer::Reference => coinslot_testkit::reference::reference_facilitator_service(
                self.chain.rpc_url().as_str(),
                &self.settler_key,
            )
            .map_err(|e| e.to_string()),
        }
    }

    async fn payee_balance(&self) -> Result<U256, String> {
        self.chain
            .usdc_balance(self.payee())
            .await
            .map_err(|e| e.to_string())
    }

    /// Insists that the payee received `each` for each of `served` payments since its balance
    /// was `before`: every 200 and every settlement moved the money.
    async fn check_paid(
        &self,
        what: &str,
        before: U256,
        served: usize,
        each: u64,
    ) -> Result<(), String> {
        let paid = self.payee_balance().await? - before;
        let expected = U256::from(served) * U256::from(each);
        if paid != expected {
            return Err(format!(
                "{what}: {served} served, but the payee received {paid} instead of {expected}"
            ));
        }
        Ok(())
    }
}

/// Runs every load measurement of `plan`; `bin_dir` holds `coinslot-bench` and
/// `x402-rs-peer`.
pub async fn run(plan: &Plan, bin_dir: &Path) -> Result<Figures, String> {
    let wanted = |peer: &Peer| plan.only.is_empty() || plan.only.contains(peer);
    let peers: Vec<Peer> = Peer::ALL.into_iter().filter(wanted).collect();
    eprintln!("==> the 402, every server in turn");
    let mut servers = measure_challenges(bin_dir, plan, &peers).await?;
    eprintln!("==> paid requests, every server in turn");
    measure_paid_rounds(bin_dir, plan, &mut servers).await?;
    eprintln!("==> metered (upto) requests, every server that meters in turn");
    let metering: Vec<Peer> = [Peer::Coinslot, Peer::Reference]
        .into_iter()
        .filter(wanted)
        .collect();
    let metered = measure_metered_rounds(bin_dir, plan, &metering).await?;
    let mut facilitators = Vec::new();
    for peer in [Peer::Coinslot, Peer::X402Rs, Peer::Reference]
        .into_iter()
        .filter(wanted)
    {
        eprintln!("==> {}: facilitator", peer.name());
        let setup = Setup::start(bin_dir).await?;
        facilitators.push(measure_facilitator(&setup, plan, peer).await?);
    }
    eprintln!("==> @stacks/transactions");
    let stacks_js = stacks_js(plan).await?;
    let stacks_api = if wanted(&Peer::Coinslot) {
        Some(stacks_api::measure(plan, bin_dir).await?)
    } else {
        None
    };
    Ok(Figures {
        plan: plan.clone(),
        servers,
        facilitators,
        metered,
        stacks_js,
        stacks_api,
    })
}

/// Runs `work` and insists that every request was served.
pub(crate) async fn clean(
    what: &str,
    url: &str,
    connections: usize,
    work: Work,
    expect: Expect,
) -> Result<Outcome, String> {
    let started = std::time::Instant::now();
    let outcome = load::run(url, connections, work, expect).await?;
    eprintln!(
        "    {what}, {connections} connections: {} served in {:.1} s ({:.0}/s, p99 {:.1} ms)",
        outcome.served,
        started.elapsed().as_secs_f64(),
        outcome.throughput(),
        outcome.percentile_ms(0.99)
    );
    if outcome.failed() > 0 || outcome.served == 0 {
        return Err(format!(
            "{what}: {} served, {} not: {}",
            outcome.served,
            outcome.failed(),
            outcome.failure_summary()
        ));
    }
    Ok(outcome)
}

/// One server under its 402 runs.
struct ChallengedServer {
    peer: Peer,
    process: ServiceProcess,
    url: String,
    expect: Expect,
    runs: Vec<Outcome>,
    /// Server CPU per request of each run, µs: user, kernel.
    cpu_us: Vec<(f64, f64)>,
    pinned: bool,
}

/// The 402 runs of every server, round by round (one run of each server per round), so that
/// the machine's drift over minutes falls on all of them alike. The servers share one chain,
/// which the 402 never touches. Each run puts its server and the driver on cores of their own.
/// Answers each server's figures without paid runs.
async fn measure_challenges(
    bin_dir: &Path,
    plan: &Plan,
    peers: &[Peer],
) -> Result<Vec<ServerFigures>, String> {
    let setup = Setup::start(bin_dir).await?;
    let mut servers = Vec::new();
    for &peer in peers {
        let process = setup.server(peer)?;
        let url = process.url().trim_end_matches('/').to_owned();
        let expect = Expect {
            status: if peer == Peer::Axum { 200 } else { 402 },
            body: None,
        };
        let warmup = Work::Repeat(Job::get(ROUTE), plan.warmup);
        let what = format!("{} warm-up", peer.name());
        clean(&what, &url, plan.connections, warmup, expect).await?;
        servers.push(ChallengedServer {
            peer,
            process,
            url,
            expect,
            runs: Vec::new(),
            cpu_us: Vec::new(),
            pinned: true,
        });
    }
    for _ in 0..plan.challenge_runs {
        for server in &mut servers {
            let pid = server.process.id();
            let split = host::SplitCpus::new(pid);
            server.pinned &= split.is_some();
            let work = Work::Repeat(Job::get(ROUTE), plan.challenge);
            let before = host::cpu_time(pid);
            let what = format!("{} 402", server.peer.name());
            let outcome = clean(&what, &server.url, plan.connections, work, server.expect).await?;
            if let (Some(before), Some(after)) = (before, host::cpu_time(pid)) {
                let per_request =
                    |a: Duration, b: Duration| (a - b).as_secs_f64() * 1e6 / outcome.served as f64;
                server.cpu_us.push((
                    per_request(after.user, before.user),
                    per_request(after.system, before.system),
                ));
            }
            server.runs.push(outcome);
        }
    }
    Ok(servers
        .iter()
        .map(|server| ServerFigures {
            peer: server.peer,
            challenge: Stat::median(&server.runs),
            challenge_cpu_us: (server.cpu_us.len() == server.runs.len()).then(|| {
                (
                    median(server.cpu_us.iter().map(|c| c.0)),
                    median(server.cpu_us.iter().map(|c| c.1)),
                )
            }),
            pinned: server.pinned,
            paid: None,
            peak_kb: host::peak_memory_kb(server.process.id()),
        })
        .collect())
}

/// The paid runs of every server, round by round like the 402's, so that the machine's drift
/// over minutes falls on all of them alike. In each round each server runs once on one
/// connection and once on `plan.connections`, and every run is against a server of its own on
/// a fresh chain: anvil's blocks cost more as its state grows (on one chain, coinslot's rate at
/// 32 connections halves within 1,500 payments), so each run starts from the same state,
/// whatever ran before it. Fills in each server's paid medians and its larger peak memory.
async fn measure_paid_rounds(
    bin_dir: &Path,
    plan: &Plan,
    servers: &mut [ServerFigures],
) -> Result<(), String> {
    let mut runs: Vec<[Vec<Outcome>; 2]> = servers.iter().map(|_| Default::default()).collect();
    for _ in 0..plan.runs {
        let paying = servers.iter_mut().zip(&mut runs);
        for (server, runs) in paying.filter(|(server, _)| server.peer != Peer::Axum) {
            let what = format!("{} paid", server.peer.name());
            for (connections, runs) in [1, plan.connections].into_iter().zip(runs) {
                let setup = Setup::start(bin_dir).await?;
                let process = setup.server(server.peer)?;
                let url = process.url().trim_end_matches('/').to_owned();
                runs.push(paid_run(&setup, plan, &url, &what, connections, PAID).await?);
                server.peak_kb = server.peak_kb.max(host::peak_memory_kb(process.id()));
            }
        }
    }
    for (server, [serial, concurrent]) in servers.iter_mut().zip(runs) {
        if !serial.is_empty() {
            server.paid = Some((Stat::median(&serial), Stat::median(&concurrent)));
        }
    }
    Ok(())
}

/// The metered runs of each of `peers`, round by round as the paid runs go, each on a fresh
/// chain where the payer has approved Permit2 once.
async fn measure_metered_rounds(
    bin_dir: &Path,
    plan: &Plan,
    peers: &[Peer],
) -> Result<Vec<MeteredFigures>, String> {
    let mut runs: Vec<[Vec<Outcome>; 2]> = peers.iter().map(|_| Default::default()).collect();
    for _ in 0..plan.runs {
        for (peer, runs) in peers.iter().zip(&mut runs) {
            let what = format!("{} metered", peer.name());
            for (connections, runs) in [1, plan.connections].into_iter().zip(runs) {
                let setup = Setup::start(bin_dir).await?;
                let chain = &setup.chain;
                chain
                    .approve_permit2(&chain.accounts().payer, coinslot_testkit::USDC)
                    .await
                    .map_err(|e| e.to_string())?;
                let process = setup.metered_server(*peer)?;
                let url = process.url().trim_end_matches('/').to_owned();
                runs.push(paid_run(&setup, plan, &url, &what, connections, METERED).await?);
            }
        }
    }
    Ok(peers
        .iter()
        .zip(runs)
        .map(|(&peer, [serial, concurrent])| MeteredFigures {
            peer,
            serial: Stat::median(&serial),
            concurrent: Stat::median(&concurrent),
        })
        .collect())
}

/// One run of paid requests for `priced` on `connections` connections, after two paid
/// requests of warm-up; every 200 must have moved its amount on the chain.
async fn paid_run(
    setup: &Setup,
    plan: &Plan,
    url: &str,
    what: &str,
    connections: usize,
    priced: Priced,
) -> Result<Outcome, String> {
    let challenge = load::fetch(url, priced.route).await?;
    let required: PaymentRequired = challenge
        .headers()
        .get("payment-required")
        .ok_or_else(|| format!("{what}: no PAYMENT-REQUIRED in the 402"))
        .and_then(|value| header::decode(value.as_bytes()).map_err(|e| e.to_string()))?;
    let offer = required
        .accepts
        .iter()
        .find(|offer| offer.scheme == priced.scheme && offer.network == setup.chain.network())
        .ok_or_else(|| format!("{what}: no {} offer on the local chain", priced.scheme))?;
    if offer.amount.as_u256() != U256::from(PRICE_UNITS) {
        return Err(format!(
            "{what}: priced {} instead of {PRICE_UNITS}",
            offer.amount
        ));
    }
    let payer = &setup.chain.accounts().payer;
    let signature = &HeaderName::from_static("payment-signature");
    let resource = &required.resource;
    let jobs = |count| async move {
        let payments = samples::evm_payments(payer, offer, Some(resource), count).await?;
        payments
            .iter()
            .map(|payment| {
                let value = header::encode(payment).map_err(|e| e.to_string())?;
                let value = HeaderValue::try_from(value).map_err(|e| e.to_string())?;
                Ok(Job::get(priced.route).with_header(signature.clone(), value))
            })
            .collect::<Result<Vec<_>, String>>()
            .map(|jobs| Work::Each(Arc::new(jobs), plan.limit))
    };
    let expect = Expect {
        status: 200,
        body: None,
    };
    let count = if connections == 1 {
        plan.paid_serial
    } else {
        plan.paid_concurrent
    };
    let work = jobs(count).await?;
    let before = setup.payee_balance().await?;
    let warm = clean(&format!("{what} warm-up"), url, 1, jobs(2).await?, expect).await?;
    let outcome = clean(what, url, connections, work, expect).await?;
    let served = warm.served + outcome.served;
    setup.check_paid(what, before, served, priced.moves).await?;
    Ok(outcome)
}

async fn measure_facilitator(
    setup: &Setup,
    plan: &Plan,
    peer: Peer,
) -> Result<FacilitatorFigures, String> {
    let process = setup.facilitator(peer)?;
    let url = process.url().trim_end_matches('/').to_owned();
    let offer = samples::usdc_offer(setup.payee());
    let payer = &setup.chain.accounts().payer;
    let bodies = |path: &'static str, count| {
        let offer = &offer;
        async move {
            let payments = samples::evm_payments(payer, offer, None, count).await?;
            let jobs = payments
                .iter()
                .map(|payment| Job::post_json(path, samples::facilitator_body(payment)))
                .collect();
            Ok::<_, String>(Work::Each(Arc::new(jobs), plan.limit))
        }
    };
    let valid = Expect {
        status: 200,
        body: Some("\"isValid\":true"),
    };
    let settled = Expect {
        status: 200,
        body: Some("\"success\":true"),
    };
    let what = |part: &str| format!("{} {part}", peer.name());
    let connections = plan.connections;
    clean(
        &what("verify warm-up"),
        &url,
        connections,
        bodies("/verify", connections).await?,
        valid,
    )
    .await?;
    let mut runs = Vec::new();
    for _ in 0..plan.runs {
        let work = bodies("/verify", plan.verify).await?;
        runs.push(clean(&what("/verify"), &url, connections, work, valid).await?);
    }
    let verify = Stat::median(&runs);

    let before = setup.payee_balance().await?;
    // The first settlements go one at a time: asked concurrently before a fresh key's first
    // transaction, viem's nonce manager (the reference's) has handed one nonce out twice.
    let warm = clean(
        &what("settle warm-up"),
        &url,
        1,
        bodies("/settle", 2).await?,
        settled,
    )
    .await?
    .served;
    let mut runs = Vec::new();
    for _ in 0..plan.runs {
        let work = bodies("/settle", plan.settle).await?;
        runs.push(clean(&what("/settle"), &url, connections, work, settled).await?);
    }
    let served = warm + runs.iter().map(|run| run.served).sum::<usize>();
    setup
        .check_paid(&what("/settle"), before, served, PRICE_UNITS)
        .await?;
    Ok(FacilitatorFigures {
        peer,
        verify,
        settle: Stat::median(&runs),
    })
}

async fn stacks_js(plan: &Plan) -> Result<f64, String> {
    let transactions = samples::stacks_transfers(100)
        .await?
        .iter()
        .map(coinslot_stacks::Transaction::to_hex)
        .collect::<Vec<_>>();
    let mut rates = Vec::new();
    for _ in 0..plan.runs {
        let answer =
            coinslot_testkit::stacks::stacks_js_verify_rate(&transactions, plan.stacks_seconds)
                .await
                .map_err(|e| e.to_string())?;
        rates.push(
            answer["perSecond"]
                .as_f64()
                .ok_or_else(|| format!("stacks-bench.mjs answered {answer}"))?,
        );
    }
    Ok(median(rates.into_iter()))
}
