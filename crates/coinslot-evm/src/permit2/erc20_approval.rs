//! The `erc20ApprovalGasSponsoring` extension: a payer who has not approved Permit2, and holds
//! no ether, signs the ordinary `approve(Permit2, max)` transaction of any ERC-20 (one without
//! EIP-2612 too); the facilitator sends it the gas money, broadcasts that transaction, then
//! settles.
//!
//! A 402 offers the extension in its `extensions` ([`erc20_approval_declaration`]); the payer
//! answers with `extensions.erc20ApprovalGasSponsoring.info` = `{from, asset, spender (Permit2),
//! amount, signedTransaction, version}`, the transaction as EIP-2718 bytes in hex.
//!
//! The facilitator pays for what a payer signed, so it takes nothing on trust: the transaction
//! must be the payer's own `approve` of at least the permitted amount to Permit2 on this token
//! and chain, send no ether, use at most [`MAX_APPROVAL_GAS`], bid no more per gas than the
//! facilitator would fund, and carry the payer's next nonce. It is funded and broadcast only
//! when the payer's allowance is still short at settlement, so a payment settled again after
//! its approval landed sends nothing twice.

use std::future::IntoFuture as _;

use alloy::consensus::{SignableTransaction as _, Transaction as _, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::{Decodable2718 as _, Encodable2718 as _};
use alloy::primitives::{Address, Bytes, TxHash, TxKind, U256};
use alloy::providers::{DynProvider, Provider as _};
use alloy::signers::Signer;
use alloy::sol_types::SolCall as _;
use coinslot_core::{Error, ErrorReason, JsonObject, Refusal, Result};
use serde::{Deserialize, Serialize};

use super::PERMIT2;
use super::extension::{SponsoringInfo, info_of};
use crate::chain::{ChainFailure, Checked, EvmChain};
use crate::contracts::IErc20;

/// The extension's key, in `PaymentRequired.extensions`, `PaymentPayload.extensions` and
/// `/supported`.
pub const ERC20_APPROVAL_GAS_SPONSORING: &str = "erc20ApprovalGasSponsoring";

/// The version of the extension's `info` this crate writes and reads.
const VERSION: &str = "1";

/// The most gas a payer's approval may be given: an `approve` costs under 50,000; the reference
/// client signs for 70,000. The facilitator funds the gas limit times the fee bid.
pub const MAX_APPROVAL_GAS: u64 = 100_000;

/// The gas limit this crate's client signs its approval with.
const APPROVAL_GAS: u64 = 70_000;

/// What `extensions.erc20ApprovalGasSponsoring.info` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Erc20ApprovalInfo {
    /// The payer (the transaction's signer).
    #[serde(with = "crate::wire::checksummed")]
    pub from: Address,
    /// The token.
    #[serde(with = "crate::wire::checksummed")]
    pub asset: Address,
    /// Permit2.
    #[serde(with = "crate::wire::checksummed")]
    pub spender: Address,
    /// The allowance the transaction grants (`U256::MAX` from the reference client).
    #[serde(with = "crate::wire::decimal")]
    pub amount: U256,
    /// The signed transaction, EIP-2718 encoded.
    pub signed_transaction: Bytes,
    /// The extension's version, `"1"`.
    pub version: String,
}

impl SponsoringInfo for Erc20ApprovalInfo {
    const KEY: &'static str = ERC20_APPROVAL_GAS_SPONSORING;
    const REASONS: [ErrorReason; 4] = [
        ErrorReason::InvalidErc20ApprovalExtensionFormat,
        ErrorReason::Erc20ApprovalFromMismatch,
        ErrorReason::Erc20ApprovalAssetMismatch,
        ErrorReason::Erc20ApprovalSpenderNotPermit2,
    ];

    fn parties(&self) -> [Address; 3] {
        [self.from, self.asset, self.spender]
    }
}

