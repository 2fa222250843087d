//! What `exact` checks before anything is broadcast: locally, the offer, the transaction's
//! network and authorization, what it moves, to whom, how much, its memo, fee and signature;
//! then against the node, that the transaction is unknown, its nonce unused and its fee (and an
//! STX amount) covered.

use coinslot_core::{ErrorReason, JsonObject, PaymentParts, Refusal, VerifyRequest};

use super::SCHEME;
use super::asset::{StacksAsset, TokenList};
use super::payload::ExactStacksPayload;
use super::reason::StacksReason;
use crate::address::{Principal, StacksAddress};
use crate::clarity::ClarityValue;
use crate::network::StacksNetwork;
use crate::node::{StacksNode, TxStatus};
use crate::signature::HighS;
use crate::transaction::{
    Authorization, Payload, PostCondition, PostConditionMode, PostConditionPrincipal, Transaction,
    Txid,
};

/// What the facilitator accepts beyond the scheme's rules.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// The highest fee a payment may carry, in µSTX.
    pub(crate) max_fee: u64,
    /// Accept a payment of more than the amount (the AIBTC relay's rule) instead of exactly it.
    pub(crate) allow_overpayment: bool,
    /// Accept sponsored transactions (their sponsor has signed and pays the fee).
    pub(crate) allow_sponsored: bool,
    /// Accept high-S signatures.
    pub(crate) high_s: HighS,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_fee: super::DEFAULT_MAX_FEE,
            allow_overpayment: false,
            allow_sponsored: false,
            high_s: HighS::Refuse,
        }
    }
}

/// A payment that passed every local check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The transaction.
    pub transaction: Transaction,
    /// Its bytes, as sent.
    pub raw: Vec<u8>,
    /// Its id.
    pub txid: Txid,
    /// Who pays (the origin).
    pub payer: StacksAddress,
    /// The network.
    pub network: StacksNetwork,
    /// What moves.
    pub asset: StacksAsset,
    /// How much, in atomic units.
    pub amount: u128,
}

impl Verified {
    /// The transaction's nonce.
    pub fn nonce(&self) -> u64 {
        self.transaction.auth.origin().nonce()
    }

    /// The fee, paid by the sponsor if there is one.
    pub fn fee(&self) -> u64 {
        self.transaction.auth.payer().fee()
    }
}

/// The request seen one way whatever its version; a v1 requirement whose network name is
/// unknown is refused.
pub(crate) fn parts_of(request: &VerifyRequest) -> Result<PaymentParts<'_>, Refusal> {
    request
        .parts()
        .map_err(|e| Refusal::with(ErrorReason::InvalidNetwork, e.to_string()))
}

/// The transaction a payload carries, if it decodes.
pub(crate) fn transaction_of(payload: &JsonObject) -> Result<(Transaction, Vec<u8>), Refusal> {
    let payload = ExactStacksPayload::from_object(payload).ok_or_else(|| {
        Refusal::with(
            StacksReason::TransactionUndecodable,
            "no `transaction` in the payload",
        )
    })?;
    let text = payload.transaction.trim();
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let raw = hex::decode(digits).map_err(|_| {
        Refusal::with(
            StacksReason::TransactionUndecodable,
            "the transaction is not hex",
        )
    })?;
    let tx = Transaction::from_bytes(&raw)
        .map_err(|e| Refusal::with(StacksReason::TransactionUndecodable, e.to_string()))?;
    Ok((tx, raw))
}

/// The payer a payload names, read leniently, for the answer to a refused payment.
pub(crate) fn claimed_payer(payload: &JsonObject) -> Option<String> {
    let (tx, _) = transaction_of(payload).ok()?;
    Some(
        tx.auth
            .origin()
            .address(tx.version.is_mainnet())
            .to_string(),
    )
}

