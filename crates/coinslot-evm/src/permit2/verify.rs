//! The checks of a Permit2 payment, in the reference order, each with its reason: the terms
//! (spender, recipient, time window, amount, token), the signature (a key's, a deployed
//! wallet's by ERC-1271, an undeployed one's by ERC-6492), then the chain (the proxy's `settle`
//! simulated; when it fails, the state it depends on says why).

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::sol_types::SolCall as _;
use coinslot_core::{ErrorReason, JsonObject, PaymentRequirements, Refusal, Result};

use super::PERMIT2;
use super::eip2612::{Permit2612, permit_of};
use super::erc20_approval::{SponsoredApproval, approval_of, check_on_chain};
use super::types::{Permit2Payload, Witness};
use crate::chain::{ChainFailure, Checked, EvmChain};
use crate::contracts::{IErc20, IPermit2};
use crate::policy::Policy;
use crate::signature::{PayerSignature, SignatureReasons, check_signature, ecdsa_signer};

/// Seconds a permit must still be valid for at verification: time for the settlement to be
/// mined (the reference's block buffer).
const DEADLINE_BUFFER_SECS: u64 = 6;

/// How the permitted amount must relate to the requirement's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AmountRule {
    /// Exactly the amount: `exact`, and `upto` at verify (the maximum).
    Exactly,
    /// The amount to settle, at most the permitted one: `upto` at settle (the charge).
    AtMost,
}

/// A Permit2 payment whose terms are acceptable: what the signature check needs.
#[derive(Debug)]
pub(crate) struct Terms<W> {
    pub(crate) payload: Permit2Payload<W>,
    /// The EIP-712 hash the payer signed.
    pub(crate) hash: B256,
}

/// A Permit2 payment whose terms and signature hold: what the chain checks and settlement need.
#[derive(Debug)]
pub(crate) struct Signed<W> {
    pub(crate) payload: Permit2Payload<W>,
    pub(crate) signature: PayerSignature,
    /// The payer's EIP-2612 permit for Permit2, when the facilitator sponsors approvals and the
    /// payment carries one.
    pub(crate) permit2612: Option<Permit2612>,
    /// The payer's signed approval of Permit2, when the facilitator sponsors approval
    /// transactions and the payment carries one (and no EIP-2612 permit).
    pub(crate) approval: Option<SponsoredApproval>,
}

impl<W: Witness> Signed<W> {
    /// The proxy's `settle` (or `settleWithPermit`) of `amount`, with the signature in the form
    /// Permit2 checks.
    pub(crate) fn calldata(&self, amount: U256) -> Bytes {
        W::settle_calldata(
            &self.payload,
            self.signature.to_bytes(),
            amount,
            self.permit2612.as_ref(),
        )
    }

    /// Takes the payment's gas-sponsoring extension, when the operator sponsors its kind: the
    /// EIP-2612 permit for Permit2 (`eip2612GasSponsoring`), else the signed approval
    /// (`erc20ApprovalGasSponsoring`). One that does not fit the payment refuses it; one the
    /// operator does not sponsor is ignored: the payer's own allowance must do.
    pub(crate) fn sponsored(
        mut self,
        policy: &Policy,
        extensions: Option<&JsonObject>,
        chain_id: u64,
        now: u64,
    ) -> Result<Self, Refusal> {
        let a = &self.payload.permit2_authorization;
        let (payer, token, permitted) = (a.from, a.permitted.token, a.permitted.amount);
        if policy.eip2612_gas_sponsoring {
            self.permit2612 = permit_of(extensions, payer, token, permitted, now)?;
        }
        if self.permit2612.is_none() && policy.erc20_approval_gas_sponsoring {
            self.approval = approval_of(extensions, payer, token, permitted, chain_id)?;
        }
        Ok(self)
    }

    /// The approval to broadcast before settling `amount`: the payment's, while the payer's
    /// allowance to Permit2 is short of `amount` (once an approval landed, none).
    pub(crate) async fn pending_approval(
        &self,
        chain: &EvmChain,
        amount: U256,
    ) -> Result<Option<&SponsoredApproval>> {
        let Some(approval) = &self.approval else {
            return Ok(None);
        };
        let allowance = permit2_allowance(chain, &self.payload).await?;
        Ok(match allowance {
            Some(allowance) if allowance >= amount => None,
            _ => Some(approval),
        })
    }
}