/// A payer's approval of Permit2 whose form holds: what the facilitator checks against the
/// chain, funds and broadcasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SponsoredApproval {
    /// The signed transaction, as the node takes it.
    pub(crate) raw: Bytes,
    /// Its hash.
    pub(crate) hash: TxHash,
    /// The token it calls.
    pub(crate) token: Address,
    /// Its `approve` calldata.
    pub(crate) input: Bytes,
    /// Its nonce, which must be the payer's next.
    pub(crate) nonce: u64,
    /// Its gas limit.
    pub(crate) gas_limit: u64,
    /// The most it pays per gas.
    pub(crate) max_fee_per_gas: u128,
}

impl SponsoredApproval {
    /// The most ether it can cost its sender: what the node wants the sender to hold.
    fn cost(&self) -> U256 {
        U256::from(self.gas_limit) * U256::from(self.max_fee_per_gas)
    }
}

/// What a 402 declares when its facilitator sponsors approval transactions: the extension's
/// `{info, schema}`.
pub fn erc20_approval_declaration() -> JsonObject {
    let address = serde_json::json!({"type": "string", "pattern": "^0x[a-fA-F0-9]{40}$"});
    let declared = serde_json::json!({
        "info": {
            "description": "The payer may sign an approve() of Permit2 without holding gas; \
                            the facilitator funds and broadcasts it before settling.",
            "version": VERSION,
        },
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "from": address, "asset": address, "spender": address,
                "amount": {"type": "string", "pattern": "^[0-9]+$"},
                "signedTransaction": {"type": "string", "pattern": "^0x[a-fA-F0-9]+$"},
                "version": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)*$"},
            },
            "required": ["from", "asset", "spender", "amount", "signedTransaction", "version"],
        },
    });
    JsonObject::from_iter([(ERC20_APPROVAL_GAS_SPONSORING.to_owned(), declared)])
}

/// The payment's approval transaction, checked without the chain: `Ok(None)` when it carries
/// none, a refusal (in the reference's order, then this crate's limits) when it carries one
/// that is not `payer`'s `approve` of at least `permitted` of `token` to Permit2 on `chain_id`.
pub(crate) fn approval_of(
    extensions: Option<&JsonObject>,
    payer: Address,
    token: Address,
    permitted: U256,
    chain_id: u64,
) -> Result<Option<SponsoredApproval>, Refusal> {
    let Some(info) = info_of::<Erc20ApprovalInfo>(extensions, payer, token)? else {
        return Ok(None);
    };
    let format = |why: String| Refusal::with(ErrorReason::InvalidErc20ApprovalExtensionFormat, why);
    let raw = info.signed_transaction;
    let mut rest = raw.as_ref();
    let envelope = match TxEnvelope::decode_2718(&mut rest) {
        Ok(envelope) if rest.is_empty() => envelope,
        Ok(_) => {
            return Err(Refusal::with(
                ErrorReason::Erc20ApprovalTxParseFailed,
                "bytes follow the transaction",
            ));
        }
        Err(e) => {
            return Err(Refusal::with(
                ErrorReason::Erc20ApprovalTxParseFailed,
                e.to_string(),
            ));
        }
    };
    if envelope.is_eip4844() || envelope.is_eip7702() {
        return Err(format(
            "a blob or delegation transaction is not an approval this facilitator funds".into(),
        ));
    }
    if envelope.to() != Some(token) {
        return Err(Refusal::new(ErrorReason::Erc20ApprovalTxWrongTarget));
    }
    let input = envelope.input().clone();
    if !input.starts_with(&IErc20::approveCall::SELECTOR) {
        return Err(Refusal::new(ErrorReason::Erc20ApprovalTxWrongSelector));
    }
    let approve = IErc20::approveCall::abi_decode_validate(&input)
        .map_err(|e| Refusal::with(ErrorReason::Erc20ApprovalTxInvalidCalldata, e.to_string()))?;
    if approve.spender != PERMIT2 {
        return Err(Refusal::new(ErrorReason::Erc20ApprovalTxWrongSpender));
    }
    if envelope.chain_id() != Some(chain_id) {
        return Err(Refusal::with(
            ErrorReason::Erc20ApprovalTxInvalidSignature,
            format!("not signed for chain {chain_id}"),
        ));
    }
    let signature = envelope.signature();
    let signer = if signature.normalize_s().is_some() {
        // A high-s signature: nodes refuse it (EIP-2).
        None
    } else {
        crate::recovery::signer(&envelope.signature_hash(), signature)
    };
    match signer {
        None => return Err(Refusal::new(ErrorReason::Erc20ApprovalTxInvalidSignature)),
        Some(signer) if signer != payer => {
            return Err(Refusal::new(ErrorReason::Erc20ApprovalTxSignerMismatch));
        }
        Some(_) => {}
    }
    if approve.amount < permitted {
        return Err(format(format!(
            "it approves {}, below the permitted {permitted}",
            approve.amount
        )));
    }
    if !envelope.value().is_zero() {
        return Err(format("the approval sends ether".into()));
    }
    if envelope.gas_limit() > MAX_APPROVAL_GAS {
        return Err(format(format!(
            "its gas limit {} is above the {MAX_APPROVAL_GAS} this facilitator funds",
            envelope.gas_limit()
        )));
    }
    Ok(Some(SponsoredApproval {
        hash: *envelope.tx_hash(),
        token,
        input,
        nonce: envelope.nonce(),
        gas_limit: envelope.gas_limit(),
        max_fee_per_gas: envelope.max_fee_per_gas(),
        raw,
    }))
}