/// Every check that needs no node.
pub(crate) fn check_local(
    parts: &PaymentParts<'_>,
    network: StacksNetwork,
    tokens: &TokenList,
    policy: &Policy,
) -> Result<Verified, Refusal> {
    let requirements = &parts.requirements;
    if parts.scheme != SCHEME || requirements.scheme != SCHEME {
        return Err(Refusal::new(ErrorReason::InvalidScheme));
    }
    if StacksNetwork::from_caip2(&requirements.network) != Some(network) {
        return Err(Refusal {
            reason: ErrorReason::InvalidNetwork,
            message: Some(format!(
                "this facilitator settles on {}, not {}",
                network.caip2(),
                requirements.network
            )),
        });
    }
    if let Some(accepted) = parts.accepted
        && (accepted.network != requirements.network
            || accepted.asset != requirements.asset
            || accepted.pay_to != requirements.pay_to
            || accepted.amount != requirements.amount)
    {
        return Err(Refusal {
            reason: ErrorReason::InvalidPaymentRequirements,
            message: Some("the payment accepted another offer".into()),
        });
    }
    let asset = tokens.resolve(&requirements.asset).ok_or_else(|| {
        Refusal::with(
            StacksReason::UnknownAsset,
            format!("{} is not an asset of this facilitator", requirements.asset),
        )
    })?;
    let pay_to: Principal = requirements.pay_to.parse().map_err(|e| Refusal {
        reason: ErrorReason::InvalidPaymentRequirements,
        message: Some(format!("payTo: {e}")),
    })?;
    if pay_to.address().is_mainnet() != network.is_mainnet() {
        return Err(Refusal {
            reason: ErrorReason::InvalidPaymentRequirements,
            message: Some("payTo is an address of the other network".into()),
        });
    }
    let amount: u128 = requirements
        .amount
        .to_string()
        .parse()
        .map_err(|_| Refusal {
            reason: ErrorReason::InvalidPaymentRequirements,
            message: Some("amount is beyond 128 bits".into()),
        })?;
    let nonce = requirements
        .extra
        .as_ref()
        .and_then(|extra| extra.get("nonce"))
        .and_then(|n| n.as_str());

    let (tx, raw) = transaction_of(parts.payload)?;
    if !network.holds(&tx) {
        return Err(Refusal::with(
            StacksReason::NetworkMismatch,
            format!(
                "a transaction of version 0x{:02x}, chain 0x{:08x}, for {}",
                tx.version as u8,
                tx.chain_id,
                network.caip2()
            ),
        ));
    }
    if matches!(tx.auth, Authorization::Sponsored { .. }) && !policy.allow_sponsored {
        return Err(Refusal::with(
            StacksReason::Sponsored,
            "sponsored transactions are not accepted: the payer pays the fee",
        ));
    }
    let origin = tx.auth.origin().address(network.is_mainnet());
    if pay_to == Principal::Standard(origin) {
        return Err(Refusal {
            reason: ErrorReason::InvalidPayment,
            message: Some("the payer is the payee: a payment to oneself pays nothing".into()),
        });
    }
    let moved = match &asset {
        StacksAsset::Stx => check_stx(&tx, &pay_to, nonce)?,
        StacksAsset::Sip010(token) => {
            let Payload::ContractCall {
                address,
                contract_name,
                function_name,
                args,
            } = &tx.payload
            else {
                return Err(Refusal::with(
                    StacksReason::PayloadKind,
                    "a token payment is a contract call",
                ));
            };
            if !token.is_contract(address, contract_name) {
                return Err(Refusal::with(
                    StacksReason::AssetMismatch,
                    format!(
                        "calls {address}.{contract_name}, not {}",
                        token.contract_id()
                    ),
                ));
            }
            let moved = check_transfer_call(function_name, args, &origin, &pay_to, nonce)?;
            check_post_conditions(&tx, &origin, token, moved)?;
            moved
        }
    };
    let amount_ok = if policy.allow_overpayment {
        moved >= amount
    } else {
        moved == amount
    };
    if !amount_ok {
        return Err(Refusal::with(
            StacksReason::AmountMismatch,
            format!("pays {moved}, the offer asks {amount}"),
        ));
    }
    let fee = tx.auth.payer().fee();
    if fee > policy.max_fee {
        return Err(Refusal::with(
            StacksReason::FeeTooHigh,
            format!("a fee of {fee} µSTX, above the cap of {}", policy.max_fee),
        ));
    }
    let verified = tx
        .verify(policy.high_s)
        .map_err(|e| Refusal::with(StacksReason::Signature, e.to_string()))?;
    Ok(Verified {
        // Decoding is canonical: the bytes as sent are the encoding, hashed once.
        txid: Txid(crate::hash::sha512_256(&raw)),
        transaction: tx,
        raw,
        payer: verified.origin,
        network,
        asset,
        amount: moved,
    })
}

fn check_stx(tx: &Transaction, pay_to: &Principal, nonce: Option<&str>) -> Result<u128, Refusal> {
    let Payload::TokenTransfer {
        recipient,
        amount,
        memo,
    } = &tx.payload
    else {
        return Err(Refusal::with(
            StacksReason::PayloadKind,
            "an STX payment is a token transfer",
        ));
    };
    if recipient != pay_to {
        return Err(Refusal::with(
            StacksReason::RecipientMismatch,
            format!("pays {recipient}, not {pay_to}"),
        ));
    }
    if let Some(nonce) = nonce
        && !memo_carries(memo, nonce)
    {
        return Err(Refusal::with(
            StacksReason::MemoMismatch,
            "the memo does not carry the offer's nonce",
        ));
    }
    Ok(u128::from(*amount))
}

