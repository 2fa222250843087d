//! What a facilitator does with a payer's own account when it sponsors the payer's gas: reads
//! its balance and nonce, sends it the gas money, and broadcasts a transaction the payer
//! signed.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, Bytes, TxHash, U256};
use alloy::providers::Provider;
use coinslot_core::{Error, Result};

use super::{ChainFailure, EvmChain, Sent};

/// The most gas a plain transfer of gas money may use: a transfer to a key's account takes
/// 21,000; an account with code (EIP-7702) that spends more on receiving is not funded.
const FUNDING_GAS_CAP: u64 = 50_000;

impl EvmChain {
    /// The ether `account` holds, in wei.
    pub(crate) async fn balance(&self, account: Address) -> Result<U256> {
        self.provider
            .get_balance(account)
            .await
            .map_err(|e| Error::chain("eth_getBalance failed", e))
    }

    /// The nonce `account`'s next transaction must carry, counting those pending.
    pub(crate) async fn next_nonce(&self, account: Address) -> Result<u64> {
        self.provider
            .get_transaction_count(account)
            .pending()
            .await
            .map_err(|e| Error::chain("eth_getTransactionCount failed", e))
    }

    /// The latest block's base fee, in wei per gas (0 on a chain without EIP-1559).
    pub(crate) async fn base_fee(&self) -> Result<u128> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| Error::chain("eth_getBlockByNumber failed", e))?;
        Ok(block
            .and_then(|block| block.header.base_fee_per_gas)
            .map_or(0, u128::from))
    }

    /// The most a payer's own transaction may bid per gas for the facilitator to fund it: the
    /// operator's cap when one is set, else twice what the facilitator would bid now.
    pub(crate) async fn sponsorable_fee(&self) -> Result<u128, ChainFailure> {
        if let Some(cap) = self.max_fee_per_gas {
            return Ok(cap);
        }
        let (max_fee, _) = self.fees().await?;
        Ok(max_fee.saturating_mul(2))
    }

    /// Sends `value` wei to `to` from the next facilitator key.
    pub(crate) async fn fund(&self, to: Address, value: U256) -> Result<Sent, ChainFailure> {
        self.send_value(to, Bytes::new(), value, FUNDING_GAS_CAP)
            .await
    }

    /// Gives the node a transaction someone else signed (`raw`, whose hash is `hash`):
    /// `Ok(Err(why))` when the node refuses it (a refusal of the signer's transaction, not a
    /// failure of the node), unless it refuses it for having it already.
    pub(crate) async fn broadcast(&self, raw: &[u8], hash: TxHash) -> Result<Result<Sent, String>> {
        match self.provider.send_raw_transaction(raw).await {
            Ok(_) => {}
            Err(error) => match error.as_error_resp() {
                Some(_) if self.is_known(hash).await => {}
                Some(refusal) => return Ok(Err(refusal.message.to_string())),
                None => return Err(Error::chain("eth_sendRawTransaction failed", error)),
            },
        }
        Ok(Ok(Sent {
            hash,
            receipt: None,
        }))
    }
}
