//! Settlement of a Permit2 payment: the payer's sponsored approval first when it carries one
//! and still needs it, then the proxy's `settle` sent, its receipt read for the token's
//! `Transfer`; and, for one not mined in time, found out later.

use alloy::primitives::{B256, TxHash, U256};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolEvent as _;
use coinslot_core::{ErrorReason, Network, Refusal, Result, SettleResponse, TokenAmount};

use super::erc20_approval;
use super::types::{Permit2Payload, Witness};
use super::verify::{Allowance, Signed, diagnose};
use crate::chain::{ChainFailure, EvmChain};
use crate::contracts::IErc20;
use crate::erc6492;
use crate::signature::PayerSignature;

/// Sends the proxy's `settle` of `amount` and waits for it: from the witness's facilitator
/// when the proxy checks its caller (`upto`), else from the next key; an ERC-6492 wallet is
/// deployed first. `failed` is the scheme's reason for a transaction mined and failed.
pub(crate) async fn send<W: Witness>(
    chain: &EvmChain,
    signed: &Signed<W>,
    amount: U256,
    network: Network,
    failed: ErrorReason,
) -> Result<SettleResponse> {
    let payload = &signed.payload;
    let a = &payload.permit2_authorization;
    let payer = a.from.to_checksum(None);
    if let PayerSignature::Counterfactual(wrapped) = &signed.signature
        && let Err(message) = erc6492::deploy(chain, a.from, wrapped).await?
    {
        return Ok(SettleResponse::failure(
            ErrorReason::SmartWalletDeploymentFailed,
            network,
            Some(payer),
        )
        .with_message(message));
    }
    if let Some(approval) = signed.pending_approval(chain, amount).await?
        && let Err(refusal) = erc20_approval::submit(chain, a.from, approval).await?
    {
        return Ok(refusal.into_settle(network, Some(payer)));
    }
    let calldata = signed.calldata(amount);
    let gas = chain.gas_caps().transfer;
    let sent = match a.witness.facilitator() {
        Some(sender) => match chain.send_as(sender, W::PROXY, calldata, gas).await {
            Some(sent) => sent,
            None => {
                return Ok(SettleResponse::failure(
                    ErrorReason::UptoFacilitatorMismatch,
                    network,
                    Some(payer),
                )
                .with_message(format!("{sender} is not a key of this facilitator")));
            }
        },
        None => chain.send(W::PROXY, calldata, gas).await,
    };
    let sent = match sent {
        Ok(sent) => sent,
        Err(ChainFailure::Node(error)) => return Err(error),
        Err(failure @ ChainFailure::GasPriceAboveCap { .. }) => {
            return Err(coinslot_core::Error::Chain {
                message: format!("settlement not sent: {failure}"),
                source: None,
            });
        }
        Err(ChainFailure::Execution(message)) => {
            // Nothing was sent: say why from the state the transfer depends on.
            let refusal = diagnose(chain, payload, amount, Allowance::Required).await?;
            return Ok(refusal
                .unwrap_or(Refusal {
                    reason: ErrorReason::Permit2SimulationFailed,
                    message,
                })
                .into_settle(network, Some(payer)));
        }
    };
    let hash = sent.hash;
    Ok(match chain.wait_for_receipt(sent).await {
        Ok(Some(receipt)) => outcome(&receipt, payload, amount, network, failed),
        Ok(None) => pending(hash, network, payer, amount, "not mined in time"),
        Err(error) => pending(hash, network, payer, amount, &error.to_string()),
    })
}

/// What a mined settlement means: success when the token moved `amount` from the payer to the
/// payee in it.
fn outcome<W: Witness>(
    receipt: &TransactionReceipt,
    payload: &Permit2Payload<W>,
    amount: U256,
    network: Network,
    failed: ErrorReason,
) -> SettleResponse {
    let a = &payload.permit2_authorization;
    let payer = a.from.to_checksum(None);
    let hash = receipt.transaction_hash.to_string();
    let moved = receipt.inner.logs().iter().any(|log| {
        log.address() == a.permitted.token
            && IErc20::Transfer::decode_log(&log.inner).is_ok_and(|event| {
                event.from == a.from && event.to == a.witness.to() && event.value == amount
            })
    });
    let mut response = if receipt.status() && moved {
        SettleResponse::success(hash, network, payer)
    } else {
        let reason = if receipt.status() {
            ErrorReason::InvalidExactEvmTransferEventMismatch
        } else {
            failed
        };
        let mut response = SettleResponse::failure(reason, network, Some(payer));
        response.transaction = Some(hash);
        response
    };
    response.amount = Some(TokenAmount::from(amount));
    response
}

/// The answer for a transaction sent but not yet known to be mined.
fn pending(
    hash: TxHash,
    network: Network,
    payer: String,
    amount: U256,
    why: &str,
) -> SettleResponse {
    let mut response =
        SettleResponse::failure(ErrorReason::SettlementPending, network, Some(payer)).with_message(
            format!(
                "the settlement was sent; its outcome is not known yet ({why}): settle again for it"
            ),
        );
    response.transaction = Some(hash.to_string());
    response.amount = Some(TokenAmount::from(amount));
    response
}

/// Looks again at a settlement reported pending: mined (its outcome), or past the permit's
/// deadline and never mined (a final failure), or still pending.
pub(crate) async fn confirm<W: Witness>(
    chain: &EvmChain,
    payload: &Permit2Payload<W>,
    pending_answer: &SettleResponse,
    failed: ErrorReason,
    now: u64,
) -> Result<SettleResponse> {
    let Ok(sent) = pending_answer.transaction().parse::<B256>() else {
        return Ok(pending_answer.clone());
    };
    let amount = pending_answer
        .amount
        .map_or(payload.permit2_authorization.permitted.amount, |a| {
            a.as_u256()
        });
    let network = pending_answer.network.clone();
    if let Some(receipt) = chain.receipt(sent).await? {
        return Ok(outcome(&receipt, payload, amount, network, failed));
    }
    if payload.permit2_authorization.deadline < U256::from(now) {
        // Past its deadline Permit2 refuses the permit: it can never land now.
        let mut response = SettleResponse::failure(
            ErrorReason::Permit2DeadlineExpired,
            network,
            Some(payload.permit2_authorization.from.to_checksum(None)),
        )
        .with_message("the settlement was never mined and the permit has expired");
        response.transaction = Some(sent.to_string());
        return Ok(response);
    }
    Ok(pending_answer.clone())
}
