//! `docs/benchmarks.md`: the machine, every version, the commands, the figures of the load runs
//! and of criterion, the ratios against each peer, and the goals.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::run::{Figures, Peer, Plan, Stat};
use crate::stacks_api::StacksApiFigures;

/// Criterion's median time of bench `id` (`evm/verify_local`) in ns, from the folder criterion
/// writes (`target/criterion`).
pub fn criterion_ns(criterion_dir: &Path, id: &str) -> Option<f64> {
    let path = criterion_dir.join(id).join("new/estimates.json");
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// The micro benches, in the order the report lists them, with what each measures.
const MICRO: [(&str, &str); 10] = [
    (
        "header/decode_payment",
        "decode a `PAYMENT-SIGNATURE` header (base64, JSON, strict)",
    ),
    ("header/encode_payment", "encode a payment as a header"),
    (
        "header/decode_challenge",
        "decode a `PAYMENT-REQUIRED` header",
    ),
    (
        "header/encode_challenge",
        "encode a 402 challenge as a header",
    ),
    (
        "matching/find_requirement",
        "match a payment to the third of three offers",
    ),
    ("amount/parse_atomic", "parse a 78-digit atomic amount"),
    ("amount/parse_price", "parse the price `$0.001`"),
    (
        "amount/price_to_atomic",
        "`$0.001` in a 6-decimal token's units",
    ),
    (
        "secp256k1/recover",
        "one public-key recovery with k256 (the floor)",
    ),
    (
        "secp256k1/recover_libsecp256k1",
        "one public-key recovery with libsecp256k1",
    ),
];

/// Writes the report.
pub fn render(figures: &Figures, criterion_dir: &Path, root: &Path) -> String {
    let ns = |id: &str| criterion_ns(criterion_dir, id);
    let mut out = String::new();
    let plan = &figures.plan;
    let w = &mut out;
    line(w, "# Benchmarks");
    line(w, "");
    line(
        w,
        "coinslot beside bare axum (the limit), x402-rs and the TypeScript reference, measured in \
         one run on one machine so that the ratios hold. Written by `./scripts/bench.sh`; do not \
         edit by hand.",
    );
    line(w, "");
    machine(w, root);
    setup(w, figures);

    let coinslot_server = figures.servers.iter().find(|s| s.peer == Peer::Coinslot);
    let axum = figures.servers.iter().find(|s| s.peer == Peer::Axum);

    line(w, "## 1. The 402 challenge");
    line(w, "");
    let pinned = figures.servers.iter().all(|s| s.pinned);
    let _ = writeln!(
        w,
        "`GET /weather` without a payment, {} connections, {} runs of {} s (bare axum answers \
         its plain 200), the servers in turn, one run each per round, so that the machine's \
         drift falls on all alike. {} The server's CPU time per request comes from `/proc`.",
        plan.connections,
        plan.challenge_runs,
        plan.challenge.as_secs_f64(),
        if pinned {
            "The server runs on CPU 0 and the driver on CPU 1 (`taskset`)."
        } else {
            "The server and the driver share the CPUs (they could not be pinned apart)."
        }
    );
    line(w, "");
    line(
        w,
        "| server | requests/s | p50 ms | p99 ms | of bare axum | server CPU per request: user + kernel |",
    );
    line(w, "|---|---:|---:|---:|---:|---:|");
    for server in &figures.servers {
        let of_axum = axum.map_or(f64::NAN, |a| {
            server.challenge.throughput / a.challenge.throughput
        });
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            server.peer.name(),
            rate(server.challenge.throughput),
            ms(server.challenge.p50),
            ms(server.challenge.p99),
            percent(of_axum),
            server
                .challenge_cpu_us
                .map_or("—".to_owned(), |(user, kernel)| format!(
                    "{:.1} µs: {user:.1} + {kernel:.1}",
                    user + kernel
                ))
        );
    }
    line(w, "");

    line(w, "## 2. Paid requests, end to end");
    line(w, "");
    let _ = writeln!(
        w,
        "Each request carries its own pre-signed EIP-3009 payment: verify, the handler, settle on \
         anvil (automine), the receipt. {} requests per run on 1 connection, {} on {}. Every 200 \
         is checked against the payee's balance on the chain.",
        plan.paid_serial, plan.paid_concurrent, plan.connections
    );
    line(w, "");
    let _ = writeln!(
        w,
        "| server | c=1 req/s | c=1 p50 ms | c=1 p99 ms | c={0} req/s | c={0} p50 ms | c={0} p99 ms | coinslot's throughput, × (c=1 / c={0}) |",
        plan.connections
    );
    line(w, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let ours_paid = coinslot_server.and_then(|s| s.paid);
    for server in &figures.servers {
        let Some((serial, concurrent)) = server.paid else {
            continue;
        };
        let ratio = match (server.peer, ours_paid) {
            (Peer::Coinslot, _) | (_, None) => "—".to_owned(),
            (_, Some((ours_serial, ours_concurrent))) => format!(
                "{} / {}",
                times(ours_serial.throughput / serial.throughput),
                times(ours_concurrent.throughput / concurrent.throughput)
            ),
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            server.peer.name(),
            rate(serial.throughput),
            ms(serial.p50),
            ms(serial.p99),
            rate(concurrent.throughput),
            ms(concurrent.p50),
            ms(concurrent.p99),
            ratio
        );
    }
    line(w, "");

    metered_table(w, figures, ours_paid);

    line(w, "## 3. Verification");
    line(w, "");
    let _ = writeln!(
        w,
        "`POST /verify` of valid, distinct payments, {} per run on {} connections; each \
         facilitator reads the chain as it chooses (balance, nonce state, simulation).",
        plan.verify, plan.connections
    );
    line(w, "");
    facilitator_table(w, figures, |f| f.verify, "verifications/s");
    let local = ns("evm/verify_local");
    let local_json = ns("evm/verify_local_from_json");
    let local_permit2 = ns("evm/verify_local_permit2");
    let floor = ns("secp256k1/recover");
    let libsecp_floor = ns("secp256k1/recover_libsecp256k1");
    line(
        w,
        "Without any RPC (criterion, one core): coinslot's local checks of a payment against one raw",
    );
    line(
        w,
        "secp256k1 public-key recovery, which they must do at least once: with k256 (the floor the",
    );
    line(
        w,
        "goal names) and with libsecp256k1 (what coinslot-evm recovers with, its default",
    );
    line(w, "`libsecp256k1` feature).");
    line(w, "");
    line(
        w,
        "| | median | per second | k256 floor's share | libsecp256k1's share |",
    );
    line(w, "|---|---:|---:|---:|---:|");
    for (name, value) in [
        (
            "`ExactEvmFacilitator::verify_local` (parsed request)",
            local,
        ),
        ("the same, from the JSON body", local_json),
        (
            "the same for `exact` over Permit2 (parsed request)",
            local_permit2,
        ),
        ("one k256 recovery (the floor)", floor),
        ("one libsecp256k1 recovery", libsecp_floor),
    ] {
        let share = |floor: Option<f64>| match (floor, value) {
            (Some(floor), Some(value)) => percent(floor / value),
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} | {} |",
            duration(value),
            value.map_or("—".to_owned(), |v| rate(1e9 / v)),
            share(floor),
            share(libsecp_floor)
        );
    }
    line(w, "");

    line(w, "## 4. Settlements under concurrency");
    line(w, "");
    let _ = writeln!(
        w,
        "`POST /settle` of distinct payments, {} per run on {} connections, each a \
         `transferWithAuthorization` mined by anvil (automine) and waited for; one settlement \
         key each.",
        plan.settle, plan.connections
    );
    line(w, "");
    facilitator_table(w, figures, |f| f.settle, "settlements/s");

    line(w, "## 5. Stacks: decode and verify");
    line(w, "");
    line(
        w,
        "A signed STX transfer (an x402 `exact` payment): decode the bytes, check the origin's",
    );
    line(
        w,
        "signature (recover the key, hash it, compare with the signer). coinslot-stacks recovers",
    );
    line(
        w,
        "with libsecp256k1 (its default `libsecp256k1` feature), so that is its floor; k256's is",
    );
    line(w, "beside it for the pure-Rust build (the feature off).");
    line(w, "");
    line(
        w,
        "| | per transaction | per second | coinslot's speed against it |",
    );
    line(w, "|---|---:|---:|---:|");
    let stacks = ns("stacks/decode_verify");
    let js_ns = 1e9 / figures.stacks_js;
    for (name, value, compared) in [
        ("coinslot-stacks (criterion)", stacks, false),
        (
            "`@stacks/transactions` in Node (`deserializeTransaction` + `verifyOrigin`)",
            Some(js_ns),
            true,
        ),
        ("one libsecp256k1 recovery (the floor)", libsecp_floor, true),
        ("one k256 recovery", floor, true),
    ] {
        let versus = stacks.zip(value).filter(|_| compared).map(|(s, v)| v / s);
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} |",
            duration(value),
            value.map_or("—".to_owned(), |v| rate(1e9 / v)),
            versus.map_or("—".to_owned(), |v| if v >= 1.0 {
                times(v)
            } else {
                percent(v)
            })
        );
    }
    line(w, "");

    line(w, "## 6. Micro benches");
    line(w, "");
    line(w, "| bench | what | median |");
    line(w, "|---|---|---:|");
    for (id, what) in MICRO {
        let _ = writeln!(w, "| `{id}` | {what} | {} |", duration(ns(id)));
    }
    line(w, "");

    line(w, "## 7. Peak memory");
    line(w, "");
    line(
        w,
        "Peak resident set (`VmHWM`) of each server process after all its runs above.",
    );
    line(w, "");
    line(w, "| server | peak RSS |");
    line(w, "|---|---:|");
    for server in &figures.servers {
        let _ = writeln!(
            w,
            "| {} | {} |",
            server.peer.name(),
            server.peak_kb.map_or("—".to_owned(), |kb| format!(
                "{:.1} MB",
                kb as f64 / 1024.0
            ))
        );
    }
    line(w, "");

    if let Some(api) = &figures.stacks_api {
        stacks_api(w, plan, api);
    }

    goals(w, figures, local, floor, stacks);
    w.push_str(LIMITS);
    out
}

