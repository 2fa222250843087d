//! The payer's one-time step before paying through Permit2: letting Permit2 move the token.

use alloy::network::TransactionBuilder as _;
use alloy::primitives::{Address, TxHash, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall as _;
use coinslot_core::{Error, Result};

use super::PERMIT2;
use crate::contracts::IErc20;

/// How much of `token` Permit2 may move for `owner`: a Permit2 payment of more is answered
/// `permit2_allowance_required` (HTTP 412).
pub async fn allowance<P: Provider>(provider: &P, token: Address, owner: Address) -> Result<U256> {
    let call = IErc20::allowanceCall {
        owner,
        spender: PERMIT2,
    };
    let request = TransactionRequest::default()
        .with_to(token)
        .with_input(call.abi_encode());
    let output = provider
        .call(request)
        .await
        .map_err(|e| Error::chain("allowance", e))?;
    IErc20::allowanceCall::abi_decode_returns(&output)
        .map_err(|e| Error::chain("allowance answered garbage", e))
}

/// Lets Permit2 move `amount` of `token` for the provider's own account (its wallet signs and
/// pays the gas), and waits for the transaction to be mined: the approval an agent that holds
/// gas makes once per token before paying through Permit2. `U256::MAX` approves for good.
pub async fn approve<P: Provider>(provider: &P, token: Address, amount: U256) -> Result<TxHash> {
    let call = IErc20::approveCall {
        spender: PERMIT2,
        amount,
    };
    let request = TransactionRequest::default()
        .with_to(token)
        .with_input(call.abi_encode());
    let receipt = provider
        .send_transaction(request)
        .await
        .map_err(|e| Error::chain("approve", e))?
        .get_receipt()
        .await
        .map_err(|e| Error::chain("approve's receipt", e))?;
    if !receipt.status() {
        return Err(Error::Chain {
            message: format!(
                "approve of Permit2 for {token} failed in {}",
                receipt.transaction_hash
            ),
            source: None,
        });
    }
    Ok(receipt.transaction_hash)
}
