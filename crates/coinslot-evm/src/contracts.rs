//! The Solidity interfaces this crate calls, as `sol!` bindings (ABI encoding only: the calls go
//! through [`crate::chain::EvmChain`], which owns the provider).

alloy::sol! {
    /// An [EIP-3009] token such as USDC (`FiatTokenV2_2`), and the ERC-20 parts we read.
    ///
    /// [EIP-3009]: https://eips.ethereum.org/EIPS/eip-3009
    interface IEip3009Token {
        /// The form for 65-byte ECDSA signatures.
        function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;
        /// The form for any signature, checked with ERC-1271 when `from` is a contract.
        function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature) external;
        function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
        function balanceOf(address account) external view returns (uint256);
        function name() external view returns (string);
        function version() external view returns (string);

        event Transfer(address indexed from, address indexed to, uint256 value);
        event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    }

    /// [ERC-1271]: a contract wallet says whether a signature is its own.
    ///
    /// [ERC-1271]: https://eips.ethereum.org/EIPS/eip-1271
    interface IErc1271 {
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);
    }
}

/// What `isValidSignature` returns for a valid signature.
pub(crate) const ERC1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];
