//! The reference x402 implementation (npm `@x402/core` and `@x402/evm`, pinned in `js/`), driven
//! through `js/x402-reference.mjs`, for interop tests: its client pays, its facilitator verifies
//! and settles.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::tools::tools;

/// Runs one command of `x402-reference.mjs` with `input` on stdin; returns its JSON answer.
async fn run(command: &'static str, input: Value) -> Result<Value> {
    let script = tools()?.js_dir.join("x402-reference.mjs");
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
                tool: "x402-reference.mjs",
                message: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        serde_json::from_slice(&output.stdout).map_err(|e| Error::Tool {
            tool: "x402-reference.mjs",
            message: format!("its answer is not JSON: {e}"),
        })
    })
    .await
    .map_err(|e| Error::Tool {
        tool: "x402-reference.mjs",
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

/// What the reference facilitator can be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacilitatorCall {
    /// `/verify`.
    Verify,
    /// `/settle`.
    Settle,
}

/// The reference facilitator's answer to `call`, with `private_key` (0x-hex) as its settlement
/// key on the chain at `rpc_url`.
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