/// What bounds the figures, as profiled (the same on every run).
const LIMITS: &str = "\
## What limits the figures

- Paid requests and settlements are bound by anvil: under load it runs at 100% of a core
  while coinslot's server uses about a quarter of one. With automine every settlement is a
  block, and anvil rebuilds the whole state trie for each block (keccak and `alloy_trie`
  are about 40% of its profile), while every EIP-3009 payment adds a storage slot (its
  nonce): on one chain, coinslot's paid rate at 32 connections falls from about 500/s in
  the first 500 payments to about 220/s in the third (hence a fresh chain for every run).
  coinslot asks the node once to verify a valid payment (`eth_call`) and, to settle, once
  to simulate it (`eth_call`; the gas limit is learned from the first estimate of the
  function), then sends it with `eth_sendRawTransactionSync` (EIP-7966), which anvil
  answers with the receipt once the block is mined: no receipt poll. Fees are estimated
  once a second.
- x402-rs waits for receipts through alloy's watcher on an RPC client built as non-local,
  which polls every 7 s: once a receipt is not back at the first look, a settlement takes
  about 7 s (its first runs on a fresh chain are fast).
- The TS reference waits for receipts with viem, which polls every 4 s on this chain (the
  p99 of its concurrent runs); its facilitator uses viem's nonce manager, without which
  concurrent settlements collide on nonces.