/// Whether the chain would take the approval now: it carries `payer`'s next nonce, bids at
/// least the base fee and at most what the facilitator funds, and `approve` runs as the payer.
pub(crate) async fn check_on_chain(
    chain: &EvmChain,
    payer: Address,
    approval: &SponsoredApproval,
) -> Checked<()> {
    let (next_nonce, base_fee, fundable) = futures_util::join!(
        chain.next_nonce(payer),
        chain.base_fee(),
        chain.sponsorable_fee()
    );
    let fundable = match fundable {
        Ok(fee) => fee,
        Err(ChainFailure::GasPriceAboveCap { .. }) => 0,
        Err(ChainFailure::Node(error)) => return Err(error),
        Err(ChainFailure::Execution(message)) => {
            return Err(Error::Chain {
                message: format!("fee estimation failed: {message:?}"),
                source: None,
            });
        }
    };
    let (next_nonce, base_fee) = (next_nonce?, base_fee?);
    let refuse = |reason, why: String| Ok(Err(Refusal::with(reason, why)));
    if approval.nonce != next_nonce {
        return refuse(
            ErrorReason::Erc20ApprovalBroadcastFailed,
            format!(
                "the approval's nonce is {}, the payer's next is {next_nonce}",
                approval.nonce
            ),
        );
    }
    if approval.max_fee_per_gas > fundable {
        return refuse(
            ErrorReason::InvalidErc20ApprovalExtensionFormat,
            format!(
                "the approval bids {} wei per gas, above the {fundable} this facilitator funds",
                approval.max_fee_per_gas
            ),
        );
    }
    if approval.max_fee_per_gas < base_fee {
        return refuse(
            ErrorReason::Erc20ApprovalBroadcastFailed,
            format!(
                "the approval bids {} wei per gas, below the base fee {base_fee}",
                approval.max_fee_per_gas
            ),
        );
    }
    match chain
        .call_from(
            payer,
            approval.token,
            approval.input.clone(),
            approval.gas_limit,
        )
        .await
    {
        Ok(_) => Ok(Ok(())),
        Err(ChainFailure::Node(error)) => Err(error),
        Err(failure) => refuse(ErrorReason::Erc20ApprovalTxFailed, failure.to_string()),
    }
}

