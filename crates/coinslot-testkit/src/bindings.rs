//! `sol!` bindings of the contracts on the local chain, and the EIP-712 structs signed for them.

#![allow(missing_docs)]
// The items are the contracts' own functions, named as in Solidity.
// Generated call builders take one argument per Solidity parameter.
#![allow(clippy::too_many_arguments)]

alloy::sol! {
    /// Our EIP-3009 test token (`contracts/TestUSDC.sol`), placed at the Base Sepolia USDC address.
    #[sol(rpc)]
    #[derive(Debug)]
    interface TestUsdc {
        event Transfer(address indexed from, address indexed to, uint256 value);
        event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
        event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

        function name() external view returns (string memory);
        function symbol() external view returns (string memory);
        function version() external view returns (string memory);
        function decimals() external view returns (uint8);
        function totalSupply() external view returns (uint256);
        function balanceOf(address account) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function nonces(address owner) external view returns (uint256);
        function DOMAIN_SEPARATOR() external view returns (bytes32);

        function mint(address to, uint256 value) external;
        function transfer(address to, uint256 value) external returns (bool);
        function approve(address spender, uint256 value) external returns (bool);
        function transferFrom(address from, address to, uint256 value) external returns (bool);
        function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

        function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
        function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;
        function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature) external;
        function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;
        function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature) external;
        function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;
        function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature) external;
    }

    /// `contracts/TestWalletFactory.sol`: CREATE2 deployer of `TestWallet`s.
    #[sol(rpc)]
    #[derive(Debug)]
    interface TestWalletFactory {
        function deploy(address owner, bytes32 salt) external returns (address wallet);
        function addressOf(address owner, bytes32 salt) external view returns (address);
    }

    /// `contracts/TestPermitToken.sol`: an ERC-20 with EIP-2612 and no EIP-3009.
    #[sol(rpc)]
    #[derive(Debug)]
    interface TestPermitToken {
        function name() external view returns (string memory);
        function version() external view returns (string memory);
        function decimals() external view returns (uint8);
        function balanceOf(address account) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function nonces(address owner) external view returns (uint256);
        function mint(address to, uint256 value) external;
        function approve(address spender, uint256 value) external returns (bool);
        function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;
    }

    /// `contracts/X402Permit2Proxies.sol`'s `X402ExactPermit2Proxy`, at its canonical address.
    #[sol(rpc)]
    #[derive(Debug)]
    interface X402ExactPermit2Proxy {
        struct TokenPermissions { address token; uint256 amount; }
        struct PermitTransferFrom { TokenPermissions permitted; uint256 nonce; uint256 deadline; }
        struct Witness { address to; uint256 validAfter; }

        function PERMIT2() external view returns (address);
        function WITNESS_TYPEHASH() external view returns (bytes32);
        function WITNESS_TYPE_STRING() external view returns (string memory);
        function settle(PermitTransferFrom permit, address owner, Witness witness, bytes signature) external;
    }

    /// `contracts/X402Permit2Proxies.sol`'s `X402UptoPermit2Proxy`, at its canonical address.
    #[sol(rpc)]
    #[derive(Debug)]
    interface X402UptoPermit2Proxy {
        struct TokenPermissions { address token; uint256 amount; }
        struct PermitTransferFrom { TokenPermissions permitted; uint256 nonce; uint256 deadline; }
        struct Witness { address to; address facilitator; uint256 validAfter; }

        error AmountExceedsPermitted();
        error UnauthorizedFacilitator();

        function WITNESS_TYPEHASH() external view returns (bytes32);
        function WITNESS_TYPE_STRING() external view returns (string memory);
        function settle(PermitTransferFrom permit, uint256 amount, address owner, Witness witness, bytes signature) external;
    }

    /// Uniswap's Permit2 (the signature-transfer part), at its canonical address.
    #[sol(rpc)]
    #[derive(Debug)]
    interface Permit2 {
        struct TokenPermissions { address token; uint256 amount; }
        struct PermitTransferFrom { TokenPermissions permitted; uint256 nonce; uint256 deadline; }
        struct SignatureTransferDetails { address to; uint256 requestedAmount; }

        function DOMAIN_SEPARATOR() external view returns (bytes32);
        function nonceBitmap(address owner, uint256 wordPosition) external view returns (uint256);
        function permitTransferFrom(PermitTransferFrom permit, SignatureTransferDetails transferDetails, address owner, bytes signature) external;
    }
}

/// The EIP-712 structs that payers sign. Their own `sol!` block: Permit2's interface has a
/// struct of the same name (without `spender`), and one block shares one namespace.
pub mod eip712 {
    #![allow(missing_docs)]

    alloy::sol! {
        /// EIP-3009: what a payer signs to let anyone move `value` to `to` once.
        #[derive(Debug)]
        struct TransferWithAuthorization {
            address from;
            address to;
            uint256 value;
            uint256 validAfter;
            uint256 validBefore;
            bytes32 nonce;
        }

        /// Permit2's `TokenPermissions`, for signing.
        #[derive(Debug)]
        struct TokenPermissions { address token; uint256 amount; }

        /// Permit2's signature transfer, as signed (the spender is `msg.sender` of the transfer).
        #[derive(Debug)]
        struct PermitTransferFrom {
            TokenPermissions permitted;
            address spender;
            uint256 nonce;
            uint256 deadline;
        }
    }
}
