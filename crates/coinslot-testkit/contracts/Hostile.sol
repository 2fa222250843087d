// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Contracts that fail every call made to them, the way a hostile payer (a contract wallet whose
// `isValidSignature` is asked) or a hostile asset (a "token" whose transfer is simulated) can
// make a facilitator's calls fail. A facilitator must take each failure for a refusal of the
// payment, not for a failing node, and must not let either make the node work without bound.

/// Runs until it has burnt all the gas it was given, whatever is called.
contract GasBurner {
    fallback(bytes calldata) external returns (bytes memory) {
        uint256 spins;
        while (true) {
            unchecked {
                spins++;
            }
        }
        return "";
    }
}

/// Executes the designated invalid opcode (0xfe), whatever is called: a halt, not a revert.
contract InvalidOpcode {
    fallback(bytes calldata) external returns (bytes memory) {
        assembly {
            invalid()
        }
    }
}
