//! The facilitator side of `exact` with EIP-3009: every check a payment must pass, in the
//! reference order, each failure with its reason string.
//!
//! The local checks come first and cost no RPC for a key-signed payment: scheme, network, the
//! EIP-712 domain in `extra`, the payload's shape, the signature (ECDSA recovering `from`,
//! low-s), `to == payTo`, `validBefore ≥ now + 6`, `validAfter ≤ now`, `value == amount`,
//! the asset, and that the payer is not the payee. A contract wallet's signature needs one
//! `eth_call` (ERC-1271). Then the chain:
//! the asset holds code (read once), and an `eth_call` of the transfer itself; when that
//! fails, the nonce's state (`authorizationState`) and the payer's balance say why.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::sol_types::{Eip712Domain, SolCall as _, SolStruct as _};
use coinslot_core::{ErrorReason, JsonObject, PaymentRequirements, Result, VerifyRequest};

use super::SCHEME;
use super::erc6492;
use super::types::{ExactEvmPayload, TransferWithAuthorization};
use crate::chain::{ChainFailure, EvmChain};
use crate::contracts::{ERC1271_MAGIC, IEip3009Token, IErc1271};

/// Seconds an authorization must still be valid for at verification: time for the settlement
/// to be mined (the reference's block buffer).
pub(super) const VALID_BEFORE_BUFFER_SECS: u64 = 6;

/// What the operator allows, beyond what the protocol requires.
#[derive(Debug, Clone, Default)]
pub(super) struct Policy {
    /// Factories whose ERC-6492 wallets may be deployed at settlement.
    pub(super) erc6492_factories: Vec<Address>,
    /// Tokens settled; empty: any EIP-3009 token.
    pub(super) assets: Vec<Address>,
}

/// A payment that passed the checks: what settlement needs.
#[derive(Debug)]
pub(super) struct Verified {
    pub(super) asset: Address,
    pub(super) payload: ExactEvmPayload,
    pub(super) signature: PayerSignature,
}

/// How the payer signed, which decides the form of `transferWithAuthorization` to call.
#[derive(Debug)]
pub(super) enum PayerSignature {
    /// A key's 65-byte ECDSA signature, sent in the `(v, r, s)` form.
    Ecdsa { v: u8, r: B256, s: B256 },
    /// A deployed contract wallet's signature, checked with ERC-1271, sent as `bytes`.
    Contract(Bytes),
    /// A wallet that its factory has yet to deploy (ERC-6492): deploy, then send `inner`.
    Counterfactual(erc6492::Wrapped),
}

/// Why a payment is refused.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) reason: ErrorReason,
    pub(super) message: Option<String>,
}

impl Refusal {
    pub(super) const fn new(reason: ErrorReason) -> Self {
        Self {
            reason,
            message: None,
        }
    }

    pub(super) fn with(reason: ErrorReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: Some(message.into()),
        }
    }
}

/// A check's outcome: a refusal, or a failure of the node (which says nothing of the payment).
pub(super) type Checked<T> = Result<Result<T, Refusal>>;

/// The parts of a v1 or v2 request that `exact` looks at.
pub(super) struct Parts<'a> {
    accepted_scheme: &'a str,
    accepted_network: &'a str,
    accepted_asset: Option<&'a str>,
    pub(super) requirements: Cow<'a, PaymentRequirements>,
    requirements_network: &'a str,
    pub(super) payload: &'a JsonObject,
}

impl<'a> Parts<'a> {
    /// Splits a request; a v1 requirement whose network name is unknown is refused.
    pub(super) fn of(request: &'a VerifyRequest) -> Result<Self, Refusal> {
        match request {
            VerifyRequest::V2 {
                payment_payload,
                payment_requirements,
            } => Ok(Self {
                accepted_scheme: &payment_payload.accepted.scheme,
                accepted_network: payment_payload.accepted.network.as_str(),
                accepted_asset: Some(&payment_payload.accepted.asset),
                requirements: Cow::Borrowed(payment_requirements),
                requirements_network: payment_requirements.network.as_str(),
                payload: &payment_payload.payload,
            }),
            VerifyRequest::V1 {
                payment_payload,
                payment_requirements,
            } => {
                let (requirements, _) = payment_requirements.to_v2().map_err(|e| {
                    Refusal::with(ErrorReason::InvalidExactEvmNetworkMismatch, e.to_string())
                })?;
                Ok(Self {
                    accepted_scheme: &payment_payload.scheme,
                    accepted_network: &payment_payload.network,
                    accepted_asset: None,
                    requirements: Cow::Owned(requirements),
                    requirements_network: &payment_requirements.network,
                    payload: &payment_payload.payload,
                })
            }
            _ => Err(Refusal::new(ErrorReason::InvalidX402Version)),
        }
    }
}

