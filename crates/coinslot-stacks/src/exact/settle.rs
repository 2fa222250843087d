//! Settling a verified Stacks payment: broadcasting the payer's transaction once per txid and
//! following it to its outcome, or past the time limit (`settlement_pending`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coinslot_core::{ErrorReason, Network, Result, SettleResponse};
use tokio::sync::{Mutex, OnceCell};

use super::facilitator::Delivery;
use super::reason::{StacksReason, for_node_rejection};
use super::verify::Verified;
use crate::node::{Broadcast, StacksNode, TxStatus};
use crate::transaction::Txid;

/// How long a finished settlement is remembered in memory (the facilitator's store keeps it
/// for good).
const REMEMBER: Duration = Duration::from_secs(600);

/// The settlements of one facilitator: the node they go through, when one counts as done, and
/// the ones running or recently finished, by txid.
#[derive(Debug, Clone)]
pub(super) struct Settlements {
    pub(super) node: StacksNode,
    pub(super) delivery: Delivery,
    pub(super) confirm_timeout: Duration,
    running: Arc<Mutex<HashMap<Txid, Running>>>,
}

#[derive(Debug, Clone)]
struct Running {
    answer: Arc<OnceCell<SettleResponse>>,
    started: Instant,
}

impl Settlements {
    pub(super) fn new(node: StacksNode, delivery: Delivery, confirm_timeout: Duration) -> Self {
        Self {
            node,
            delivery,
            confirm_timeout,
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Whether this facilitator sent (or is sending) `txid`.
    pub(super) async fn sent(&self, txid: &Txid) -> bool {
        self.running.lock().await.contains_key(txid)
    }

    /// Broadcasts and follows one verified payment.
    async fn broadcast_and_follow(
        &self,
        verified: &Verified,
        network: Network,
    ) -> Result<SettleResponse> {
        let payer = verified.payer.to_string();
        let txid = verified.txid;
        match self.node.broadcast(&verified.raw).await {
            Ok(Broadcast::Accepted(_)) => {}
            Ok(Broadcast::Rejected {
                reason: node_reason,
                data,
            }) => {
                return Ok(SettleResponse::failure(
                    for_node_rejection(&node_reason),
                    network,
                    Some(payer),
                )
                .with_message(format!("the node refused {txid}: {node_reason} {data}")));
            }
            Err(error) => {
                // The node may have taken it: the txid is known, so say pending, not failed.
                return Ok(pending(
                    txid,
                    network,
                    payer,
                    &format!("broadcast unanswered: {error}"),
                ));
            }
        }
        if self.delivery == Delivery::Mempool {
            return Ok(SettleResponse::success(txid.to_string(), network, payer));
        }
        self.follow(txid, network, payer).await
    }

    /// Polls the transaction until it is final or the time limit passes.
    async fn follow(&self, txid: Txid, network: Network, payer: String) -> Result<SettleResponse> {
        let deadline = Instant::now() + self.confirm_timeout;
        let mut delay = Duration::from_millis(200);
        loop {
            let status = match self.node.status(&txid).await {
                Ok(status) => status,
                // A node that fails a status read is asked again until the time limit.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(delay).await;
                    delay = next_delay(delay);
                    continue;
                }
                Err(error) => {
                    return Ok(pending(
                        txid,
                        network,
                        payer,
                        &format!("status unknown: {error}"),
                    ));
                }
            };
            if let Some(answer) = final_answer(&status, txid, &network, &payer) {
                return Ok(answer);
            }
            if Instant::now() >= deadline {
                return Ok(pending(
                    txid,
                    network,
                    payer,
                    &format!(
                        "not confirmed within {:?} ({status:?})",
                        self.confirm_timeout
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = next_delay(delay);
        }
    }

    /// The settlement of `verified`, run once per txid at a time: the first caller broadcasts,
    /// the others wait for its answer. A settlement that ended pending is followed again, never
    /// broadcast again.
    pub(super) async fn settle_once(
        &self,
        verified: Verified,
        network: Network,
    ) -> Result<SettleResponse> {
        let (cell, sent_before) = {
            let mut running = self.running.lock().await;
            running.retain(|_, r| r.answer.get().is_none() || r.started.elapsed() < REMEMBER);
            let fresh = || Running {
                answer: Arc::new(OnceCell::new()),
                started: Instant::now(),
            };
            match running.get(&verified.txid) {
                Some(r) if r.answer.get().is_some_and(is_pending) => {
                    let again = fresh();
                    running.insert(verified.txid, again.clone());
                    (again.answer, true)
                }
                Some(r) => (r.answer.clone(), true),
                None => {
                    let first = fresh();
                    running.insert(verified.txid, first.clone());
                    (first.answer, false)
                }
            }
        };
        let answer = cell
            .get_or_try_init(|| async {
                if sent_before {
                    self.follow(verified.txid, network, verified.payer.to_string())
                        .await
                } else {
                    self.broadcast_and_follow(&verified, network).await
                }
            })
            .await?;
        Ok(answer.clone())
    }
}

fn next_delay(delay: Duration) -> Duration {
    (delay * 3 / 2).min(Duration::from_secs(5))
}

fn is_pending(response: &SettleResponse) -> bool {
    response.error_reason == Some(ErrorReason::SettlementPending)
}

pub(super) fn pending(
    txid: Txid,
    network: Network,
    payer: String,
    message: &str,
) -> SettleResponse {
    let mut response =
        SettleResponse::failure(ErrorReason::SettlementPending, network, Some(payer))
            .with_message(message.to_owned());
    response.transaction = Some(txid.to_string());
    response
}

/// The answer a status gives, if it is final.
pub(super) fn final_answer(
    status: &TxStatus,
    txid: Txid,
    network: &Network,
    payer: &str,
) -> Option<SettleResponse> {
    match status {
        TxStatus::Success { .. } => Some(SettleResponse::success(
            txid.to_string(),
            network.clone(),
            payer.to_owned(),
        )),
        TxStatus::Aborted { status, result } => {
            let mut response = SettleResponse::failure(
                StacksReason::TransactionAborted.into(),
                network.clone(),
                Some(payer.to_owned()),
            )
            .with_message(format!("{txid}: {status} {result}"));
            response.transaction = Some(txid.to_string());
            Some(response)
        }
        TxStatus::Pending | TxStatus::Dropped { .. } | TxStatus::Unknown => None,
    }
}
