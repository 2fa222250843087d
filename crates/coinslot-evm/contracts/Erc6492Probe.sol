// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// Never deployed. Its creation code runs as an `eth_call` without a target, so that a wallet
/// that does not exist yet (ERC-6492) can be tried: the constructor calls the wallet's factory,
/// then makes one call against the state that leaves (the wallet's `isValidSignature`, or the
/// token's `transferWithAuthorization`), and returns `abi.encode(deployed, ok, output)` as the
/// call's result. Nothing persists: it is a call, not a transaction.
///
/// coinslot-evm carries the compiled creation code in `Erc6492Probe.hex`; a test of that crate
/// compiles this file again and checks the two agree.
contract Erc6492Probe {
    constructor(address factory, bytes memory factoryCalldata, address target, bytes memory data) {
        (bool deployed,) = factory.call(factoryCalldata);
        (bool ok, bytes memory output) = target.call(data);
        bytes memory result = abi.encode(deployed, ok, output);
        assembly {
            return(add(result, 0x20), mload(result))
        }
    }
}