- Local verification and Stacks verification stand on one public-key recovery, with
  libsecp256k1 in both scheme crates (about 5× faster than k256 here, which verifies the
  signature again after recovering the key). The rest of an EVM check (two EIP-712 hashes,
  the fields) and of a Stacks check (decoding, three SHA-512/256 and a hash160) is a few µs.
- The 402: coinslot's middleware costs about 0.2 µs of user time per request over bare axum's
  handler; most of the difference is kernel time, as its answer is 1,180 bytes (the v2
  `PAYMENT-REQUIRED` header, and the v1 body that legacy clients read) where bare axum sends
  about 150. Bare axum serving those same bytes from a static handler measured within a few
  percent of coinslot (10.0 µs against 10.6 µs per request, one run). On this virtual machine
  a 402 run's rate drifts by ±15% over minutes, more than the servers differ: hence the
  servers' runs in turn, and the CPU time per request beside the rate.
";

fn facilitator_table(
    w: &mut String,
    figures: &Figures,
    stat: impl Fn(&crate::run::FacilitatorFigures) -> Stat,
    unit: &str,
) {
    let ours = figures
        .facilitators
        .iter()
        .find(|f| f.peer == Peer::Coinslot)
        .map(&stat);
    let _ = writeln!(
        w,
        "| facilitator | {unit} | p50 ms | p99 ms | coinslot's throughput, × |"
    );
    line(w, "|---|---:|---:|---:|---:|");
    for facilitator in &figures.facilitators {
        let figure = stat(facilitator);
        let ratio = match (facilitator.peer, ours) {
            (Peer::Coinslot, _) | (_, None) => "—".to_owned(),
            (_, Some(ours)) => times(ours.throughput / figure.throughput),
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {ratio} |",
            facilitator.peer.name(),
            rate(figure.throughput),
            ms(figure.p50),
            ms(figure.p99)
        );
    }
    line(w, "");
}

