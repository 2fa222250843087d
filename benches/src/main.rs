//! `coinslot-bench`: the benchmarks' command.
//!
//! - `coinslot-bench serve paid|bare|metered|facilitator|bare-hashing`: one of our servers (see `serve.rs`);
//! - `coinslot-bench run [--smoke] [--out FILE] [--criterion DIR] [--only PEER,…]`: every load
//!   measurement (of the peers named: coinslot, x402-rs, ts, axum),
//!   then the report, with criterion's results read from `DIR` (default `target/criterion`)
//!   and written to `FILE` (default `docs/benchmarks.md`; with `--smoke`,
//!   `target/benchmarks-smoke.md`).

use std::path::{Path, PathBuf};

use coinslot_benches::report;
use coinslot_benches::run::{self, Peer, Plan};
use coinslot_benches::serve::{self, Server};

const USAGE: &str = "usage: coinslot-bench serve paid|bare|metered|facilitator|bare-hashing\n       coinslot-bench run [--smoke] [--out FILE] [--criterion DIR] [--only PEER,...]";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => match args.get(1).map(String::as_str) {
            Some("paid") => serve::serve(Server::Paid).await,
            Some("bare") => serve::serve(Server::Bare).await,
            Some("metered") => serve::serve(Server::Metered).await,
            Some("facilitator") => serve::serve(Server::Facilitator).await,
            Some("bare-hashing") => serve::serve(Server::BareHashing).await,
            _ => Err(USAGE.into()),
        },
        Some("run") => run_all(&args[1..]).await,
        _ => Err(USAGE.into()),
    };
    if let Err(message) = result {
        eprintln!("coinslot-bench: {message}");
        std::process::exit(1);
    }
}

async fn run_all(args: &[String]) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?
        .to_owned();
    let bin_dir = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .parent()
        .ok_or("no folder for this executable")?
        .to_owned();
    let target = bin_dir.parent().ok_or("no target folder")?.to_owned();
    let smoke = args.iter().any(|a| a == "--smoke");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    let out = value("--out").unwrap_or_else(|| {
        if smoke {
            target.join("benchmarks-smoke.md")
        } else {
            root.join("docs/benchmarks.md")
        }
    });
    let criterion = value("--criterion").unwrap_or_else(|| target.join("criterion"));
    let mut plan = if smoke { Plan::smoke() } else { Plan::full() };
    if let Some(only) = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
    {
        plan.only = only
            .split(',')
            .map(|name| Peer::from_arg(name).ok_or_else(|| format!("--only: no peer {name:?}")))
            .collect::<Result<_, _>>()?;
    }
    let figures = run::run(&plan, &bin_dir).await?;
    let text = report::render(&figures, &criterion, &root);
    std::fs::write(&out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}
