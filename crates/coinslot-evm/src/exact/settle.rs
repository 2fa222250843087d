//! Settlement of `exact` EIP-3009 payments: verify again, send `transferWithAuthorization`,
//! wait for the receipt; and, for a settlement that was not mined in time, find out later what
//! became of it.

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, Bytes, TxHash, U256};
use alloy::rpc::types::{Filter, TransactionReceipt};
use alloy::sol_types::{SolCall as _, SolEvent as _};
use coinslot_core::{ErrorReason, Network, Result, SettleResponse};

use super::simulate::{check_state, reason_for_revert};
use super::types::Authorization;
use super::verify::{Verified, transfer_calldata};
use crate::chain::{ChainFailure, EvmChain};
use crate::contracts::IEip3009Token;
use crate::erc6492;
use crate::signature::PayerSignature;

/// How far back [`find_transfer`] looks for the `AuthorizationUsed` event of a payment sent
/// before: settlements are confirmed within minutes, and nodes cap `eth_getLogs` ranges.
const LOOKBACK_BLOCKS: u64 = 5_000;

/// Sends a verified payment and waits for it.
pub(super) async fn send(
    chain: &EvmChain,
    verified: &Verified,
    network: Network,
) -> Result<SettleResponse> {
    let payer = verified.payload.authorization.from.to_checksum(None);
    if let PayerSignature::Counterfactual(wrapped) = &verified.signature
        && let Err(message) =
            erc6492::deploy(chain, verified.payload.authorization.from, wrapped).await?
    {
        return Ok(SettleResponse::failure(
            ErrorReason::SmartWalletDeploymentFailed,
            network,
            Some(payer),
        )
        .with_message(message));
    }

    let input = transfer_calldata(verified);
    let gas = chain.gas_caps().transfer;
    let sent = match chain.send(verified.asset, input.clone(), gas).await {
        Ok(sent) => sent,
        Err(ChainFailure::Node(error)) => return Err(error),
        Err(failure @ ChainFailure::GasPriceAboveCap { .. }) => {
            return Err(coinslot_core::Error::Chain {
                message: format!("settlement not sent: {}", failure),
                source: None,
            });
        }
        Err(ChainFailure::Execution(message)) => {
            // Nothing was sent. Say why from the state the transfer depends on (the nonce
            // used, the balance short), as verify would; else from the token's revert.
            if let Err(refusal) = check_state(chain, verified).await? {
                return Ok(refusal.into_settle(network, Some(payer)));
            }
            let reason = reason_for_revert(
                message.as_deref(),
                ErrorReason::InvalidExactEvmTransactionFailed,
            );
            let response = SettleResponse::failure(reason, network, Some(payer));
            return Ok(match message {
                Some(message) => response.with_message(message),
                None => response,
            });
        }
    };
    let hash = sent.hash;
    // From here the transaction is out: a failing node can delay the answer, never turn it
    // into an error that would let the payment be tried again as if nothing had been sent.
    let answer = async {
        match chain.wait_for_receipt(sent).await? {
            Some(receipt) => {
                outcome_of(
                    chain,
                    verified.asset,
                    &verified.payload.authorization,
                    &receipt,
                    Some(&input),
                    network.clone(),
                )
                .await
            }
            None => {
                lost_or_late(
                    chain,
                    verified.asset,
                    &verified.payload.authorization,
                    hash,
                    network.clone(),
                )
                .await
            }
        }
    };
    Ok(answer.await.unwrap_or_else(|error| {
        pending(
            hash,
            network,
            &verified.payload.authorization,
            &format!("the settlement was sent; its outcome is not known yet: {error}"),
        )
    }))
}

/// The answer for a transaction sent but not yet known to be mined.
fn pending(
    sent: TxHash,
    network: Network,
    authorization: &Authorization,
    message: &str,
) -> SettleResponse {
    let mut response = SettleResponse::failure(
        ErrorReason::SettlementPending,
        network,
        Some(authorization.from.to_checksum(None)),
    )
    .with_message(message);
    response.transaction = Some(sent.to_string());
    response
}

/// What a mined settlement means.
async fn outcome_of(
    chain: &EvmChain,
    asset: Address,
    authorization: &Authorization,
    receipt: &TransactionReceipt,
    input: Option<&Bytes>,
    network: Network,
) -> Result<SettleResponse> {
    let payer = authorization.from.to_checksum(None);
    let hash = receipt.transaction_hash.to_string();
    if !receipt.status() {
        // Someone else may have sent the same authorization first (a front-runner, the payer
        // themself): then the money went to `to` all the same, and that is the settlement.
        if let Some(other) = used_by(chain, asset, authorization).await?
            && other.status()
            && moved(&other, asset, authorization)
        {
            return Ok(settled(
                other.transaction_hash.to_string(),
                network,
                authorization,
            ));
        }
        let message = match input {
            Some(input) => revert_reason(chain, asset, input, receipt).await?,
            None => None,
        };
        let mut response = SettleResponse::failure(
            reason_for_revert(
                message.as_deref(),
                ErrorReason::InvalidExactEvmTransactionFailed,
            ),
            network,
            Some(payer),
        );
        response.transaction = Some(hash);
        return Ok(match message {
            Some(message) => response.with_message(message),
            None => response,
        });
    }
    if !moved(receipt, asset, authorization) {
        let mut response = SettleResponse::failure(
            ErrorReason::InvalidExactEvmTransferEventMismatch,
            network,
            Some(payer),
        );
        response.transaction = Some(hash);
        return Ok(response);
    }
    Ok(settled(hash, network, authorization))
}

