//! The `eip2612GasSponsoring` extension: a payer who has not approved Permit2 signs the token's
//! own EIP-2612 permit for it, and the facilitator passes it to the proxy's `settleWithPermit`,
//! which calls `permit` before the transfer: the approval costs the payer no gas.
//!
//! A 402 offers the extension in its `extensions` ([`eip2612_declaration`]); the payer answers with
//! `extensions.eip2612GasSponsoring.info` = `{from, asset, spender (Permit2), amount, nonce,
//! deadline, signature, version}`, numbers in decimal, the signature 65 bytes of hex.

use alloy::network::TransactionBuilder as _;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider as _};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::Signer;
use alloy::sol_types::{SolCall as _, SolStruct as _, eip712_domain};
use coinslot_core::{Error, ErrorReason, JsonObject, PaymentRequirements, Refusal, Result};
use serde::{Deserialize, Serialize};

use super::PERMIT2;
use super::extension::{SponsoringInfo, info_of};
use crate::contracts::IEip2612;

/// The extension's key, in `PaymentRequired.extensions`, `PaymentPayload.extensions` and
/// `/supported`.
pub const EIP2612_GAS_SPONSORING: &str = "eip2612GasSponsoring";

/// The version of the extension's `info` this crate writes and reads.
const VERSION: &str = "1";

/// Seconds the permit must still be valid for at verification (as the Permit2 deadline).
const DEADLINE_BUFFER_SECS: u64 = 6;

/// What `extensions.eip2612GasSponsoring.info` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Eip2612Info {
    /// The payer (the permit's owner).
    #[serde(with = "crate::wire::checksummed")]
    pub from: Address,
    /// The token.
    #[serde(with = "crate::wire::checksummed")]
    pub asset: Address,
    /// Permit2.
    #[serde(with = "crate::wire::checksummed")]
    pub spender: Address,
    /// What Permit2 may move: the Permit2 payment's permitted amount.
    #[serde(with = "crate::wire::decimal")]
    pub amount: U256,
    /// The token's EIP-2612 nonce of the payer.
    #[serde(with = "crate::wire::decimal")]
    pub nonce: U256,
    /// Not valid from this Unix time on.
    #[serde(with = "crate::wire::decimal")]
    pub deadline: U256,
    /// 65 bytes, r ‖ s ‖ v.
    pub signature: Bytes,
    /// The extension's version, `"1"`.
    pub version: String,
}

impl SponsoringInfo for Eip2612Info {
    const KEY: &'static str = EIP2612_GAS_SPONSORING;
    const REASONS: [ErrorReason; 4] = [
        ErrorReason::InvalidEip2612ExtensionFormat,
        ErrorReason::Eip2612FromMismatch,
        ErrorReason::Eip2612AssetMismatch,
        ErrorReason::Eip2612SpenderNotPermit2,
    ];

    fn parties(&self) -> [Address; 3] {
        [self.from, self.asset, self.spender]
    }
}

/// An EIP-2612 permit for Permit2 in the form the proxy's `settleWithPermit` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit2612 {
    /// The allowance granted.
    pub value: U256,
    /// The permit's deadline.
    pub deadline: U256,
    /// The signature's parity, 27 or 28.
    pub v: u8,
    /// The signature's r.
    pub r: B256,
    /// The signature's s.
    pub s: B256,
}

alloy::sol! {
    /// EIP-2612's signed struct.
    struct Permit { address owner; address spender; uint256 value; uint256 nonce; uint256 deadline; }
}

/// What a 402 declares when its facilitator sponsors EIP-2612 approvals: the extension's
/// `{info, schema}`.
pub fn eip2612_declaration() -> JsonObject {
    let address = serde_json::json!({"type": "string", "pattern": "^0x[a-fA-F0-9]{40}$"});
    let number = serde_json::json!({"type": "string", "pattern": "^[0-9]+$"});
    let declared = serde_json::json!({
        "info": {
            "description": "The payer may sign the token's EIP-2612 permit for Permit2 instead \
                            of approving Permit2 itself; the facilitator submits it.",
            "version": VERSION,
        },
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "from": address, "asset": address, "spender": address,
                "amount": number, "nonce": number, "deadline": number,
                "signature": {"type": "string", "pattern": "^0x[a-fA-F0-9]+$"},
                "version": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)*$"},
            },
            "required": ["from", "asset", "spender", "amount", "nonce", "deadline",
                         "signature", "version"],
        },
    });
    JsonObject::from_iter([(EIP2612_GAS_SPONSORING.to_owned(), declared)])
}

