//! The chain's part of verification: the asset holds code, the transfer itself runs in an
//! `eth_call`, and when it fails, the state it depends on (the nonce, the balance) and the
//! token's own EIP-712 domain say why.

use alloy::primitives::{Address, Bytes};
use alloy::sol_types::SolCall as _;
use coinslot_core::{ErrorReason, PaymentRequirements, Refusal, Result};

use super::verify::{Verified, transfer_calldata};
use crate::chain::{ChainFailure, Checked, EvmChain};
use crate::contracts::IEip3009Token;
use crate::erc6492;
use crate::signature::PayerSignature;

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