/// The metered (`upto`) runs beside coinslot's `exact` EIP-3009 paid runs.
fn metered_table(w: &mut String, figures: &Figures, ours_paid: Option<(Stat, Stat)>) {
    if figures.metered.is_empty() {
        return;
    }
    let plan = &figures.plan;
    let _ = writeln!(
        w,
        "Metered: `GET {}`, `upto` $0.001 through Permit2, each request charged {} of its {} \
         atomic units by its handler (coinslot: a typed `Charge`; the reference: \
         `setSettlementOverrides`), so each settlement moves less than was signed; the payer \
         approved Permit2 once per chain. The same counts and checks as above; coinslot's \
         EIP-3009 row repeats the table above for comparison.",
        crate::serve::METERED_ROUTE,
        crate::serve::METERED_CHARGE,
        crate::serve::PRICE_UNITS,
    );
    line(w, "");
    let _ = writeln!(
        w,
        "| server | c=1 req/s | c=1 p50 ms | c=1 p99 ms | c={0} req/s | c={0} p50 ms | c={0} p99 ms | coinslot's throughput, × (c=1 / c={0}) |",
        plan.connections
    );
    line(w, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let ours = figures
        .metered
        .iter()
        .find(|m| m.peer == Peer::Coinslot)
        .map(|m| (m.serial, m.concurrent));
    let mut rows: Vec<(String, Stat, Stat)> = figures
        .metered
        .iter()
        .map(|m| (format!("{} `upto`", m.peer.name()), m.serial, m.concurrent))
        .collect();
    if let Some((serial, concurrent)) = ours_paid {
        rows.push(("coinslot `exact` EIP-3009".to_owned(), serial, concurrent));
    }
    for (name, serial, concurrent) in rows {
        let ratio = match ours {
            Some((ours_serial, ours_concurrent)) if !name.starts_with("coinslot") => format!(
                "{} / {}",
                times(ours_serial.throughput / serial.throughput),
                times(ours_concurrent.throughput / concurrent.throughput)
            ),
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} | {} | {} | {} | {ratio} |",
            rate(serial.throughput),
            ms(serial.p50),
            ms(serial.p99),
            rate(concurrent.throughput),
            ms(concurrent.p50),
            ms(concurrent.p99),
        );
    }
    line(w, "");
}

fn goals(
    w: &mut String,
    figures: &Figures,
    local: Option<f64>,
    floor: Option<f64>,
    stacks: Option<f64>,
) {
    let server = |peer| figures.servers.iter().find(|s| s.peer == peer);
    let mut rows: Vec<(String, String, bool)> = Vec::new();
    if let (Some(ours), Some(axum)) = (server(Peer::Coinslot), server(Peer::Axum)) {
        let share = ours.challenge.throughput / axum.challenge.throughput;
        rows.push((
            "402 challenge ≥ 90% of bare axum's throughput".into(),
            percent(share),
            share >= 0.9,
        ));
    }
    if let Some((ours_serial, ours_concurrent)) = server(Peer::Coinslot).and_then(|s| s.paid) {
        for (peer, goal) in [(Peer::X402Rs, 2.0), (Peer::Reference, 5.0)] {
            let Some((serial, concurrent)) = server(peer).and_then(|s| s.paid) else {
                continue;
            };
            for (label, ours, theirs) in [
                ("c=1", ours_serial, serial),
                (
                    &*format!("c={}", figures.plan.connections),
                    ours_concurrent,
                    concurrent,
                ),
            ] {
                let ratio = ours.throughput / theirs.throughput;
                rows.push((
                    format!(
                        "paid, {label}: ≥ {goal}× {}'s throughput, lower p99",
                        peer.name()
                    ),
                    format!(
                        "{}, p99 {} vs {} ms",
                        times(ratio),
                        ms(ours.p99),
                        ms(theirs.p99)
                    ),
                    ratio >= goal && ours.p99 < theirs.p99,
                ));
            }
        }
    }
    if let (Some(local), Some(floor)) = (local, floor) {
        rows.push((
            "local verification ≥ 90% of the recovery floor".into(),
            percent(floor / local),
            floor / local >= 0.9,
        ));
    }
    if let Some(stacks) = stacks {
        let ratio = (1e9 / figures.stacks_js) / stacks;
        rows.push((
            "Stacks verification ≥ 10× `@stacks/transactions`".into(),
            times(ratio),
            ratio >= 10.0,
        ));
    }
    line(w, "## Goals");
    line(w, "");
    line(w, "| goal | measured | met |");
    line(w, "|---|---|---|");
    for (goal, measured, met) in rows {
        let _ = writeln!(
            w,
            "| {goal} | {measured} | {} |",
            if met { "yes" } else { "**no**" }
        );
    }
    line(w, "");
}

