//! The reference x402 implementation (npm `@x402/*` 2.27.0 and the legacy v1 `x402-fetch`,
//! pinned in `js/`), driven through `js/x402-reference.mjs`, for interop tests: its clients pay,
//! its facilitator verifies and settles, its hono server sells. And the Python reference
//! facilitator (PyPI `x402` 2.25.0, pinned in `python/requirements.txt`), behind
//! `python/reference_facilitator.py`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::process::ServiceProcess;
use crate::tools::tools;

/// Runs one command of `x402-reference.mjs` with `input` on stdin; returns its JSON answer.
async fn run(command: &'static str, input: Value) -> Result<Value> {
    run_script("x402-reference.mjs", command, input).await
}

/// Runs one command of a script of `js/` with `input` on stdin; returns its JSON answer.
pub(crate) async fn run_script(
    name: &'static str,
    command: &'static str,
    input: Value,
) -> Result<Value> {
    let script = tools()?.js_dir.join(name);
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new("node")
            .arg(&script)
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Tool {
                tool: "node",
                message: format!("cannot run {}: {e}", script.display()),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input.to_string().as_bytes())
                .map_err(|e| Error::io(&script, e))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| Error::io(&script, e))?;
        if !output.status.success() {
            return Err(Error::Tool {
                tool: name,
                message: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        serde_json::from_slice(&output.stdout).map_err(|e| Error::Tool {
            tool: name,
            message: format!("its answer is not JSON: {e}"),
        })
    })
    .await
    .map_err(|e| Error::Tool {
        tool: name,
        message: e.to_string(),
    })?
}

/// The `PaymentPayload` the reference client makes for `payment_required` (a v2
/// `PaymentRequired` as JSON), signing with `private_key` (0x-hex).
pub async fn reference_pay(private_key: &str, payment_required: &Value) -> Result<Value> {
    run(
        "pay",
        json!({"privateKey": private_key, "paymentRequired": payment_required}),
    )
    .await
}

/// [`reference_pay`] with the node at `rpc_url` for the client to read: it then signs the
/// gas-sponsoring extensions the 402 offers (an EIP-2612 permit for Permit2 when the payer's
/// allowance is short).
pub async fn reference_pay_reading(
    private_key: &str,
    payment_required: &Value,
    rpc_url: &str,
) -> Result<Value> {
    run(
        "pay",
        json!({"privateKey": private_key, "paymentRequired": payment_required, "rpcUrl": rpc_url}),
    )
    .await
}

/// What the reference facilitator can be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacilitatorCall {
    /// `/verify`.
    Verify,
    /// `/settle`.
    Settle,
}

/// The reference facilitator's answer to `call` (`exact` by EIP-3009 or Permit2, and `upto`),
/// with `private_key` (0x-hex) as its settlement key on the chain at `rpc_url`.
pub async fn reference_facilitator(
    call: FacilitatorCall,
    rpc_url: &str,
    private_key: &str,
    payment_payload: &Value,
    payment_requirements: &Value,
) -> Result<Value> {
    let command = match call {
        FacilitatorCall::Verify => "verify",
        FacilitatorCall::Settle => "settle",
    };
    run(
        command,
        json!({"rpcUrl": rpc_url, "privateKey": private_key,
               "paymentPayload": payment_payload, "paymentRequirements": payment_requirements}),
    )
    .await
}

/// Which reference client pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceClient {
    /// `@x402/fetch` 2.27.0 (x402 v2).
    FetchV2,
    /// The legacy `x402-fetch` 1.2.0 (x402 v1).
    FetchV1,
}

/// A GET of `url` by a reference paying client signing with `private_key` (0x-hex):
/// `{"status", "body", "paymentResponse"}`, the receipt as that client decodes it.
pub async fn reference_fetch(
    client: ReferenceClient,
    private_key: &str,
    url: &str,
) -> Result<Value> {
    let command = match client {
        ReferenceClient::FetchV2 => "fetch-v2",
        ReferenceClient::FetchV1 => "fetch-v1",
    };
    run(command, json!({"privateKey": private_key, "url": url})).await
}

fn service(command: &str, envs: &[(&str, String)], ready: &str) -> Result<ServiceProcess> {
    let script = tools()?.js_dir.join("x402-reference.mjs");
    let mut node = Command::new("node");
    node.arg(script)
        .arg(command)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())));
    ServiceProcess::spawn(node, ready, true)
}

/// The reference server (`@x402/hono` 2.27.0) on `eip155:84532`, paid to `pay_to`, settled
/// through the facilitator at `facilitator_url`: `GET /weather` at $0.001 in USDC (EIP-3009),
/// `GET /exact/evm/permit2` 0.001 USDC through Permit2, and `GET /upto/evm/permit2` up to
/// $0.001, its handler charging 700 atomic units through `setSettlementOverrides`.
pub fn reference_server(pay_to: &str, facilitator_url: &str) -> Result<ServiceProcess> {
    service(
        "serve-hono",
        &[
            ("PAY_TO", pay_to.to_owned()),
            ("FACILITATOR_URL", facilitator_url.to_owned()),
        ],
        "Server listening",
    )
}

/// The reference server as [`reference_server`] runs it, with the reference facilitator
/// in-process instead of behind HTTP, settling with `private_key` on the chain at `rpc_url`.
pub fn reference_server_in_process(
    pay_to: &str,
    rpc_url: &str,
    private_key: &str,
) -> Result<ServiceProcess> {
    service(
        "serve-hono",
        &[
            ("PAY_TO", pay_to.to_owned()),
            ("RPC_URL", rpc_url.to_owned()),
            ("PRIVATE_KEY", private_key.to_owned()),
        ],
        "Server listening",
    )
}

/// The reference facilitator as an HTTP service (`/verify`, `/settle`, `/supported`), settling
/// with `private_key` (0x-hex) on the chain at `rpc_url`.
pub fn reference_facilitator_service(rpc_url: &str, private_key: &str) -> Result<ServiceProcess> {
    service(
        "serve-facilitator",
        &[
            ("RPC_URL", rpc_url.to_owned()),
            ("PRIVATE_KEY", private_key.to_owned()),
        ],
        "Facilitator listening",
    )
}

/// The Python reference facilitator (PyPI `x402` 2.25.0, its exact-EVM scheme on web3.py) as
/// an HTTP service (`/verify`, `/settle`, `/supported`), settling with `private_key` (0x-hex)
/// on the chain at `rpc_url`. Its packages are installed on first use ([`tools::python`]).
///
/// [`tools::python`]: crate::tools::python
pub fn python_reference_facilitator(rpc_url: &str, private_key: &str) -> Result<ServiceProcess> {
    let script = crate::tools::python_dir().join("reference_facilitator.py");
    let mut command = crate::tools::python()?.command(script);
    command
        .env("RPC_URL", rpc_url)
        .env("PRIVATE_KEY", private_key);
    ServiceProcess::spawn(command, "Facilitator listening", true)
}
