// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "TestWallet.sol";

/// Deploys `TestWallet`s at addresses known in advance (CREATE2 on the owner and a salt), the
/// way smart-wallet factories do: a wallet can sign (ERC-6492) before it exists.
contract TestWalletFactory {
    /// Deploys the wallet of `owner` and `salt` unless it exists; returns its address.
    function deploy(address owner, bytes32 salt) external returns (address wallet) {
        wallet = addressOf(owner, salt);
        if (wallet.code.length == 0) {
            new TestWallet{salt: salt}(owner);
        }
    }

    /// Where the wallet of `owner` and `salt` is, or will be.
    function addressOf(address owner, bytes32 salt) public view returns (address) {
        bytes32 code = keccak256(abi.encodePacked(type(TestWallet).creationCode, abi.encode(owner)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, code)))));
    }
}
