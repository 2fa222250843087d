// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// A minimal contract wallet for tests: one owner key, and ERC-1271 `isValidSignature` that
/// accepts a 65-byte signature of the hash by that key. It stands for the smart wallets
/// (Safe, Coinbase Smart Wallet…) whose payments a facilitator must verify on chain.
contract TestWallet {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        return ecrecover(hash, v, r, s) == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}