/// Spender, recipient, deadline, `validAfter`, amount, token, and that the payer is not the
/// payee: no chain reads.
pub(crate) fn check_terms<W: Witness>(
    chain_id: u64,
    payload: Permit2Payload<W>,
    requirements: &PaymentRequirements,
    rule: AmountRule,
    now: u64,
) -> Result<Terms<W>, Refusal> {
    let a = &payload.permit2_authorization;
    let (Ok(asset), Ok(pay_to)) = (
        requirements.asset.parse::<Address>(),
        requirements.pay_to.parse::<Address>(),
    ) else {
        return Err(Refusal::with(
            ErrorReason::InvalidPaymentRequirements,
            "asset and payTo must be EVM addresses",
        ));
    };
    if a.spender != W::PROXY {
        return Err(Refusal::with(
            ErrorReason::InvalidPermit2Spender,
            format!("the spender must be the x402 proxy {}", W::PROXY),
        ));
    }
    if a.witness.to() != pay_to {
        return Err(Refusal::new(ErrorReason::InvalidPermit2RecipientMismatch));
    }
    if a.deadline < U256::from(now.saturating_add(DEADLINE_BUFFER_SECS)) {
        return Err(Refusal::new(ErrorReason::Permit2DeadlineExpired));
    }
    if a.witness.valid_after() > U256::from(now) {
        return Err(Refusal::new(ErrorReason::Permit2NotYetValid));
    }
    let amount = requirements.amount.as_u256();
    match rule {
        AmountRule::Exactly if a.permitted.amount != amount => {
            return Err(Refusal::with(
                ErrorReason::Permit2AmountMismatch,
                format!(
                    "permitted {} but the requirement is {amount}",
                    a.permitted.amount
                ),
            ));
        }
        AmountRule::AtMost if amount > a.permitted.amount => {
            return Err(Refusal::with(
                ErrorReason::InvalidUptoEvmPayloadSettlementExceedsAmount,
                format!("charging {amount} of a maximum of {}", a.permitted.amount),
            ));
        }
        _ => {}
    }
    if a.permitted.token != asset {
        return Err(Refusal::new(ErrorReason::Permit2TokenMismatch));
    }
    if a.from == pay_to {
        return Err(Refusal::with(
            ErrorReason::InvalidPayment,
            "the payer is the payee: a payment to oneself pays nothing",
        ));
    }
    let hash = W::signing_hash(a, chain_id);
    Ok(Terms { payload, hash })
}

/// Whether a key signed, decided locally: `Some(true)` for the payer's own ECDSA signature,
/// `None` when only the chain can tell (a contract wallet's signature).
pub(crate) fn signed_by_key<W: Witness>(terms: &Terms<W>) -> Option<bool> {
    let from = terms.payload.permit2_authorization.from;
    match ecdsa_signer(terms.hash, &terms.payload.signature) {
        Some((signer, ..)) if signer == from => Some(true),
        _ => None,
    }
}

/// Whether the payer signed: a key's ECDSA signature recovered locally, else the wallet's own
/// word (ERC-1271), or the word of a wallet its factory has yet to deploy (ERC-6492, from the
/// policy's factories only). Permit2 checks the same way on chain, once any wallet is
/// deployed. Then the payment's gas-sponsoring extension, when the policy sponsors its kind.
pub(crate) async fn check_payer_signature<W: Witness>(
    chain: &EvmChain,
    policy: &Policy,
    terms: Terms<W>,
    extensions: Option<&JsonObject>,
    now: u64,
) -> Checked<Signed<W>> {
    let from = terms.payload.permit2_authorization.from;
    let signature = match check_signature(
        chain,
        &policy.erc6492_factories,
        terms.hash,
        from,
        &terms.payload.signature,
        &SignatureReasons::PERMIT2,
    )
    .await?
    {
        Ok(signature) => signature,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let signed = Signed {
        payload: terms.payload,
        signature,
        permit2612: None,
        approval: None,
    };
    Ok(signed.sponsored(policy, extensions, chain.chain_id(), now))
}

/// Whether the chain would settle `amount`: the proxy's `settle` run as `caller` in an
/// `eth_call`; when it fails, the state it depends on says why. A wallet still to be deployed
/// cannot be simulated, nor a settlement that waits for the payer's sponsored approval: their
/// state alone is read (and the approval checked on its own).
pub(crate) async fn check_chain<W: Witness>(
    chain: &EvmChain,
    caller: Address,
    signed: &Signed<W>,
    amount: U256,
) -> Checked<()> {
    if let Some(approval) = signed.pending_approval(chain, amount).await? {
        let payer = signed.payload.permit2_authorization.from;
        if let Err(refusal) = check_on_chain(chain, payer, approval).await? {
            return Ok(Err(refusal));
        }
        return Ok(
            diagnose(chain, &signed.payload, amount, Allowance::Sponsored)
                .await?
                .map_or(Ok(()), Err),
        );
    }
    if let PayerSignature::Counterfactual(_) = signed.signature {
        return Ok(
            diagnose(chain, &signed.payload, amount, Allowance::Required)
                .await?
                .map_or(Ok(()), Err),
        );
    }
    let gas = chain.gas_caps().transfer;
    match chain
        .call_from(caller, W::PROXY, signed.calldata(amount), gas)
        .await
    {
        Ok(_) => Ok(Ok(())),
        Err(ChainFailure::Node(error)) => Err(error),
        Err(ChainFailure::Execution(message)) => {
            let refusal = diagnose(chain, &signed.payload, amount, Allowance::Required).await?;
            Ok(Err(refusal.unwrap_or(Refusal {
                reason: ErrorReason::Permit2SimulationFailed,
                message,
            })))
        }
        // A call has no gas price: this cannot come from a simulation.
        Err(ChainFailure::GasPriceAboveCap { .. }) => Ok(Ok(())),
    }
}

/// Whether a settlement needs the payer's allowance to Permit2 to be there already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Allowance {
    /// It does.
    Required,
    /// A sponsored approval is sent first.
    Sponsored,
}

