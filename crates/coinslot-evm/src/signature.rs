//! Whose signature a payment carries, and whether it holds: a key's (recovered locally, low
//! s), a deployed contract wallet's (ERC-1271) or a wallet its factory has yet to deploy
//! (ERC-6492).

use alloy::primitives::{Address, B256, Bytes};
use alloy::sol_types::SolCall as _;
use coinslot_core::{ErrorReason, Refusal};

use crate::chain::{ChainFailure, Checked, EvmChain};
use crate::contracts::{ERC1271_MAGIC, IErc1271};
use crate::erc6492;

/// The reasons a method gives for a signature that does not hold.
#[derive(Debug)]
pub(crate) struct SignatureReasons {
    /// Not the payer's signature.
    pub(crate) invalid: ErrorReason,
    /// An ERC-6492 wrapper that does not decode.
    pub(crate) unparsable: ErrorReason,
}

impl SignatureReasons {
    /// The `exact` EIP-3009 reasons.
    pub(crate) const EIP3009: Self = Self {
        invalid: ErrorReason::InvalidExactEvmSignature,
        unparsable: ErrorReason::InvalidExactEvmFailedToParseSignature,
    };
    /// The Permit2 reasons, `exact` and `upto` alike.
    pub(crate) const PERMIT2: Self = Self {
        invalid: ErrorReason::InvalidPermit2Signature,
        unparsable: ErrorReason::InvalidPermit2Signature,
    };
}

/// How the payer signed, which decides the form of `transferWithAuthorization` to call.
#[derive(Debug)]
pub(crate) enum PayerSignature {
    /// A key's 65-byte ECDSA signature, sent in the `(v, r, s)` form.
    Ecdsa { v: u8, r: B256, s: B256 },
    /// A deployed contract wallet's signature, checked with ERC-1271, sent as `bytes`.
    Contract(Bytes),
    /// A wallet that its factory has yet to deploy (ERC-6492): deploy, then send `inner`.
    Counterfactual(erc6492::Wrapped),
}

impl PayerSignature {
    /// The signature as a contract that takes `bytes` checks it once any wallet is deployed:
    /// `r ‖ s ‖ v` with `v` 27 or 28 for a key, else the wallet's own signature.
    pub(crate) fn to_bytes(&self) -> Bytes {
        match self {
            Self::Ecdsa { v, r, s } => [r.as_slice(), s.as_slice(), &[*v]].concat().into(),
            Self::Contract(signature)
            | Self::Counterfactual(erc6492::Wrapped { signature, .. }) => signature.clone(),
        }
    }
}

/// Decides whose signature this is: a key's (recovered locally), a deployed wallet's (ERC-1271)
/// or an undeployed wallet's (ERC-6492).
pub(crate) async fn check_signature(
    chain: &EvmChain,
    erc6492_factories: &[Address],
    hash: B256,
    from: Address,
    signature: &Bytes,
    reasons: &SignatureReasons,
) -> Checked<PayerSignature> {
    if erc6492::is_wrapped(signature) {
        let Some(wrapped) = erc6492::Wrapped::decode(signature) else {
            return Ok(Err(Refusal::new(reasons.unparsable.clone())));
        };
        if chain.is_contract(from).await? {
            // Already deployed: the wrapper is only a hint, the inner signature is the wallet's.
            return erc1271(chain, hash, from, wrapped.signature, reasons).await;
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
                    reasons.invalid.clone(),
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
        return erc1271(chain, hash, from, signature.clone(), reasons).await;
    }
    Ok(Err(match (signature.len(), ecdsa) {
        (65, Some((signer, ..))) => Refusal::with(
            reasons.invalid.clone(),
            format!("signed by {signer}, not by {from}"),
        ),
        (65, None) => Refusal::with(
            reasons.invalid.clone(),
            "not a canonical ECDSA signature (high s or a bad v)",
        ),
        _ => Refusal::new(ErrorReason::InvalidExactEvmPayloadUndeployedSmartWallet),
    }))
}

/// The signer of a canonical 65-byte `r ‖ s ‖ v` signature: low s (EIP-2), `v` of 27 or 28
/// (0 and 1 are read as the same parities). Returns `v` as the token expects it (27 or 28).
pub(crate) fn ecdsa_signer(hash: B256, signature: &[u8]) -> Option<(Address, u8, B256, B256)> {
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

/// Whether the contract wallet at `from` says `signature` of `hash` is its own (ERC-1271),
/// under the signature check's gas cap; a call that reverts or halts is a no.
pub(crate) async fn wallet_accepts(
    chain: &EvmChain,
    hash: B256,
    from: Address,
    signature: &Bytes,
) -> coinslot_core::Result<bool> {
    let call = IErc1271::isValidSignatureCall {
        hash,
        signature: signature.clone(),
    };
    let gas = chain.gas_caps().signature;
    match chain.call(from, call.abi_encode().into(), gas).await {
        Ok(output) => Ok(output.len() >= 4 && output[..4] == ERC1271_MAGIC),
        Err(ChainFailure::Node(error)) => Err(error),
        Err(_) => Ok(false),
    }
}

/// Asks the wallet at `from` whether `signature` is its own (ERC-1271).
async fn erc1271(
    chain: &EvmChain,
    hash: B256,
    from: Address,
    signature: Bytes,
    reasons: &SignatureReasons,
) -> Checked<PayerSignature> {
    let accepted = wallet_accepts(chain, hash, from, &signature).await?;
    Ok(if accepted {
        Ok(PayerSignature::Contract(signature))
    } else {
        Err(Refusal::with(
            reasons.invalid.clone(),
            format!("the wallet at {from} does not accept the signature (ERC-1271)"),
        ))
    })
}