/// `transfer(amount uint, sender principal, recipient principal, memo (optional (buff 34)))`.
fn check_transfer_call(
    function_name: &str,
    args: &[ClarityValue],
    origin: &StacksAddress,
    pay_to: &Principal,
    nonce: Option<&str>,
) -> Result<u128, Refusal> {
    let shape = || {
        Refusal::with(
            StacksReason::FunctionMismatch,
            "not transfer(uint, principal, principal, (optional (buff 34)))",
        )
    };
    let [amount, sender, recipient, memo] = args else {
        return Err(shape());
    };
    if function_name != "transfer" {
        return Err(shape());
    }
    let ClarityValue::UInt(amount) = amount else {
        return Err(shape());
    };
    let ClarityValue::Principal(sender) = sender else {
        return Err(shape());
    };
    if *sender != Principal::Standard(*origin) {
        return Err(Refusal::with(
            StacksReason::SenderNotOrigin,
            format!("moves the tokens of {sender}, the transaction is signed by {origin}"),
        ));
    }
    let ClarityValue::Principal(recipient) = recipient else {
        return Err(shape());
    };
    if recipient != pay_to {
        return Err(Refusal::with(
            StacksReason::RecipientMismatch,
            format!("pays {recipient}, not {pay_to}"),
        ));
    }
    let memo = match memo {
        ClarityValue::None => None,
        ClarityValue::Some(inner) => match &**inner {
            ClarityValue::Buffer(bytes) if bytes.len() <= 34 => Some(bytes.as_slice()),
            _ => return Err(shape()),
        },
        _ => return Err(shape()),
    };
    if let Some(nonce) = nonce
        && !memo.is_some_and(|m| memo_carries(m, nonce))
    {
        return Err(Refusal::with(
            StacksReason::MemoMismatch,
            "the memo does not carry the offer's nonce",
        ));
    }
    Ok(*amount)
}

/// Whether a memo is the nonce, zero-padded or not.
fn memo_carries(memo: &[u8], nonce: &str) -> bool {
    let trimmed = memo
        .iter()
        .rposition(|&b| b != 0)
        .map_or(&memo[..0], |end| &memo[..=end]);
    trimmed == nonce.as_bytes()
}

/// A token payment whose post-conditions forbid the transfer would abort on chain after its
/// fee was paid: refuse it now. The payer's own post-condition on the token must allow
/// exactly the amount; every other one must allow nothing moving.
fn check_post_conditions(
    tx: &Transaction,
    origin: &StacksAddress,
    token: &super::asset::Sip010Token,
    amount: u128,
) -> Result<(), Refusal> {
    let refuse = |message: &str| Refusal::with(StacksReason::PostConditions, message.to_owned());
    let is_origin = |principal: &PostConditionPrincipal| match principal {
        PostConditionPrincipal::Origin => true,
        PostConditionPrincipal::Standard(address) => address == origin,
        PostConditionPrincipal::Contract(..) => false,
    };
    let mut covered = false;
    for condition in &tx.post_conditions {
        let (moved, code, limit) = match condition {
            PostCondition::Fungible {
                principal,
                asset,
                code,
                amount: limit,
            } => {
                let ours = is_origin(principal)
                    && token.is_contract(&asset.address, &asset.contract_name)
                    && asset.asset_name == token.asset_name;
                covered |= ours;
                (if ours { amount } else { 0 }, *code, *limit)
            }
            PostCondition::Stx {
                code,
                amount: limit,
                ..
            } => (0, *code, *limit),
            PostCondition::Staking {
                code,
                amount: limit,
                ..
            } => (0, *code, *limit),
            PostCondition::NonFungible { .. } | PostCondition::Pox { .. } => continue,
        };
        if !code.holds(moved, u128::from(limit)) {
            return Err(refuse("a post-condition forbids the payment"));
        }
    }
    if tx.post_condition_mode != PostConditionMode::Allow && !covered {
        return Err(refuse(
            "deny mode without a post-condition for the payer's transfer",
        ));
    }
    Ok(())
}

/// The node's part: the transaction unknown to it (one it knows has been used, by
/// whoever sent it), the nonce unused, the fee and amount covered.
pub(crate) async fn check_node(
    node: &StacksNode,
    network: StacksNetwork,
    verified: &Verified,
) -> coinslot_core::Result<Result<(), Refusal>> {
    if node.status(&verified.txid).await? != TxStatus::Unknown {
        return Ok(Err(Refusal::with(
            StacksReason::AlreadyBroadcast,
            format!("{} is already known to the node", verified.txid),
        )));
    }
    check_account(node, network, verified).await
}

/// The payer's account: the nonce unused, the fee (and an STX amount) covered.
async fn check_account(
    node: &StacksNode,
    network: StacksNetwork,
    verified: &Verified,
) -> coinslot_core::Result<Result<(), Refusal>> {
    let origin = verified.payer.to_string();
    let nonces = node.nonces(&origin).await?;
    if verified.nonce() < nonces.executed_next {
        return Ok(Err(Refusal::with(
            StacksReason::NonceAlreadyUsed,
            format!(
                "nonce {} of {origin} is used; the next is {}",
                verified.nonce(),
                nonces.executed_next
            ),
        )));
    }
    let fee_payer = verified
        .transaction
        .auth
        .payer()
        .address(network.is_mainnet())
        .to_string();
    let mut needed = u128::from(verified.fee());
    if verified.asset == StacksAsset::Stx && fee_payer == origin {
        needed += verified.amount;
    }
    let balance = node.stx_balance(&fee_payer).await?;
    if balance < needed {
        return Ok(Err(Refusal {
            reason: ErrorReason::InsufficientFunds,
            message: Some(format!("{fee_payer} holds {balance} µSTX, needs {needed}")),
        }));
    }
    Ok(Ok(()))
}