/// Gives the payer the ether its approval may cost (what it lacks of it), broadcasts the
/// approval and waits for it to be mined: `Ok(Err(refusal))` when it did not go through.
pub(crate) async fn submit(
    chain: &EvmChain,
    payer: Address,
    approval: &SponsoredApproval,
) -> Checked<()> {
    if let Err(refusal) = check_on_chain(chain, payer, approval).await? {
        return Ok(Err(refusal));
    }
    let broadcast_failed = |why: String| {
        Ok(Err(Refusal::with(
            ErrorReason::Erc20ApprovalBroadcastFailed,
            why,
        )))
    };
    let balance = chain.balance(payer).await?;
    if balance < approval.cost() {
        let funded = match chain.fund(payer, approval.cost() - balance).await {
            Ok(sent) => chain.wait_for_receipt(sent).await?,
            Err(ChainFailure::Node(error)) => return Err(error),
            Err(failure @ ChainFailure::GasPriceAboveCap { .. }) => {
                return Err(Error::Chain {
                    message: format!("the payer's gas not funded: {failure}"),
                    source: None,
                });
            }
            // The payer's account refuses ether (code that reverts on receipt).
            Err(failure) => {
                return broadcast_failed(format!("the payer cannot be funded: {failure}"));
            }
        };
        match funded {
            Some(receipt) if receipt.status() => {}
            Some(receipt) => {
                return broadcast_failed(format!(
                    "funding the payer's gas failed in {}",
                    receipt.transaction_hash
                ));
            }
            None => {
                return broadcast_failed("funding the payer's gas was not mined in time".into());
            }
        }
    }
    let sent = match chain.broadcast(&approval.raw, approval.hash).await? {
        Ok(sent) => sent,
        Err(refused) => {
            return broadcast_failed(format!("the node refused the approval: {refused}"));
        }
    };
    match chain.wait_for_receipt(sent).await? {
        Some(receipt) if receipt.status() => Ok(Ok(())),
        Some(receipt) => Ok(Err(Refusal::with(
            ErrorReason::Erc20ApprovalTxFailed,
            format!("the approval failed in {}", receipt.transaction_hash),
        ))),
        None => broadcast_failed(format!(
            "the approval {} was not mined in time",
            approval.hash
        )),
    }
}

/// The payer's side: its `approve(Permit2, max)` of `token`, signed with its next nonce and
/// the fees the node suggests, as the extension's `info`.
pub(crate) async fn sign_approval<S: Signer + Send + Sync>(
    signer: &S,
    provider: &DynProvider,
    chain_id: u64,
    token: Address,
) -> Result<Erc20ApprovalInfo> {
    let from = signer.address();
    let (nonce, fees) = futures_util::join!(
        provider.get_transaction_count(from).pending().into_future(),
        provider.estimate_eip1559_fees()
    );
    let nonce = nonce.map_err(|e| Error::chain("the payer's nonce", e))?;
    let fees = fees.map_err(|e| Error::chain("fee estimation", e))?;
    let amount = U256::MAX;
    let transaction = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: APPROVAL_GAS,
        max_fee_per_gas: fees.max_fee_per_gas,
        max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
        to: TxKind::Call(token),
        value: U256::ZERO,
        access_list: Default::default(),
        input: IErc20::approveCall {
            spender: PERMIT2,
            amount,
        }
        .abi_encode()
        .into(),
    };
    let signature = signer
        .sign_hash(&transaction.signature_hash())
        .await
        .map_err(|e| Error::signing("could not sign the approval", e))?;
    let envelope = TxEnvelope::from(transaction.into_signed(signature));
    Ok(Erc20ApprovalInfo {
        from,
        asset: token,
        spender: PERMIT2,
        amount,
        signed_transaction: envelope.encoded_2718().into(),
        version: VERSION.to_owned(),
    })
}