/// How much of the payment's token Permit2 may move for the payer: `None` when the token does
/// not say.
async fn permit2_allowance<W>(
    chain: &EvmChain,
    payload: &Permit2Payload<W>,
) -> Result<Option<U256>> {
    let a = &payload.permit2_authorization;
    let call = IErc20::allowanceCall {
        owner: a.from,
        spender: PERMIT2,
    };
    read_number(chain, a.permitted.token, call.abi_encode()).await
}

/// One uint256 read from `to`: `None` when the contract answers otherwise (or fails), which
/// tells nothing.
async fn read_number(chain: &EvmChain, to: Address, input: Vec<u8>) -> Result<Option<U256>> {
    match chain.call(to, input.into(), chain.gas_caps().read).await {
        Ok(output) => Ok(IErc20::balanceOfCall::abi_decode_returns(&output).ok()),
        Err(ChainFailure::Node(error)) => Err(error),
        Err(_) => Ok(None),
    }
}

/// Why a settlement of `amount` would fail, from the chain's state, when the state says: the
/// proxy missing, the nonce used, Permit2 not allowed to move the tokens (unless a sponsored
/// approval comes first), the balance short.
pub(crate) async fn diagnose<W: Witness>(
    chain: &EvmChain,
    payload: &Permit2Payload<W>,
    amount: U256,
    allowance_rule: Allowance,
) -> Result<Option<Refusal>> {
    let a = &payload.permit2_authorization;
    if !chain.is_contract(W::PROXY).await? {
        return Ok(Some(Refusal::new(ErrorReason::Permit2ProxyNotDeployed)));
    }
    let (bitmap, allowance, balance) = futures_util::join!(
        read_number(
            chain,
            PERMIT2,
            IPermit2::nonceBitmapCall {
                owner: a.from,
                wordPosition: a.nonce >> 8,
            }
            .abi_encode()
        ),
        async {
            match allowance_rule {
                Allowance::Required => permit2_allowance(chain, payload).await,
                // Not read: the approval comes first.
                Allowance::Sponsored => Ok(None),
            }
        },
        read_number(
            chain,
            a.permitted.token,
            IErc20::balanceOfCall { account: a.from }.abi_encode()
        ),
    );
    if let Some(word) = bitmap?
        && word.bit((a.nonce & U256::from(0xff)).to::<usize>())
    {
        return Ok(Some(Refusal::with(
            ErrorReason::Permit2InvalidNonce,
            "this permit's nonce is used: it was settled already",
        )));
    }
    if let Some(allowance) = allowance?
        && allowance < amount
    {
        return Ok(Some(Refusal::with(
            ErrorReason::Permit2AllowanceRequired,
            format!("the payer lets Permit2 move {allowance} of the token, not {amount}"),
        )));
    }
    if let Some(balance) = balance?
        && balance < amount
    {
        return Ok(Some(Refusal::with(
            ErrorReason::Permit2InsufficientBalance,
            format!("balance {balance} is below {amount}"),
        )));
    }
    Ok(None)
}
