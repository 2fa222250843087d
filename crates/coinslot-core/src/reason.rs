//! The `invalidReason` / `errorReason` strings of the x402 spec and of the reference SDKs.
//!
//! The reference SDKs do not emit exactly the spec's list, and new releases add codes, so a
//! string this crate does not know is kept as [`ErrorReason::Other`] and written back unchanged.
//!
//! ```
//! use coinslot_core::ErrorReason;
//!
//! let reason: ErrorReason = "invalid_exact_evm_payload_signature".parse().unwrap();
//! assert_eq!(reason, ErrorReason::InvalidExactEvmPayloadSignature);
//! assert_eq!(reason.as_str(), "invalid_exact_evm_payload_signature");
//!
//! let future: ErrorReason = "invalid_exact_teleport_payload".parse().unwrap();
//! assert_eq!(future.as_str(), "invalid_exact_teleport_payload");
//! ```

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! reasons {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// A reason a payment was refused or a settlement failed.
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorReason {
            $( $(#[$doc])* $variant, )*
            /// A reason string this crate does not know, kept as it was received.
            Other(Box<str>),
        }

        impl ErrorReason {
            /// Every reason this crate knows, in the order of its table.
            pub const KNOWN: &'static [ErrorReason] = &[ $( ErrorReason::$variant, )* ];

            /// The reason string, as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(text) => text,
                }
            }

            /// Parses a reason string; an unknown string becomes [`ErrorReason::Other`].
            pub fn parse(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )*
                    other => Self::Other(other.into()),
                }
            }
        }
    };
}

