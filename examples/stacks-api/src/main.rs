//! `stacks-api`: the x402 Stacks API (see the crate docs for the environment).
//!
//! - `stacks-api`: serves; prints `Server listening on <url>` once it accepts connections;
//! - `stacks-api credit <api-key> <credits>`: adds credit to an API key (issuing it if new) in
//!   `DATA_DIR/access.sqlite`, and prints the balance.

use std::net::SocketAddr;

use coinslot::tower::access::{AccessStore as _, ApiKeyDigest, SqliteAccessStore};
use coinslot_example_stacks_api::app;
use coinslot_example_stacks_api::config::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        None => serve().await,
        Some("credit") => credit(&args[1..]).await,
        Some(other) => Err(format!(
            "unknown command {other:?}: run with no arguments, or `credit <api-key> <credits>`"
        )),
    };
    if let Err(message) = outcome {
        eprintln!("stacks-api: {message}");
        std::process::exit(1);
    }
}

async fn credit(args: &[String]) -> Result<(), String> {
    let [key, credits] = args else {
        return Err("usage: stacks-api credit <api-key> <credits>".into());
    };
    let credits: u64 = credits
        .parse()
        .map_err(|_| format!("credits {credits:?} is not a number"))?;
    let dir = std::env::var("DATA_DIR").unwrap_or_else(|_| "data".to_owned());
    std::fs::create_dir_all(&dir).map_err(|e| format!("DATA_DIR {dir}: {e}"))?;
    let store = SqliteAccessStore::open(std::path::Path::new(&dir).join("access.sqlite"))
        .map_err(|e| e.to_string())?;
    let balance = store
        .credit(&ApiKeyDigest::of(key), credits)
        .await
        .map_err(|e| e.to_string())?;
    println!("{balance}");
    Ok(())
}

async fn serve() -> Result<(), String> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], config.port)))
        .await
        .map_err(|e| format!("cannot listen on port {}: {e}", config.port))?;
    // PORT=0 takes a free port: the address printed and offered is the one bound.
    let bound = listener.local_addr().map_err(|e| e.to_string())?.port();
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{bound}"));
    let app = app::build(&config, &public_url).await?;
    println!(
        "Server listening on {public_url} (STX, sBTC, USDCx on {} to {})",
        config.stacks_network.caip2(),
        config.stacks_payee
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| format!("server: {e}"))
}