/// The payment's EIP-2612 permit for Permit2, checked against the payment: `Ok(None)` when it
/// carries none, a refusal when it carries one that is not the payer's permit of this token
/// to Permit2 for `permitted`, valid long enough. The signature itself is the token's to
/// check, in the settlement's simulation.
pub(crate) fn permit_of(
    extensions: Option<&JsonObject>,
    payer: Address,
    token: Address,
    permitted: U256,
    now: u64,
) -> Result<Option<Permit2612>, Refusal> {
    let Some(info) = info_of::<Eip2612Info>(extensions, payer, token)? else {
        return Ok(None);
    };
    let format = |why: String| Refusal::with(ErrorReason::InvalidEip2612ExtensionFormat, why);
    if info.deadline < U256::from(now.saturating_add(DEADLINE_BUFFER_SECS)) {
        return Err(Refusal::new(ErrorReason::Eip2612DeadlineExpired));
    }
    if info.amount != permitted {
        // The proxy would refuse it (`Permit2612AmountMismatch`).
        return Err(Refusal::with(
            ErrorReason::Permit22612AmountMismatch,
            format!(
                "the permit grants {}, the payment permits {permitted}",
                info.amount
            ),
        ));
    }
    let signature: &[u8; 65] = info
        .signature
        .as_ref()
        .try_into()
        .map_err(|_| format("the signature is not 65 bytes".to_owned()))?;
    let v = match signature[64] {
        v @ (27 | 28) => v,
        v @ (0 | 1) => v + 27,
        _ => return Err(format("the signature's v is not 27 or 28".to_owned())),
    };
    Ok(Some(Permit2612 {
        value: info.amount,
        deadline: info.deadline,
        v,
        r: B256::from_slice(&signature[..32]),
        s: B256::from_slice(&signature[32..64]),
    }))
}

/// The payer's EIP-2612 permit letting Permit2 move `amount` of `token` until `deadline`, as
/// the extension's `info`: `None` when the offer does not name the token's EIP-712 domain
/// (`extra.name`, `extra.version`).
pub(crate) async fn sign_permit<S: Signer + Send + Sync>(
    signer: &S,
    provider: &DynProvider,
    requirements: &PaymentRequirements,
    token: Address,
    amount: U256,
    deadline: U256,
) -> Result<Option<Eip2612Info>> {
    let field = |name: &str| {
        requirements
            .extra
            .as_ref()
            .and_then(|extra| extra.get(name))
            .and_then(|value| value.as_str())
    };
    let (Some(name), Some(version), Some(chain_id)) = (
        field("name"),
        field("version"),
        requirements.network.eip155_chain_id(),
    ) else {
        return Ok(None);
    };
    let owner = signer.address();
    let request = TransactionRequest::default()
        .with_to(token)
        .with_input(IEip2612::noncesCall { owner }.abi_encode());
    let nonce = provider
        .call(request)
        .await
        .map_err(|e| Error::chain("the token's EIP-2612 nonce", e))?;
    let nonce = IEip2612::noncesCall::abi_decode_returns(&nonce)
        .map_err(|e| Error::chain("the token's EIP-2612 nonce", e))?;
    let permit = Permit {
        owner,
        spender: PERMIT2,
        value: amount,
        nonce,
        deadline,
    };
    let domain = eip712_domain! {
        name: name.to_owned(),
        version: version.to_owned(),
        chain_id: chain_id,
        verifying_contract: token,
    };
    let signature = signer
        .sign_hash(&permit.eip712_signing_hash(&domain))
        .await
        .map_err(|e| Error::signing("could not sign the EIP-2612 permit", e))?;
    let info = Eip2612Info {
        from: owner,
        asset: token,
        spender: PERMIT2,
        amount,
        nonce,
        deadline,
        signature: signature.as_bytes().to_vec().into(),
        version: VERSION.to_owned(),
    };
    Ok(Some(info))
}