reasons! {
    // The x402 v2 specification, §9.
    /// The payer's balance is below the amount.
    InsufficientFunds = "insufficient_funds",
    /// `validAfter` is in the future.
    InvalidExactEvmPayloadAuthorizationValidAfter = "invalid_exact_evm_payload_authorization_valid_after",
    /// `validBefore` has passed, or is within the settlement buffer.
    InvalidExactEvmPayloadAuthorizationValidBefore = "invalid_exact_evm_payload_authorization_valid_before",
    /// The authorized value differs from the required amount (v2 spec name).
    InvalidExactEvmPayloadAuthorizationValueMismatch = "invalid_exact_evm_payload_authorization_value_mismatch",
    /// The signature does not verify.
    InvalidExactEvmPayloadSignature = "invalid_exact_evm_payload_signature",
    /// The authorization pays someone other than `payTo`.
    InvalidExactEvmPayloadRecipientMismatch = "invalid_exact_evm_payload_recipient_mismatch",
    /// The network is not the requirement's, or is unknown.
    InvalidNetwork = "invalid_network",
    /// The payload is malformed.
    InvalidPayload = "invalid_payload",
    /// The requirements are malformed.
    InvalidPaymentRequirements = "invalid_payment_requirements",
    /// The scheme is not the requirement's.
    InvalidScheme = "invalid_scheme",
    /// No facilitator scheme handles this scheme.
    UnsupportedScheme = "unsupported_scheme",
    /// The `x402Version` is not supported.
    InvalidX402Version = "invalid_x402_version",
    /// The transaction is in a state that cannot be settled.
    InvalidTransactionState = "invalid_transaction_state",
    /// Verification failed unexpectedly.
    UnexpectedVerifyError = "unexpected_verify_error",
    /// Settlement failed unexpectedly.
    UnexpectedSettleError = "unexpected_settle_error",

    // The x402 v1 legacy enum.
    /// The authorized value is wrong (v1 name, also what the v2 SDKs emit).
    InvalidExactEvmPayloadAuthorizationValue = "invalid_exact_evm_payload_authorization_value",
    /// A smart wallet that is not deployed and carries no ERC-6492 factory data.
    InvalidExactEvmPayloadUndeployedSmartWallet = "invalid_exact_evm_payload_undeployed_smart_wallet",
    /// The payment is invalid.
    InvalidPayment = "invalid_payment",
    /// The payment has expired.
    PaymentExpired = "payment_expired",
    /// The payment was settled before.
    DuplicateSettlement = "duplicate_settlement",
    /// SVM: the transaction is malformed.
    InvalidExactSvmPayloadTransaction = "invalid_exact_svm_payload_transaction",
    /// SVM: the transferred amount is wrong.
    InvalidExactSvmPayloadTransactionAmountMismatch = "invalid_exact_svm_payload_transaction_amount_mismatch",
    /// SVM: a create-ATA instruction is malformed.
    InvalidExactSvmPayloadTransactionCreateAtaInstruction = "invalid_exact_svm_payload_transaction_create_ata_instruction",
    /// SVM: a create-ATA instruction names another payee.
    InvalidExactSvmPayloadTransactionCreateAtaInstructionIncorrectPayee = "invalid_exact_svm_payload_transaction_create_ata_instruction_incorrect_payee",
    /// SVM: a create-ATA instruction names another asset.
    InvalidExactSvmPayloadTransactionCreateAtaInstructionIncorrectAsset = "invalid_exact_svm_payload_transaction_create_ata_instruction_incorrect_asset",
    /// SVM: the instructions are not the allowed ones.
    InvalidExactSvmPayloadTransactionInstructions = "invalid_exact_svm_payload_transaction_instructions",
    /// SVM: the number of instructions is wrong.
    InvalidExactSvmPayloadTransactionInstructionsLength = "invalid_exact_svm_payload_transaction_instructions_length",
    /// SVM: the compute-limit instruction is wrong.
    InvalidExactSvmPayloadTransactionInstructionsComputeLimitInstruction = "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction",
    /// SVM: the compute-price instruction is wrong.
    InvalidExactSvmPayloadTransactionInstructionsComputePriceInstruction = "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction",
    /// SVM: the compute price is above the cap.
    InvalidExactSvmPayloadTransactionInstructionsComputePriceInstructionTooHigh = "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high",
    /// SVM: not an SPL `TransferChecked`.
    InvalidExactSvmPayloadTransactionInstructionNotSplTokenTransferChecked = "invalid_exact_svm_payload_transaction_instruction_not_spl_token_transfer_checked",
    /// SVM: not a Token-2022 `TransferChecked`.
    InvalidExactSvmPayloadTransactionInstructionNotToken2022TransferChecked = "invalid_exact_svm_payload_transaction_instruction_not_token_2022_transfer_checked",
    /// SVM: the fee payer appears in an instruction's accounts.
    InvalidExactSvmPayloadTransactionFeePayerIncludedInInstructionAccounts = "invalid_exact_svm_payload_transaction_fee_payer_included_in_instruction_accounts",
    /// SVM: the fee payer is the one transferring.
    InvalidExactSvmPayloadTransactionFeePayerTransferringFunds = "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds",
    /// SVM: not a transfer instruction.
    InvalidExactSvmPayloadTransactionNotATransferInstruction = "invalid_exact_svm_payload_transaction_not_a_transfer_instruction",
    /// SVM: the receiver's token account does not exist.
    InvalidExactSvmPayloadTransactionReceiverAtaNotFound = "invalid_exact_svm_payload_transaction_receiver_ata_not_found",
    /// SVM: the sender's token account does not exist.
    InvalidExactSvmPayloadTransactionSenderAtaNotFound = "invalid_exact_svm_payload_transaction_sender_ata_not_found",
    /// SVM: simulation failed.
    InvalidExactSvmPayloadTransactionSimulationFailed = "invalid_exact_svm_payload_transaction_simulation_failed",
    /// SVM: the transfer goes to another token account.
    InvalidExactSvmPayloadTransactionTransferToIncorrectAta = "invalid_exact_svm_payload_transaction_transfer_to_incorrect_ata",
    /// SVM: the block height passed before settlement.
    SettleExactSvmBlockHeightExceeded = "settle_exact_svm_block_height_exceeded",
    /// SVM: confirmation timed out.
    SettleExactSvmTransactionConfirmationTimedOut = "settle_exact_svm_transaction_confirmation_timed_out",

    // What the v2 SDKs emit for `exact` with EIP-3009.
    /// The scheme is not `exact`.
    InvalidExactEvmScheme = "invalid_exact_evm_scheme",
    /// The payload's network differs from the requirement's.
    InvalidExactEvmNetworkMismatch = "invalid_exact_evm_network_mismatch",
    /// `extra.name` or `extra.version` is missing.
    InvalidExactEvmMissingEip712Domain = "invalid_exact_evm_missing_eip712_domain",
    /// The recipient is not `payTo`.
    InvalidExactEvmRecipientMismatch = "invalid_exact_evm_recipient_mismatch",
    /// The signature does not verify.
    InvalidExactEvmSignature = "invalid_exact_evm_signature",
    /// The value differs from the amount.
    InvalidExactEvmAuthorizationValue = "invalid_exact_evm_authorization_value",
    /// The settlement transaction failed on chain.
    InvalidExactEvmTransactionFailed = "invalid_exact_evm_transaction_failed",
    /// The token's EIP-712 name differs from `extra.name`.
    InvalidExactEvmTokenNameMismatch = "invalid_exact_evm_token_name_mismatch",
    /// The token's EIP-712 version differs from `extra.version`.
    InvalidExactEvmTokenVersionMismatch = "invalid_exact_evm_token_version_mismatch",
    /// The token does not implement EIP-3009.
    InvalidExactEvmEip3009NotSupported = "invalid_exact_evm_eip3009_not_supported",
    /// The authorization nonce is already used on chain.
    InvalidExactEvmNonceAlreadyUsed = "invalid_exact_evm_nonce_already_used",
    /// The payer's balance is below the amount.
    InvalidExactEvmInsufficientBalance = "invalid_exact_evm_insufficient_balance",
    /// Simulating the transfer failed.
    InvalidExactEvmTransactionSimulationFailed = "invalid_exact_evm_transaction_simulation_failed",
    /// The transfer event does not match the authorization.
    InvalidExactEvmTransferEventMismatch = "invalid_exact_evm_transfer_event_mismatch",
    /// The ERC-6492 factory is not on the allow-list.
    Eip6492FactoryNotAllowed = "eip6492_factory_not_allowed",
    /// The asset address has no contract code.
    AssetNotDeployedContract = "asset_not_deployed_contract",
    /// The signature could not be parsed (an ERC-6492 wrapper that does not decode…).
    InvalidExactEvmFailedToParseSignature = "invalid_exact_evm_failed_to_parse_signature",
    /// Deploying the payer's ERC-6492 wallet through its factory failed.
    SmartWalletDeploymentFailed = "smart_wallet_deployment_failed",

    // `exact` over Permit2.
    /// The spender is not the x402 Permit2 proxy.
    InvalidPermit2Spender = "invalid_permit2_spender",
    /// The witness recipient is not `payTo`.
    InvalidPermit2RecipientMismatch = "invalid_permit2_recipient_mismatch",
    /// The Permit2 signature does not verify.
    InvalidPermit2Signature = "invalid_permit2_signature",
    /// The permit's deadline has passed.
    Permit2DeadlineExpired = "permit2_deadline_expired",
    /// The witness `validAfter` is in the future.
    Permit2NotYetValid = "permit2_not_yet_valid",
    /// The permitted amount differs from the required amount.
    Permit2AmountMismatch = "permit2_amount_mismatch",
    /// The permitted token is not the asset.
    Permit2TokenMismatch = "permit2_token_mismatch",
    /// The payer has not approved Permit2 (HTTP 412 at the reference server).
    Permit2AllowanceRequired = "permit2_allowance_required",
    /// Simulating the proxy settlement failed.
    Permit2SimulationFailed = "permit2_simulation_failed",
    /// The payer's balance is below the amount.
    Permit2InsufficientBalance = "permit2_insufficient_balance",
    /// The x402 Permit2 proxy has no code on this chain.
    Permit2ProxyNotDeployed = "permit2_proxy_not_deployed",
    /// The proxy refused the amount.
    Permit2InvalidAmount = "permit2_invalid_amount",
    /// The proxy refused the destination.
    Permit2InvalidDestination = "permit2_invalid_destination",
    /// The proxy refused the owner.
    Permit2InvalidOwner = "permit2_invalid_owner",
    /// The proxy was called before `validAfter`.
    Permit2PaymentTooEarly = "permit2_payment_too_early",
    /// The Permit2 nonce is used.
    Permit2InvalidNonce = "permit2_invalid_nonce",
    /// The EIP-2612 permit's value differs from the permitted amount.
    Permit22612AmountMismatch = "permit2_2612_amount_mismatch",

    // The `eip2612GasSponsoring` extension.
    /// The extension's `info` is not the shape the spec gives it.
    InvalidEip2612ExtensionFormat = "invalid_eip2612_extension_format",
    /// The EIP-2612 permit is not the payer's.
    Eip2612FromMismatch = "eip2612_from_mismatch",
    /// The EIP-2612 permit is for another token.
    Eip2612AssetMismatch = "eip2612_asset_mismatch",
    /// The EIP-2612 permit lets someone other than Permit2 spend.
    Eip2612SpenderNotPermit2 = "eip2612_spender_not_permit2",
    /// The EIP-2612 permit expires too soon.
    Eip2612DeadlineExpired = "eip2612_deadline_expired",

    // The `erc20ApprovalGasSponsoring` extension.
    /// The extension's `info` is not the shape the spec gives it, or its transaction is not
    /// one this facilitator funds.
    InvalidErc20ApprovalExtensionFormat = "invalid_erc20_approval_extension_format",
    /// The approval is not the payer's.
    Erc20ApprovalFromMismatch = "erc20_approval_from_mismatch",
    /// The approval is for another token.
    Erc20ApprovalAssetMismatch = "erc20_approval_asset_mismatch",
    /// The approval lets someone other than Permit2 spend.
    Erc20ApprovalSpenderNotPermit2 = "erc20_approval_spender_not_permit2",
    /// The signed transaction does not call the token.
    Erc20ApprovalTxWrongTarget = "erc20_approval_tx_wrong_target",
    /// The signed transaction does not call `approve`.
    Erc20ApprovalTxWrongSelector = "erc20_approval_tx_wrong_selector",
    /// The signed transaction approves someone other than Permit2.
    Erc20ApprovalTxWrongSpender = "erc20_approval_tx_wrong_spender",
    /// The signed transaction's `approve` arguments do not decode.
    Erc20ApprovalTxInvalidCalldata = "erc20_approval_tx_invalid_calldata",
    /// The signed transaction is signed by someone other than the payer.
    Erc20ApprovalTxSignerMismatch = "erc20_approval_tx_signer_mismatch",
    /// No signer can be recovered from the signed transaction (or it is for another chain).
    Erc20ApprovalTxInvalidSignature = "erc20_approval_tx_invalid_signature",
    /// The signed transaction does not decode.
    Erc20ApprovalTxParseFailed = "erc20_approval_tx_parse_failed",
    /// The approval transaction failed on chain.
    Erc20ApprovalTxFailed = "erc20_approval_tx_failed",
    /// The approval transaction could not be broadcast or mined.
    Erc20ApprovalBroadcastFailed = "erc20_approval_broadcast_failed",

    // `upto`.
    /// The scheme is not `upto`.
    InvalidUptoEvmScheme = "invalid_upto_evm_scheme",
    /// The payload's network differs from the requirement's.
    InvalidUptoEvmNetworkMismatch = "invalid_upto_evm_network_mismatch",
    /// The settlement transaction failed on chain.
    InvalidUptoEvmTransactionFailed = "invalid_upto_evm_transaction_failed",
    /// The settlement amount is above the signed maximum.
    InvalidUptoEvmPayloadSettlementExceedsAmount = "invalid_upto_evm_payload_settlement_exceeds_amount",
    /// The amount exceeds what the permit allows.
    UptoAmountExceedsPermitted = "upto_amount_exceeds_permitted",
    /// The caller is not the witness's facilitator.
    UptoUnauthorizedFacilitator = "upto_unauthorized_facilitator",
    /// The witness names another facilitator.
    UptoFacilitatorMismatch = "upto_facilitator_mismatch",

    // Generic codes of the v2 SDKs and the Go core.
    /// The payload type is not one the scheme knows.
    UnsupportedPayloadType = "unsupported_payload_type",
    /// The version is not supported (Go core).
    InvalidVersion = "invalid_version",
    /// The v1 payload is malformed (Go core).
    InvalidV1Payload = "invalid_v1_payload",
    /// The v2 payload is malformed (Go core).
    InvalidV2Payload = "invalid_v2_payload",
    /// No facilitator handles this network (Go core).
    NoFacilitatorForNetwork = "no_facilitator_for_network",
    /// Settlement was sent but is not yet final.
    SettlementPending = "settlement_pending",
}

impl FromStr for ErrorReason {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(Self::parse(s))
    }
}

impl fmt::Display for ErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErrorReason({})", self.as_str())
    }
}

impl Serialize for ErrorReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Self::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_reason_round_trips_and_is_distinct() {
        let mut seen = std::collections::HashSet::new();
        for reason in ErrorReason::KNOWN {
            assert!(
                seen.insert(reason.as_str()),
                "duplicate {}",
                reason.as_str()
            );
            assert_eq!(&ErrorReason::parse(reason.as_str()), reason);
            assert!(!matches!(reason, ErrorReason::Other(_)));
        }
        assert!(ErrorReason::KNOWN.len() >= 80);
    }
}