/// The payer named by a payload, read leniently so that even a refusal of a malformed
/// payload can say who sent it.
pub(super) fn claimed_payer(payload: &JsonObject) -> Option<String> {
    let from = payload.get("authorization")?.get("from")?.as_str()?;
    Some(
        from.parse::<Address>()
            .map_or_else(|_| from.to_owned(), |a| a.to_checksum(None)),
    )
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Everything up to and including the signature and the fields it covers; no chain reads
/// unless the payer is a contract wallet.
pub(super) async fn check_payment(
    chain: &EvmChain,
    policy: &Policy,
    parts: &Parts<'_>,
    now: u64,
) -> Checked<Verified> {
    let terms = match check_terms(chain, policy, parts) {
        Ok(terms) => terms,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let authorization = &terms.payload.authorization;
    let signature = match check_signature(
        chain,
        &policy.erc6492_factories,
        terms.hash,
        authorization.from,
        &terms.payload.signature,
    )
    .await?
    {
        Ok(signature) => signature,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(check_authorization(&terms, parts, now).map(|()| Verified {
        asset: terms.asset,
        payload: terms.payload,
        signature,
    }))
}

/// The local checks alone, for a payment signed by a key: `Some` answer when they decide it,
/// `None` when the signature is not a key's signature of `from` (a contract wallet's, which
/// only the chain can check).
pub(super) fn check_payment_locally(
    chain: &EvmChain,
    policy: &Policy,
    parts: &Parts<'_>,
    now: u64,
) -> Option<Result<Address, Refusal>> {
    let terms = match check_terms(chain, policy, parts) {
        Ok(terms) => terms,
        Err(refusal) => return Some(Err(refusal)),
    };
    let from = terms.payload.authorization.from;
    if erc6492::is_wrapped(&terms.payload.signature) {
        return None;
    }
    match ecdsa_signer(terms.hash, &terms.payload.signature) {
        Some((signer, ..)) if signer == from => {
            Some(check_authorization(&terms, parts, now).map(|()| from))
        }
        _ => None,
    }
}

/// What the signature covers, read from a request whose terms are acceptable.
struct Terms {
    asset: Address,
    pay_to: Address,
    payload: ExactEvmPayload,
    /// The EIP-712 hash the payer signed.
    hash: B256,
}

/// Scheme, network, EIP-712 domain, payload shape, addresses and the operator's assets.
fn check_terms(chain: &EvmChain, policy: &Policy, parts: &Parts<'_>) -> Result<Terms, Refusal> {
    let requirements = &parts.requirements;
    if parts.accepted_scheme != SCHEME || requirements.scheme != SCHEME {
        return Err(Refusal::new(ErrorReason::InvalidExactEvmScheme));
    }
    if parts.accepted_network != parts.requirements_network
        || requirements.network != chain.network()
    {
        return Err(Refusal::with(
            ErrorReason::InvalidExactEvmNetworkMismatch,
            format!("this facilitator settles on {}", chain.network()),
        ));
    }
    let extra = requirements.extra.as_ref();
    let text = |name: &str| {
        extra
            .and_then(|extra| extra.get(name))
            .and_then(|value| value.as_str())
            .filter(|value| !value.is_empty())
    };
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Err(Refusal::new(
            ErrorReason::InvalidExactEvmMissingEip712Domain,
        ));
    };
    if let Some(method) = text("assetTransferMethod").filter(|m| *m != "eip3009") {
        return Err(Refusal::with(
            ErrorReason::UnsupportedPayloadType,
            format!("assetTransferMethod {method:?} is not supported by this facilitator"),
        ));
    }
    let payload = ExactEvmPayload::from_object(parts.payload).map_err(|e| {
        Refusal::with(
            ErrorReason::InvalidPayload,
            format!("not an EIP-3009 payload: {e}"),
        )
    })?;
    let (Ok(asset), Ok(pay_to)) = (
        requirements.asset.parse::<Address>(),
        requirements.pay_to.parse::<Address>(),
    ) else {
        return Err(Refusal::with(
            ErrorReason::InvalidPaymentRequirements,
            "asset and payTo must be EVM addresses",
        ));
    };
    if !policy.assets.is_empty() && !policy.assets.contains(&asset) {
        return Err(Refusal::with(
            ErrorReason::InvalidPaymentRequirements,
            format!("asset {asset} is not settled by this facilitator"),
        ));
    }
    let domain = Eip712Domain::new(
        Some(name.to_owned().into()),
        Some(version.to_owned().into()),
        Some(U256::from(chain.chain_id())),
        Some(asset),
        None,
    );
    let hash = TransferWithAuthorization::from(&payload.authorization).eip712_signing_hash(&domain);
    Ok(Terms {
        asset,
        pay_to,
        payload,
        hash,
    })
}

/// What the signed authorization says against the requirement: recipient, time window, value
/// and the asset the payer accepted.
fn check_authorization(terms: &Terms, parts: &Parts<'_>, now: u64) -> Result<(), Refusal> {
    let authorization = &terms.payload.authorization;
    let requirements = &parts.requirements;
    if authorization.to != terms.pay_to {
        return Err(Refusal::new(ErrorReason::InvalidExactEvmRecipientMismatch));
    }
    if authorization.from == terms.pay_to {
        // It would move nothing, and the facilitator would pay the gas.
        return Err(Refusal::with(
            ErrorReason::InvalidPayment,
            "the payer is the payee: a payment to oneself pays nothing",
        ));
    }
    if authorization.valid_before < U256::from(now.saturating_add(VALID_BEFORE_BUFFER_SECS)) {
        return Err(Refusal::new(
            ErrorReason::InvalidExactEvmPayloadAuthorizationValidBefore,
        ));
    }
    if authorization.valid_after > U256::from(now) {
        return Err(Refusal::new(
            ErrorReason::InvalidExactEvmPayloadAuthorizationValidAfter,
        ));
    }
    if authorization.value != requirements.amount.as_u256() {
        return Err(Refusal::with(
            ErrorReason::InvalidExactEvmPayloadAuthorizationValueMismatch,
            format!(
                "authorized {} but the requirement is {}",
                authorization.value, requirements.amount
            ),
        ));
    }
    if let Some(accepted) = parts.accepted_asset
        && accepted.parse::<Address>().ok() != Some(terms.asset)
    {
        return Err(Refusal::with(
            ErrorReason::InvalidPaymentRequirements,
            format!(
                "the payment was made for asset {accepted}, the requirement asks for {}",
                requirements.asset
            ),
        ));
    }
    Ok(())
}

/// Decides whose signature this is: a key's (recovered locally), a deployed wallet's (ERC-1271)
/// or an undeployed wallet's (ERC-6492).
async fn check_signature(
    chain: &EvmChain,
    erc6492_factories: &[Address],
    hash: B256,
    from: Address,
    signature: &Bytes,
) -> Checked<PayerSignature> {
    if erc6492::is_wrapped(signature) {
        let Some(wrapped) = erc6492::Wrapped::decode(signature) else {
            return Ok(Err(Refusal::new(
                ErrorReason::InvalidExactEvmFailedToParseSignature,
            )));
        };
        if chain.is_contract(from).await? {
            // Already deployed: the wrapper is only a hint, the inner signature is the wallet's.
            return erc1271(chain, hash, from, wrapped.signature).await;
        }
        if !erc6492_factories.contains(&wrapped.factory) {
            return Ok(Err(Refusal::with(
                ErrorReason::Eip6492FactoryNotAllowed,
                format!("factory {} is not allowed", wrapped.factory),
            )));
        }
        return Ok(
            match erc6492::check_undeployed(chain, hash, from, &wrapped).await? {
                true => Ok(PayerSignature::Counterfactual(wrapped)),
                false => Err(Refusal::with(
                    ErrorReason::InvalidExactEvmSignature,
                    "the undeployed wallet does not accept this signature",
                )),
            },
        );
    }
    let ecdsa = ecdsa_signer(hash, signature);
    if let Some((signer, v, r, s)) = ecdsa
        && signer == from
    {
        return Ok(Ok(PayerSignature::Ecdsa { v, r, s }));
    }
    if chain.is_contract(from).await? {
        return erc1271(chain, hash, from, signature.clone()).await;
    }
    Ok(Err(match (signature.len(), ecdsa) {
        (65, Some((signer, ..))) => Refusal::with(
            ErrorReason::InvalidExactEvmSignature,
            format!("signed by {signer}, not by {from}"),
        ),
        (65, None) => Refusal::with(
            ErrorReason::InvalidExactEvmSignature,
            "not a canonical ECDSA signature (high s or a bad v)",
        ),
        _ => Refusal::new(ErrorReason::InvalidExactEvmPayloadUndeployedSmartWallet),
    }))
}

/// The signer of a canonical 65-byte `r ‖ s ‖ v` signature: low s (EIP-2), `v` of 27 or 28
/// (0 and 1 are read as the same parities). Returns `v` as the token expects it (27 or 28).
fn ecdsa_signer(hash: B256, signature: &[u8]) -> Option<(Address, u8, B256, B256)> {
    let bytes: &[u8; 65] = signature.try_into().ok()?;
    let parity = match bytes[64] {
        0 | 27 => false,
        1 | 28 => true,
        _ => return None,
    };
    let parsed = alloy::primitives::Signature::from_bytes_and_parity(&bytes[..64], parity);
    if parsed.normalize_s().is_some() {
        return None;
    }
    let signer = crate::recovery::signer(&hash, &parsed)?;
    Some((
        signer,
        27 + u8::from(parity),
        B256::from_slice(&bytes[..32]),
        B256::from_slice(&bytes[32..64]),
    ))
}

/// Asks the wallet at `from` whether `signature` is its own (ERC-1271).
async fn erc1271(
    chain: &EvmChain,
    hash: B256,
    from: Address,
    signature: Bytes,
) -> Checked<PayerSignature> {
    let call = IErc1271::isValidSignatureCall {
        hash,
        signature: signature.clone(),
    };
    let gas = chain.gas_caps().signature;
    let accepted = match chain.call(from, call.abi_encode().into(), gas).await {
        Ok(output) => output.len() >= 4 && output[..4] == ERC1271_MAGIC,
        Err(ChainFailure::Node(error)) => return Err(error),
        Err(_) => false,
    };
    Ok(if accepted {
        Ok(PayerSignature::Contract(signature))
    } else {
        Err(Refusal::with(
            ErrorReason::InvalidExactEvmSignature,
            format!("the wallet at {from} does not accept the signature (ERC-1271)"),
        ))
    })
}

/// The calldata of `transferWithAuthorization` for a verified payment.
pub(super) fn transfer_calldata(verified: &Verified) -> Bytes {
    let a = &verified.payload.authorization;
    match &verified.signature {
        PayerSignature::Ecdsa { v, r, s } => IEip3009Token::transferWithAuthorization_0Call {
            from: a.from,
            to: a.to,
            value: a.value,
            validAfter: a.valid_after,
            validBefore: a.valid_before,
            nonce: a.nonce,
            v: *v,
            r: *r,
            s: *s,
        }
        .abi_encode()
        .into(),
        PayerSignature::Contract(signature)
        | PayerSignature::Counterfactual(erc6492::Wrapped { signature, .. }) => {
            IEip3009Token::transferWithAuthorization_1Call {
                from: a.from,
                to: a.to,
                value: a.value,
                validAfter: a.valid_after,
                validBefore: a.valid_before,
                nonce: a.nonce,
                signature: signature.clone(),
            }
            .abi_encode()
            .into()
        }
    }
}

/// The asset holds code (cached once seen): a transfer "sent" to an account without code
/// succeeds and moves nothing.
pub(super) async fn check_asset(chain: &EvmChain, asset: Address) -> Checked<()> {
    Ok(if chain.is_contract(asset).await? {
        Ok(())
    } else {
        Err(Refusal::new(ErrorReason::AssetNotDeployedContract))
    })
}

/// The chain checks of `verify`: the asset is a contract, then the transfer itself in an
/// `eth_call`, which fails if the nonce is used or the balance is short. The state those
/// depend on ([`check_state`]) is read only to say why a transfer fails: a valid payment
/// costs one call.
pub(super) async fn check_chain(
    chain: &EvmChain,
    verified: &Verified,
    requirements: &PaymentRequirements,
) -> Checked<()> {
    let asset = verified.asset;
    if let Err(refusal) = check_asset(chain, asset).await? {
        return Ok(Err(refusal));
    }
    let simulated = match &verified.signature {
        PayerSignature::Counterfactual(wrapped) => {
            erc6492::simulate_undeployed(chain, wrapped, asset, transfer_calldata(verified)).await
        }
        _ => chain
            .call(
                asset,
                transfer_calldata(verified),
                chain.gas_caps().transfer,
            )
            .await
            .map(drop),
    };
    match simulated {
        Ok(()) => Ok(Ok(())),
        Err(ChainFailure::Node(error)) => Err(error),
        Err(ChainFailure::Execution(message)) => {
            if let Err(refusal) = check_state(chain, verified).await? {
                return Ok(Err(refusal));
            }
            let reason = match domain_mismatch(chain, asset, requirements).await? {
                Some(reason) => reason,
                None => reason_for_revert(
                    message.as_deref(),
                    ErrorReason::InvalidExactEvmTransactionSimulationFailed,
                ),
            };
            Ok(Err(Refusal { reason, message }))
        }
        // A call has no gas price: this cannot come from a simulation.
        Err(ChainFailure::GasPriceAboveCap { .. }) => Ok(Ok(())),
    }
}

/// The state a transfer depends on, in one concurrent round: the nonce unused
/// (`authorizationState`) and the balance covering the value.
pub(super) async fn check_state(chain: &EvmChain, verified: &Verified) -> Checked<()> {
    let a = &verified.payload.authorization;
    let gas = chain.gas_caps().read;
    let read = |input: Vec<u8>| chain.call(verified.asset, input.into(), gas);
    let (used, balance) = futures_util::join!(
        read(
            IEip3009Token::authorizationStateCall {
                authorizer: a.from,
                nonce: a.nonce,
            }
            .abi_encode()
        ),
        read(IEip3009Token::balanceOfCall { account: a.from }.abi_encode()),
    );
    match used {
        Err(ChainFailure::Node(error)) => return Err(error),
        Err(_) => {
            return Ok(Err(Refusal::new(
                ErrorReason::InvalidExactEvmEip3009NotSupported,
            )));
        }
        Ok(output) => match IEip3009Token::authorizationStateCall::abi_decode_returns(&output) {
            Ok(true) => {
                return Ok(Err(Refusal::new(
                    ErrorReason::InvalidExactEvmNonceAlreadyUsed,
                )));
            }
            Ok(false) => {}
            Err(_) => {
                return Ok(Err(Refusal::new(
                    ErrorReason::InvalidExactEvmEip3009NotSupported,
                )));
            }
        },
    }
    match balance {
        Err(ChainFailure::Node(error)) => Err(error),
        Ok(output) => Ok(
            match IEip3009Token::balanceOfCall::abi_decode_returns(&output) {
                Ok(balance) if balance < a.value => Err(Refusal::with(
                    ErrorReason::InvalidExactEvmInsufficientBalance,
                    format!("balance {balance} is below {}", a.value),
                )),
                _ => Ok(()),
            },
        ),
        Err(_) => Ok(Ok(())),
    }
}

/// Whether the token's own EIP-712 name or version differs from `extra`: the usual reason a
/// signature that verified here is refused by the token.
async fn domain_mismatch(
    chain: &EvmChain,
    asset: Address,
    requirements: &PaymentRequirements,
) -> Result<Option<ErrorReason>> {
    let extra = |field: &str| {
        requirements
            .extra
            .as_ref()
            .and_then(|e| e.get(field))
            .and_then(|v| v.as_str())
    };
    let gas = chain.gas_caps().read;
    let (name, version) = futures_util::join!(
        chain.call(asset, IEip3009Token::nameCall {}.abi_encode().into(), gas),
        chain.call(
            asset,
            IEip3009Token::versionCall {}.abi_encode().into(),
            gas
        ),
    );
    let read =
        |result: Result<Bytes, ChainFailure>, decode: fn(&[u8]) -> Option<String>| match result {
            Ok(output) => Ok(decode(&output)),
            Err(ChainFailure::Node(error)) => Err(error),
            Err(_) => Ok(None),
        };
    let name = read(name, |o| {
        IEip3009Token::nameCall::abi_decode_returns(o).ok()
    })?;
    let version = read(version, |o| {
        IEip3009Token::versionCall::abi_decode_returns(o).ok()
    })?;
    Ok(if name.is_some() && name.as_deref() != extra("name") {
        Some(ErrorReason::InvalidExactEvmTokenNameMismatch)
    } else if version.is_some() && version.as_deref() != extra("version") {
        Some(ErrorReason::InvalidExactEvmTokenVersionMismatch)
    } else {
        None
    })
}

/// The reason for a revert string of an EIP-3009 token (USDC's wording), or `otherwise`.
pub(super) fn reason_for_revert(message: Option<&str>, otherwise: ErrorReason) -> ErrorReason {
    let Some(message) = message.map(str::to_ascii_lowercase) else {
        return otherwise;
    };
    if message.contains("authorization is expired") {
        ErrorReason::InvalidExactEvmPayloadAuthorizationValidBefore
    } else if message.contains("authorization is not yet valid") {
        ErrorReason::InvalidExactEvmPayloadAuthorizationValidAfter
    } else if message.contains("authorization is used") {
        ErrorReason::InvalidExactEvmNonceAlreadyUsed
    } else if message.contains("exceeds balance") || message.contains("insufficient balance") {
        ErrorReason::InvalidExactEvmInsufficientBalance
    } else if message.contains("invalid signature") {
        ErrorReason::InvalidExactEvmSignature
    } else {
        otherwise
    }
}