/// The answer for an authorization whose transfer happened in transaction `hash`: a success
/// that says the amount moved.
fn settled(hash: String, network: Network, authorization: &Authorization) -> SettleResponse {
    let mut response = SettleResponse::success(hash, network, authorization.from.to_checksum(None));
    response.amount = Some(authorization.value.into());
    response
}

/// Whether the receipt holds the token's `Transfer` of exactly the authorized value.
fn moved(receipt: &TransactionReceipt, asset: Address, authorization: &Authorization) -> bool {
    receipt.inner.logs().iter().any(|log| {
        log.address() == asset
            && IEip3009Token::Transfer::decode_log(&log.inner).is_ok_and(|event| {
                event.from == authorization.from
                    && event.to == authorization.to
                    && event.value == authorization.value
            })
    })
}

/// Why a mined transaction reverted: the call replayed on the state before its block, and if
/// that goes through (something earlier in the same block changed the outcome: a drained
/// balance, a used nonce), on the state after it, which holds that change.
async fn revert_reason(
    chain: &EvmChain,
    asset: Address,
    input: &Bytes,
    receipt: &TransactionReceipt,
) -> Result<Option<String>> {
    let Some(block) = receipt.block_number else {
        return Ok(None);
    };
    for at in [block.saturating_sub(1), block] {
        match chain
            .call_at(
                asset,
                input.clone(),
                chain.gas_caps().transfer,
                BlockId::number(at),
            )
            .await
        {
            Err(ChainFailure::Execution(message)) => return Ok(message),
            Err(ChainFailure::Node(error)) => return Err(error),
            Ok(_) | Err(ChainFailure::GasPriceAboveCap { .. }) => {}
        }
    }
    Ok(None)
}

/// A settlement whose receipt did not come in time: if the authorization has been used, the
/// money moved (it can only go to `to`, for `value`); find the transaction that did it.
/// Otherwise it is still pending, and says so with its hash.
async fn lost_or_late(
    chain: &EvmChain,
    asset: Address,
    authorization: &Authorization,
    sent: TxHash,
    network: Network,
) -> Result<SettleResponse> {
    if let Some(receipt) = find_transfer(chain, asset, authorization, sent).await? {
        return outcome_of(chain, asset, authorization, &receipt, None, network).await;
    }
    Ok(pending(
        sent,
        network,
        authorization,
        "the settlement was sent but not mined in time; settle again for its outcome",
    ))
}

/// The receipt of `sent` if it is mined, else of whatever transaction used the authorization.
async fn find_transfer(
    chain: &EvmChain,
    asset: Address,
    authorization: &Authorization,
    sent: TxHash,
) -> Result<Option<TransactionReceipt>> {
    if let Some(receipt) = chain.receipt(sent).await? {
        return Ok(Some(receipt));
    }
    used_by(chain, asset, authorization).await
}

/// The receipt of the transaction the token's `AuthorizationUsed` event names, if the
/// authorization has been used.
async fn used_by(
    chain: &EvmChain,
    asset: Address,
    authorization: &Authorization,
) -> Result<Option<TransactionReceipt>> {
    let used = chain
        .call(
            asset,
            IEip3009Token::authorizationStateCall {
                authorizer: authorization.from,
                nonce: authorization.nonce,
            }
            .abi_encode()
            .into(),
            chain.gas_caps().read,
        )
        .await;
    let used = match used {
        Ok(output) => {
            IEip3009Token::authorizationStateCall::abi_decode_returns(&output).unwrap_or(false)
        }
        Err(ChainFailure::Node(error)) => return Err(error),
        Err(_) => false,
    };
    if !used {
        return Ok(None);
    }
    let latest = chain.block_number().await?;
    let filter = Filter::new()
        .address(asset)
        .event_signature(IEip3009Token::AuthorizationUsed::SIGNATURE_HASH)
        .topic1(authorization.from.into_word())
        .topic2(authorization.nonce)
        .from_block(latest.saturating_sub(LOOKBACK_BLOCKS))
        .to_block(latest);
    for log in chain.logs(&filter).await? {
        if let Some(hash) = log.transaction_hash
            && let Some(receipt) = chain.receipt(hash).await?
        {
            return Ok(Some(receipt));
        }
    }
    Ok(None)
}

/// Looks again at a settlement reported pending: mined, used by another transaction, expired
/// unmined (final failure), or still pending.
pub(super) async fn confirm(
    chain: &EvmChain,
    asset: Address,
    authorization: &Authorization,
    pending: &SettleResponse,
    now: u64,
) -> Result<SettleResponse> {
    let Ok(sent) = pending.transaction().parse::<B256>() else {
        return Ok(pending.clone());
    };
    let network = pending.network.clone();
    if let Some(receipt) = find_transfer(chain, asset, authorization, sent).await? {
        return outcome_of(chain, asset, authorization, &receipt, None, network).await;
    }
    if authorization.valid_before <= U256::from(now) {
        // Past validBefore the token refuses the authorization: it can never land now.
        let mut response = SettleResponse::failure(
            ErrorReason::InvalidExactEvmPayloadAuthorizationValidBefore,
            network,
            Some(authorization.from.to_checksum(None)),
        )
        .with_message("the settlement was never mined and the authorization has expired");
        response.transaction = Some(sent.to_string());
        return Ok(response);
    }
    Ok(pending.clone())
}
