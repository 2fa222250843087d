//! Waiting for a sent transaction: the receipt the send answered, or one polled for.

use std::time::Duration;

use alloy::primitives::TxHash;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use coinslot_core::{Error, Result};

use super::{EvmChain, Sent};

/// How often it asks for the receipt meanwhile, at most: the first asks come sooner
/// ([`FIRST_RECEIPT_POLL`], doubling), as a local or fast chain mines within milliseconds.
const RECEIPT_POLL: Duration = Duration::from_millis(100);
const FIRST_RECEIPT_POLL: Duration = Duration::from_millis(2);
impl EvmChain {
    /// The receipt of `hash`, if it is mined.
    pub(crate) async fn receipt(&self, hash: TxHash) -> Result<Option<TransactionReceipt>> {
        self.provider
            .get_transaction_receipt(hash)
            .await
            .map_err(|e| Error::chain("eth_getTransactionReceipt failed", e))
    }

    /// The receipt of a sent transaction: the one its send answered, else polled for up to
    /// the receipt timeout; `None` if it is not mined by then.
    pub(crate) async fn wait_for_receipt(&self, sent: Sent) -> Result<Option<TransactionReceipt>> {
        let Sent { hash, receipt } = sent;
        if receipt.is_some() {
            return Ok(receipt);
        }
        let deadline = tokio::time::Instant::now() + self.receipt_timeout;
        let mut pause = FIRST_RECEIPT_POLL;
        loop {
            if let Some(receipt) = self.receipt(hash).await? {
                return Ok(Some(receipt));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(self.receipt_timeout)).await;
            pause = (pause * 2).min(RECEIPT_POLL);
        }
    }
}
