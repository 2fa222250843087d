//! [`StacksNode`]: the node and Hiro API calls of a payment: broadcast, transaction status,
//! account nonce and balance, fee rate.

use std::time::Duration;

use coinslot_core::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::transaction::Txid;

/// The default time limit of one call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// A Stacks node with the Hiro API (`/v2/*` and `/extended/v1/*`), over HTTP.
#[derive(Debug, Clone)]
pub struct StacksNode {
    base: String,
    client: reqwest::Client,
    api_key: Option<String>,
}

/// What the node answered to a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broadcast {
    /// In the mempool (or already there).
    Accepted(Txid),
    /// Refused, with the node's reason (`BadNonce`, `NotEnoughFunds`, …) and its details.
    Rejected {
        /// The reason name.
        reason: String,
        /// `reason_data`, as sent.
        data: Value,
    },
}

/// Where a transaction stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// The node does not know it.
    Unknown,
    /// In the mempool.
    Pending,
    /// Mined, and its call returned `ok`.
    Success {
        /// The block that holds it.
        block_height: u64,
    },
    /// Mined, and aborted (`abort_by_response`, `abort_by_post_condition`): fee paid, nothing
    /// else moved. Final.
    Aborted {
        /// The status.
        status: String,
        /// The result, as Clarity text.
        result: String,
    },
    /// Left the mempool without being mined (`dropped_*`). Not final: a replaced transaction
    /// often confirms after all, so it is watched until the time limit.
    Dropped {
        /// The status.
        status: String,
    },
}

/// An account's nonces, as the Hiro API counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonces {
    /// The next nonce the chain will take (the count of mined transactions).
    pub executed_next: u64,
    /// The nonce to use for a new transaction, counting the mempool.
    pub possible_next: u64,
}

#[derive(Deserialize)]
struct NoncesJson {
    last_executed_tx_nonce: Option<u64>,
    possible_next_nonce: u64,
}

#[derive(Deserialize)]
struct AccountJson {
    balance: String,
    nonce: u64,
}

impl StacksNode {
    /// A node at `base_url` (`https://api.hiro.so`, `http://127.0.0.1:3999`).
    pub fn new(base_url: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(DEFAULT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            base: base_url.into().trim_end_matches('/').to_owned(),
            client,
            api_key: None,
        }
    }

    /// Sends `x-api-key` with every call (Hiro's API key header).
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Uses this HTTP client (its timeouts, proxies, TLS settings).
    #[must_use]
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match &self.api_key {
            Some(key) => request.header("x-api-key", key),
            None => request,
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(|e| Error::transport(format!("GET {path}"), e))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(Error::transport(
                format!("GET {path}: {status}"),
                truncate(&body),
            ));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::transport(format!("GET {path}"), e))?;
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| Error::transport(format!("GET {path}: unexpected answer"), e))
    }

    /// `POST /v2/transactions` with the raw transaction.
    pub async fn broadcast(&self, raw: &[u8]) -> Result<Broadcast> {
        let response = self
            .request(reqwest::Method::POST, "/v2/transactions")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(raw.to_vec())
            .send()
            .await
            .map_err(|e| Error::transport("POST /v2/transactions", e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::transport("POST /v2/transactions", e))?;
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status.is_success() {
            let txid = answer.as_str().and_then(parse_txid).ok_or_else(|| {
                Error::transport(
                    "POST /v2/transactions: no txid in the answer",
                    truncate(&String::from_utf8_lossy(&body)),
                )
            })?;
            return Ok(Broadcast::Accepted(txid));
        }
        match answer.get("reason").and_then(Value::as_str) {
            Some(reason) if status.is_client_error() => Ok(Broadcast::Rejected {
                reason: reason.to_owned(),
                data: answer.get("reason_data").cloned().unwrap_or(Value::Null),
            }),
            _ => Err(Error::transport(
                format!("POST /v2/transactions: {status}"),
                truncate(&String::from_utf8_lossy(&body)),
            )),
        }
    }

    /// `GET /extended/v1/tx/{txid}`.
    pub async fn status(&self, txid: &Txid) -> Result<TxStatus> {
        let Some(answer) = self
            .get_json::<Value>(&format!("/extended/v1/tx/{txid}"))
            .await?
        else {
            return Ok(TxStatus::Unknown);
        };
        let status = answer["tx_status"].as_str().unwrap_or_default();
        Ok(match status {
            "pending" => TxStatus::Pending,
            "success" => TxStatus::Success {
                block_height: answer["block_height"].as_u64().unwrap_or_default(),
            },
            s if s.starts_with("abort") => TxStatus::Aborted {
                status: s.to_owned(),
                result: answer["tx_result"]["repr"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            },
            s if s.starts_with("dropped") => TxStatus::Dropped {
                status: s.to_owned(),
            },
            other => {
                return Err(Error::transport(
                    "GET /extended/v1/tx",
                    format!("unknown tx_status {other:?}"),
                ));
            }
        })
    }

    /// The account's nonces: `/extended/v1/address/{principal}/nonces`, or `/v2/accounts`
    /// where the extended API is missing.
    pub async fn nonces(&self, principal: &str) -> Result<Nonces> {
        if let Some(nonces) = self
            .get_json::<NoncesJson>(&format!("/extended/v1/address/{principal}/nonces"))
            .await?
        {
            let executed_next = nonces.last_executed_tx_nonce.map_or(0, |n| n + 1);
            return Ok(Nonces {
                executed_next,
                possible_next: nonces.possible_next_nonce.max(executed_next),
            });
        }
        let account = self.account(principal).await?;
        Ok(Nonces {
            executed_next: account.nonce,
            possible_next: account.nonce,
        })
    }

    /// The account's STX balance, in µSTX.
    pub async fn stx_balance(&self, principal: &str) -> Result<u128> {
        let account = self.account(principal).await?;
        let digits = account.balance.trim_start_matches("0x");
        u128::from_str_radix(digits, 16)
            .map_err(|e| Error::transport("GET /v2/accounts: balance", e))
    }

    async fn account(&self, principal: &str) -> Result<AccountJson> {
        self.get_json(&format!("/v2/accounts/{principal}?proof=0"))
            .await?
            .ok_or_else(|| Error::transport("GET /v2/accounts", "not found"))
    }

    /// The fee rate for a transfer, in µSTX per byte (`/v2/fees/transfer`).
    pub async fn fee_rate(&self) -> Result<u64> {
        self.get_json::<u64>("/v2/fees/transfer")
            .await?
            .ok_or_else(|| Error::transport("GET /v2/fees/transfer", "not found"))
    }
}

fn parse_txid(text: &str) -> Option<Txid> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes: [u8; 32] = hex::decode(digits).ok()?.try_into().ok()?;
    Some(Txid(bytes))
}

fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}
