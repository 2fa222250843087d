//! What sending costs: the gas caps per kind of call, simulation under learned gas limits,
//! and EIP-1559 fees under the operator's cap.

use std::future::IntoFuture as _;
use std::time::{Duration, Instant};

use alloy::eips::BlockNumberOrTag;
use alloy::network::TransactionBuilder as _;
use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use coinslot_core::Error;

use super::{ChainFailure, EvmChain};

/// Headroom over the node's gas estimate, in percent: state can move between the estimate and
/// inclusion (a warm slot going cold), and an out-of-gas revert costs more than the margin.
const GAS_HEADROOM_PERCENT: u64 = 20;
/// The gas limit later calls of the same function get, as a multiple of its first estimate.
/// A limit is a cap, not a price (the fee is paid on the gas used), so a wide one costs
/// nothing, and it covers what moves the figure between calls: storage slots set from zero
/// (a payee's first balance) or found warm.
const LEARNED_GAS_FACTOR: u64 = 2;
/// How long a fee estimate serves: well under a block on the chains x402 settles on, so a
/// burst of settlements asks once while a change of base fee is seen within the second.
const FEES_FRESH_FOR: Duration = Duration::from_secs(1);

/// The first four bytes of a call: the function it calls.
pub(super) fn selector(input: &[u8]) -> [u8; 4] {
    let mut selector = [0u8; 4];
    let n = input.len().min(4);
    selector[..n].copy_from_slice(&input[..n]);
    selector
}

/// The most gas the node may spend on each kind of call a facilitator makes for a payment,
/// and so the most a hostile payer (a contract wallet whose signature check burns all its
/// gas) or a hostile asset can make the node work per request. Each is set for what the call
/// checks, with room for the costliest honest case (a passkey wallet's signature check without
/// a P-256 precompile); a call that needs more fails as an out-of-gas refusal of the payment.
///
/// ```
/// use coinslot_evm::GasCaps;
///
/// // Wallets with costlier signature checks: their transfers check the signature too.
/// let mut caps = GasCaps::default();
/// caps.signature = 1_000_000;
/// caps.transfer = 1_200_000;
/// assert!(caps.transfer > caps.signature);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GasCaps {
    /// A read of a token's state: balance, nonce state, EIP-712 name and version.
    pub read: u64,
    /// A contract wallet's signature check (ERC-1271 `isValidSignature`).
    pub signature: u64,
    /// A token transfer: its simulation, its gas estimate and its transaction. It includes
    /// the token's own check of a contract wallet's signature, so it is set above
    /// [`signature`](Self::signature).
    pub transfer: u64,
    /// Deploying an ERC-6492 wallet through its factory. A check or a transfer of a wallet
    /// still to be deployed is simulated under this plus its own cap.
    pub deployment: u64,
}

impl Default for GasCaps {
    fn default() -> Self {
        Self {
            read: 100_000,
            signature: 500_000,
            transfer: 700_000,
            deployment: 1_500_000,
        }
    }
}

impl EvmChain {
    /// Simulates `request` and answers the gas limit to send it with. The first call of a
    /// function on a contract is estimated (the estimate is the simulation); later ones run
    /// once with `eth_call` under the learned limit, so a limit too low fails here, not on
    /// chain. A learned limit that fails is forgotten and the call estimated again, which
    /// tells a revert from a limit too low.
    pub(super) async fn simulate(
        &self,
        request: TransactionRequest,
        function: (Address, [u8; 4]),
        gas_cap: u64,
    ) -> Result<u64, ChainFailure> {
        let learned = self
            .gas_limits
            .lock()
            .ok()
            .and_then(|limits| limits.get(&function).copied())
            .map(|limit| limit.min(gas_cap));
        if let Some(limit) = learned {
            let call = request.clone().with_gas_limit(limit);
            match self.provider.call(call).await {
                Ok(_) => return Ok(limit),
                Err(_) => {
                    if let Ok(mut limits) = self.gas_limits.lock() {
                        limits.remove(&function);
                    }
                }
            }
        }
        // The cap bounds the node's search too: a call that needs more fails as out of gas.
        let gas = self
            .provider
            .estimate_gas(request.with_gas_limit(gas_cap))
            .into_future()
            .await
            .map_err(|e| ChainFailure::from_rpc("eth_estimateGas", e))?;
        if let Ok(mut limits) = self.gas_limits.lock() {
            limits.insert(function, gas.saturating_mul(LEARNED_GAS_FACTOR));
        }
        Ok(gas
            .saturating_add(gas * GAS_HEADROOM_PERCENT / 100)
            .min(gas_cap))
    }

    /// EIP-1559 fees, held under the cap; one estimate serves for [`FEES_FRESH_FOR`].
    pub(super) async fn fees(&self) -> Result<(u128, u128), ChainFailure> {
        let cached = self.recent_fees.lock().ok().and_then(|recent| *recent);
        if let Some((at, fees)) = cached
            && at.elapsed() < FEES_FRESH_FOR
        {
            return Ok(fees);
        }
        let fees = self.estimate_fees().await?;
        if let Ok(mut recent) = self.recent_fees.lock() {
            *recent = Some((Instant::now(), fees));
        }
        Ok(fees)
    }

    async fn estimate_fees(&self) -> Result<(u128, u128), ChainFailure> {
        let estimate = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| ChainFailure::Node(Error::chain("fee estimation failed", e)))?;
        let Some(cap) = self.max_fee_per_gas else {
            return Ok((estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas));
        };
        if estimate.max_fee_per_gas <= cap {
            return Ok((estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas));
        }
        // The estimate leaves room for rising base fees; the cap may still be enough today.
        let base_fee = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ChainFailure::Node(Error::chain("eth_getBlockByNumber failed", e)))?
            .and_then(|block| block.header.base_fee_per_gas)
            .map_or(0, u128::from);
        if base_fee > cap {
            return Err(ChainFailure::GasPriceAboveCap { base_fee, cap });
        }
        Ok((cap, estimate.max_priority_fee_per_gas.min(cap - base_fee)))
    }
}
