//! [`ChainFailure`]: why a call or a transaction did not go through, telling the contract's
//! failures (a revert, a halt), which refuse a payment, from the node's, which say nothing of it.

use alloy::transports::{RpcError, TransportErrorKind};
use coinslot_core::Error;

/// A payment check's outcome: a refusal, or a failure of the node (which says nothing of the
/// payment).
pub(crate) type Checked<T> = coinslot_core::Result<Result<T, coinslot_core::Refusal>>;

/// Why a call or a transaction did not go through.
#[derive(Debug)]
pub(crate) enum ChainFailure {
    /// The EVM ran it and it failed: a revert (with the contract's reason string, when it gave
    /// one) or a halt (out of gas, an invalid opcode). This is the contract's doing, so a
    /// payment that causes it is refused, never blamed on the node.
    Execution(Option<String>),
    /// The gas price is above the configured cap; nothing was sent.
    GasPriceAboveCap {
        /// The current base fee, in wei.
        base_fee: u128,
        /// The cap, in wei.
        cap: u128,
    },
    /// The node failed or could not be reached.
    Node(Error),
}

impl std::fmt::Display for ChainFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Execution(Some(message)) => write!(f, "reverted: {message}"),
            Self::Execution(None) => f.write_str("reverted"),
            Self::GasPriceAboveCap { base_fee, cap } => {
                write!(f, "base fee {base_fee} wei is above the cap of {cap} wei")
            }
            Self::Node(error) => error.fmt(f),
        }
    }
}

impl ChainFailure {
    pub(super) fn from_rpc(what: &str, error: RpcError<TransportErrorKind>) -> Self {
        if let Some(payload) = error.as_error_resp() {
            if let Some(data) = payload.as_revert_data() {
                return Self::Execution(alloy::sol_types::decode_revert_reason(&data));
            }
            if is_execution_failure(&payload.message) {
                return Self::Execution(Some(payload.message.to_string()));
            }
        }
        Self::Node(Error::chain(format!("{what} failed"), error))
    }
}

/// Whether a node's error message says the EVM ran the call and it failed (reverted or
/// halted) rather than that the node could not run it. The wordings are geth's
/// (`execution reverted`, `out of gas`, `invalid opcode: INVALID`, `gas required exceeds
/// allowance`…) and revm's, which anvil and reth write (`EVM error OutOfGas`,
/// `EVM error InvalidFEOpcode`…).
fn is_execution_failure(message: &str) -> bool {
    const SIGNS: &[&str] = &[
        "evm error",
        "out of gas",
        "gas required exceeds",
        "invalid opcode",
        "invalid jump",
        "stack underflow",
        "stack overflow",
        "stack limit",
        "write protection",
        "return data out of bounds",
        "max code size",
        "contract address collision",
    ];
    // What the node would not run at all (a nonce, the sender's funds, the fees) is the
    // facilitator's or the node's state, not the contract's doing, whatever its prefix.
    const NOT_RUN: &[&str] = &[
        "invalidtransaction",
        "nonce",
        "insufficient funds",
        "lackoffund",
        "basefee",
        "gas price",
        "fee cap",
    ];
    let message = message.to_ascii_lowercase();
    message.contains("revert")
        || (!NOT_RUN.iter().any(|sign| message.contains(sign))
            && SIGNS.iter().any(|sign| message.contains(sign)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halts_and_reverts_are_told_from_node_failures() {
        for halted in [
            "execution reverted",
            "EVM error OutOfGas",
            "EVM error InvalidFEOpcode",
            "Out of gas: gas required exceeds allowance: 196608",
            "out of gas",
            "invalid opcode: INVALID",
            "invalid jump destination",
            "stack underflow (0 <=> 2)",
            "execution reverted: invalid nonce",
        ] {
            assert!(is_execution_failure(halted), "{halted}");
        }
        for node in [
            "header not found",
            "missing trie node",
            "nonce too low",
            "request timed out",
            "rate limit exceeded",
            "the method eth_call does not exist",
            "EVM error InvalidTransaction(LackOfFundForMaxFee { fee: 1, balance: 0 })",
            "EVM error NonceTooLow",
            "insufficient funds for gas * price + value",
        ] {
            assert!(!is_execution_failure(node), "{node}");
        }
    }
}