fn machine(w: &mut String, root: &Path) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or("unknown".to_owned(), |kb| {
            format!("{:.0} GiB", kb / 1024.0 / 1024.0)
        });
    line(w, "## Machine and versions");
    line(w, "");
    let _ = writeln!(
        w,
        "- Run on {}, commit `{}`.",
        output("date", &["-u", "+%Y-%m-%d"]),
        output(
            "git",
            &[
                "-C",
                &root.to_string_lossy(),
                "rev-parse",
                "--short",
                "HEAD"
            ]
        )
    );
    let _ = writeln!(
        w,
        "- CPU: {model}, {cores} cores; memory {memory}; {}.",
        output("uname", &["-sr"])
    );
    let _ = writeln!(
        w,
        "- {}; Node.js {}; {}.",
        output("rustc", &["-V"]),
        output("node", &["-v"]),
        anvil_version()
    );
    let peers = root.join("benches/peers/x402-rs/Cargo.lock");
    let _ = writeln!(
        w,
        "- coinslot {} (release profile); x402-rs: x402-axum {}, x402-facilitator-local {}, \
         x402-chain-eip155 {} (release profile, `benches/peers/x402-rs`).",
        env!("CARGO_PKG_VERSION"),
        lock_version(&peers, "x402-axum"),
        lock_version(&peers, "x402-facilitator-local"),
        lock_version(&peers, "x402-chain-eip155"),
    );
    let js = root.join("crates/coinslot-testkit/js/package-lock.json");
    let npm = |name: &str| npm_version(&js, name);
    let _ = writeln!(
        w,
        "- TS reference: @x402/hono {}, @x402/core {}, @x402/evm {}, hono {}, @hono/node-server {}, \
         viem {}; @stacks/transactions {} (`crates/coinslot-testkit/js`).",
        npm("@x402/hono"),
        npm("@x402/core"),
        npm("@x402/evm"),
        npm("hono"),
        npm("@hono/node-server"),
        npm("viem"),
        npm("@stacks/transactions"),
    );
    line(w, "");
}

/// What `./scripts/bench.sh` runs, as the report shows it.
const COMMANDS: &str = "\
```sh
./scripts/bench.sh          # all of it; rewrites this file
./scripts/bench.sh --smoke  # every path once with a few requests, in debug (CI)
```

which runs, from the repository's root:

```sh
cargo build --locked --release -p coinslot-benches --bins
CARGO_TARGET_DIR=$PWD/target cargo build --locked --release \\
  --manifest-path benches/peers/x402-rs/Cargo.toml
