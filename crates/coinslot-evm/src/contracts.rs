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

    /// The ERC-20 functions Permit2 payments are checked with.
    interface IErc20 {
        function balanceOf(address account) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);

        event Transfer(address indexed from, address indexed to, uint256 value);
    }

    /// Permit2's unordered nonces: bit `nonce & 0xff` of word `nonce >> 8` is set once used.
    interface IPermit2 {
        function nonceBitmap(address owner, uint256 wordPosition) external view returns (uint256);
    }

    /// Permit2's transfer of a permitted amount, as both x402 proxies take it.
    struct TokenPermissions { address token; uint256 amount; }
    struct PermitTransferFrom { TokenPermissions permitted; uint256 nonce; uint256 deadline; }
    /// A token's EIP-2612 permit for Permit2, as both proxies' `settleWithPermit` take it.
    struct EIP2612Permit { uint256 value; uint256 deadline; bytes32 r; bytes32 s; uint8 v; }

    /// The x402 `exact` Permit2 proxy (`x402ExactPermit2Proxy`).
    interface IExactPermit2Proxy {
        struct Witness { address to; uint256 validAfter; }

        function settle(PermitTransferFrom permit, address owner, Witness witness, bytes signature) external;
        function settleWithPermit(EIP2612Permit permit2612, PermitTransferFrom permit, address owner, Witness witness, bytes signature) external;
    }

    /// The x402 `upto` Permit2 proxy (`x402UptoPermit2Proxy`): any amount up to the permitted
    /// one, sent only by `witness.facilitator`.
    interface IUptoPermit2Proxy {
        struct Witness { address to; address facilitator; uint256 validAfter; }

        function settle(PermitTransferFrom permit, uint256 amount, address owner, Witness witness, bytes signature) external;
        function settleWithPermit(EIP2612Permit permit2612, PermitTransferFrom permit, uint256 amount, address owner, Witness witness, bytes signature) external;
    }

    /// An [EIP-2612] token's own permit, as a payer signs it for Permit2.
    ///
    /// [EIP-2612]: https://eips.ethereum.org/EIPS/eip-2612
    interface IEip2612 {
        function nonces(address owner) external view returns (uint256);
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
