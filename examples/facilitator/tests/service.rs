//! The service as an operator runs it: the binary, configured by environment and file, on the
//! local chain.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use coinslot_testkit::{LocalChain, USDC};

/// Kills the service when the test ends, however it ends.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and returns it with its base URL, read from its "listening" line.
fn start(envs: &[(&str, String)]) -> (Service, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_facilitator"))
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = BufReader::new(stdout).lines().next().unwrap().unwrap();
    assert!(
        line.starts_with("Facilitator listening on http://127.0.0.1:"),
        "{line}"
    );
    let url = line
        .trim_start_matches("Facilitator listening on ")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    (Service(child), url)
}

#[tokio::test]
async fn the_service_starts_from_its_environment_and_serves_the_api() {
    let chain = LocalChain::start().await.unwrap();
    let keys: Vec<String> = chain.accounts().settlers[..2]
        .iter()
        .map(|k| alloy::primitives::hex::encode_prefixed(k.to_bytes()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let config = dir.join("facilitator.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"store": "{}", "assets": ["{}"], "receiptTimeoutSeconds": 5}}"#,
            dir.join("settlements.db").display(),
            USDC
        ),
    )
    .unwrap();
    let (_service, url) = start(&[
        ("EVM_PRIVATE_KEY", keys.join(",")),
        ("EVM_RPC_URL", chain.rpc_url().to_string()),
        ("FACILITATOR_API_KEY", "k".to_owned()),
        ("FACILITATOR_CONFIG", config.display().to_string()),
    ]);
    let client = reqwest::Client::new();
    let health = client.get(format!("{url}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let unauthorized = client.get(format!("{url}/supported")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let supported: serde_json::Value = serde_json::from_slice(
        &client
            .get(format!("{url}/supported"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(supported["kinds"][0]["network"], "eip155:84532");
    assert_eq!(
        supported["signers"]["eip155:*"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn a_missing_key_is_a_clear_error_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_facilitator"))
        .env_remove("EVM_PRIVATE_KEY")
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("EVM_PRIVATE_KEY is required"), "{stderr}");
}