cargo bench --locked -p coinslot-benches    # criterion: sections 3 (local), 5, 6
target/release/coinslot-bench run --criterion target/criterion   # the rest; writes this file
```
";

fn setup(w: &mut String, figures: &Figures) {
    let plan = &figures.plan;
    line(w, "## How it runs");
    line(w, "");
    w.push_str(COMMANDS);
    line(w, "");
    let _ = writeln!(
        w,
        "- Every peer serves the same route, `GET /weather` at $0.001 in USDC on `eip155:84532`, \
         with the testkit's EIP-3009 token at the Base Sepolia USDC address on anvil (automine, \
         `--prune-history 64`), with its facilitator in-process and one settlement key. Each \
         server runs in its own process, started fresh. The paid runs go round by round, like \
         the 402's: in each round every server runs once on one connection and once on many, \
         each run against a server of its own on a fresh chain, so that every run starts from \
         the same chain state. Each facilitator's runs start on a fresh chain too.\n\
         - The load driver (`coinslot-bench`, `benches/src/load.rs`) keeps a fixed number of \
         HTTP/1.1 keep-alive connections, each sending its next request when the last answer is \
         read, and times every request. Paid loads are pre-signed, one payment per request.\n\
         - The driver, the server and anvil share the machine's cores (but for the 402 runs, \
         below): the figures compare implementations on one machine, they are not a capacity \
         plan.\n\
         - Each figure is the median of {} runs (of {} for the 402); micro benches are criterion's medians \
         (`cargo bench -p coinslot-benches`).",
        plan.runs, plan.challenge_runs
    );
    line(w, "");
}

/// §8: the Stacks API (`examples/stacks-api`) under load.
fn stacks_api(w: &mut String, plan: &Plan, api: &StacksApiFigures) {
    line(w, "## 8. The Stacks API");
    line(w, "");
    let _ = writeln!(
        w,
        "`examples/stacks-api`, the release build, one process with its in-process facilitator \
         on the Stacks devnet (a block every {} ms), its SQLite files on this machine's disk. \
         `POST /hashing/sha256` of `{{\"data\":\"hello world\"}}`: its handler alone on bare \
         axum (the limit); through the whole service on a prepaid API key (the access policy \
         debits the key's credit in SQLite, the usage record writes a row: two SQLite \
         transactions per call); and paid in STX, each request with its own pre-signed \
         transfer (verify, the handler, settle: broadcast and wait for the block, the receipt; \
         {} requests per run on 1 connection, {} on {}, every 200 checked against the payee's \
         balance). The others run {} s each. Medians of {} runs.",
        coinslot_testkit::stacks::BLOCK_MS,
        plan.stacks_paid_serial,
        plan.stacks_paid_concurrent,
        plan.connections,
        plan.challenge.as_secs_f64(),
        plan.runs,
    );
    line(w, "");
    let c = plan.connections;
    let _ = writeln!(
        w,
        "| call | c=1 req/s | c=1 p50 ms | c=1 p99 ms | c={c} req/s | c={c} p50 ms | c={c} p99 ms | of the bare handler (c=1 / c={c}) |"
    );
    line(w, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let rows = [
        ("hashing, the handler alone", &api.bare),
        ("hashing, API key", &api.keyed),
        ("hashing, paid in STX", &api.paid),
        ("KV set (one key, overwritten), API key", &api.kv_set),
        ("KV get, API key", &api.kv_get),
    ];
    for (what, (one, many)) in rows {
        let _ = writeln!(
            w,
            "| {what} | {} | {} | {} | {} | {} | {} | {} / {} |",
            rate(one.throughput),
            ms(one.p50),
            ms(one.p99),
            rate(many.throughput),
            ms(many.p50),
            ms(many.p99),
            percent(one.throughput / api.bare.0.throughput),
            percent(many.throughput / api.bare.1.throughput),
        );
    }
    line(w, "");
    let overhead = |bare: f64, keyed: f64| 1e6 / keyed - 1e6 / bare;
    let _ = writeln!(
        w,
        "The service's overhead over the bare handler, on an API key: {:.0} µs per call on one \
         connection ({} against {} p50). Peak resident memory of the service after these runs, \
         with all-MiniLM-L6-v2 loaded for vector memory: {}.",
        overhead(api.bare.0.throughput, api.keyed.0.throughput),
        ms(api.keyed.0.p50),
        ms(api.bare.0.p50),
        api.peak_kb.map_or("—".to_owned(), |kb| format!(
            "{:.1} MB",
            kb as f64 / 1024.0
        )),
    );
    line(w, "");
}

fn line(w: &mut String, text: &str) {
    w.push_str(text);
    w.push('\n');
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

fn anvil_version() -> String {
    coinslot_testkit::tools::tools()
        .map(|tools| output(&tools.anvil.to_string_lossy(), &["--version"]))
        .ok()
        .and_then(|v| v.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn lock_version(lock: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    let wanted = format!("name = \"{name}\"");
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l == wanted
            && let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = "))
        {
            return v.trim_matches('"').to_owned();
        }
    }
    "unknown".into()
}

fn npm_version(lock: &Path, name: &str) -> String {
    std::fs::read(lock)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|lock| {
            lock["packages"][format!("node_modules/{name}")]["version"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".into())
}

fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        format!("{per_second:.0}")
    } else {
        format!("{per_second:.1}")
    }
}

fn ms(value: f64) -> String {
    if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

fn times(ratio: f64) -> String {
    format!("{ratio:.1}×")
}

fn duration(ns: Option<f64>) -> String {
    match ns {
        None => "—".into(),
        Some(ns) if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        Some(ns) if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        Some(ns) => format!("{ns:.0} ns"),
    }
}
