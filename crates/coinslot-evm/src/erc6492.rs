//! [ERC-6492] signatures: a wallet that does not exist yet signs, and its signature carries the
//! factory call that would deploy it:
//! `abi.encode(address factory, bytes factoryCalldata, bytes signature) ‖ 0x6492…6492`.
//!
//! Such a wallet is tried without deploying it: an `eth_call` runs our probe's creation code
//! (`contracts/Erc6492Probe.sol`), which calls the factory and then the wallet or the token
//! against the state that leaves, and returns what happened. Settlement deploys the wallet for
//! real, through the same factory, then transfers.
//!
//! [ERC-6492]: https://eips.ethereum.org/EIPS/eip-6492

use alloy::primitives::{Address, B256, Bytes, hex};
use alloy::sol_types::{SolCall as _, SolValue as _};

use crate::chain::{ChainFailure, EvmChain};
use crate::contracts::{ERC1271_MAGIC, IErc1271};

/// The 32 bytes an ERC-6492 signature ends with.
const MAGIC: [u8; 32] = [
    0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92,
    0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92,
];

/// The probe's creation code (solc 0.8.37, 200 runs, cancun, no metadata hash), checked
/// against a fresh compile by this crate's tests.
const PROBE_HEX: &str = include_str!("../contracts/Erc6492Probe.hex");

/// An unwrapped ERC-6492 signature.
#[derive(Debug, Clone)]
pub(crate) struct Wrapped {
    /// The contract that deploys the wallet.
    pub(crate) factory: Address,
    /// The call that makes it do so.
    pub(crate) factory_calldata: Bytes,
    /// The wallet's own signature, for ERC-1271 once it exists.
    pub(crate) signature: Bytes,
}

/// Whether `signature` carries the ERC-6492 suffix.
pub(crate) fn is_wrapped(signature: &[u8]) -> bool {
    signature.ends_with(&MAGIC)
}

impl Wrapped {
    /// Unwraps a signature that [`is_wrapped`]; `None` if what precedes the suffix is not the
    /// ABI encoding of `(address, bytes, bytes)`.
    pub(crate) fn decode(signature: &[u8]) -> Option<Self> {
        let body = &signature[..signature.len().checked_sub(MAGIC.len())?];
        let (factory, factory_calldata, signature) =
            <(Address, Bytes, Bytes)>::abi_decode_params(body).ok()?;
        Some(Self {
            factory,
            factory_calldata,
            signature,
        })
    }
}

/// The probe's code with its constructor arguments.
fn probe(wrapped: &Wrapped, target: Address, data: Bytes) -> Bytes {
    let mut code = hex::decode(PROBE_HEX.trim()).unwrap_or_default();
    code.extend_from_slice(
        &(
            wrapped.factory,
            wrapped.factory_calldata.clone(),
            target,
            data,
        )
            .abi_encode_params(),
    );
    code.into()
}

/// Runs the probe: deploy through the factory, then call `target` with `data`, with at most
/// the deployment's gas cap and `gas` for the call. Returns whether the call succeeded and its
/// output.
async fn run_probe(
    chain: &EvmChain,
    wrapped: &Wrapped,
    target: Address,
    data: Bytes,
    gas: u64,
) -> Result<(bool, Bytes), ChainFailure> {
    let gas = chain.gas_caps().deployment.saturating_add(gas);
    let output = chain
        .call_deployless(probe(wrapped, target, data), gas)
        .await?;
    let (_deployed, ok, output) = <(bool, bool, Bytes)>::abi_decode_params(&output)
        .map_err(|_| ChainFailure::Execution(Some("the ERC-6492 probe answered garbage".into())))?;
    Ok((ok, output))
}

/// Whether the wallet at `from`, once its factory has run, accepts the inner signature of `hash`.
pub(crate) async fn check_undeployed(
    chain: &EvmChain,
    hash: B256,
    from: Address,
    wrapped: &Wrapped,
) -> coinslot_core::Result<bool> {
    let call = IErc1271::isValidSignatureCall {
        hash,
        signature: wrapped.signature.clone(),
    };
    let gas = chain.gas_caps().signature;
    match run_probe(chain, wrapped, from, call.abi_encode().into(), gas).await {
        Ok((ok, output)) => Ok(ok && output.len() >= 4 && output[..4] == ERC1271_MAGIC),
        Err(ChainFailure::Node(error)) => Err(error),
        Err(_) => Ok(false),
    }
}

/// Simulates the transfer from the wallet as if it were deployed.
pub(crate) async fn simulate_undeployed(
    chain: &EvmChain,
    wrapped: &Wrapped,
    asset: Address,
    transfer: Bytes,
) -> Result<(), ChainFailure> {
    let gas = chain.gas_caps().transfer;
    let (ok, output) = run_probe(chain, wrapped, asset, transfer, gas).await?;
    if ok {
        Ok(())
    } else {
        Err(ChainFailure::Execution(
            alloy::sol_types::decode_revert_reason(&output),
        ))
    }
}

/// Deploys the wallet `from` through its factory, unless it already exists, at the
/// facilitator's expense. `Err(why)` when the deployment failed or left no wallet at `from`.
pub(crate) async fn deploy(
    chain: &EvmChain,
    from: Address,
    wrapped: &Wrapped,
) -> coinslot_core::Result<Result<(), String>> {
    if chain.is_contract(from).await? {
        return Ok(Ok(()));
    }
    let gas = chain.gas_caps().deployment;
    let receipt = match chain
        .send(wrapped.factory, wrapped.factory_calldata.clone(), gas)
        .await
    {
        Ok(sent) => chain.wait_for_receipt(sent).await?,
        Err(ChainFailure::Node(error)) => return Err(error),
        Err(failure) => return Ok(Err(failure.to_string())),
    };
    if !receipt.is_some_and(|receipt| receipt.status()) || !chain.is_contract(from).await? {
        return Ok(Err(format!(
            "the factory {} did not deploy {from}",
            wrapped.factory
        )));
    }
    Ok(Ok(()))
}
