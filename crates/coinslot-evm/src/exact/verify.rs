//! The facilitator side of `exact` with EIP-3009: every check a payment must pass, in the
//! reference order, each failure with its reason string.
//!
//! The local checks come first and cost no RPC for a key-signed payment: scheme, network, the
//! EIP-712 domain in `extra`, the payload's shape, the signature ([`signature`](crate::signature):
//! ECDSA recovering `from`, low-s), `to == payTo`, that the payer is not the payee,
//! `validBefore ≥ now + 6`, `validAfter ≤ now`, `value == amount`, and the asset. A contract
//! wallet's signature needs one `eth_call` (ERC-1271). Then the chain
//! ([`simulate`](super::simulate)): the asset holds code, and an `eth_call` of the transfer
//! itself; when that fails, the nonce's state and the payer's balance say why.

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::sol_types::{Eip712Domain, SolCall as _, SolStruct as _};
use coinslot_core::{ErrorReason, Network, PaymentParts, Refusal, Result, VerifyRequest};

use super::SCHEME;
use super::types::{ExactEvmPayload, TransferWithAuthorization};
use crate::chain::{Checked, EvmChain};
use crate::contracts::IEip3009Token;
use crate::erc6492;
use crate::policy::Policy;
use crate::signature::{PayerSignature, SignatureReasons, check_signature, ecdsa_signer};

/// Seconds an authorization must still be valid for at verification: time for the settlement
/// to be mined (the reference's block buffer).
pub(super) const VALID_BEFORE_BUFFER_SECS: u64 = 6;

/// A payment that passed the checks: what settlement needs.
#[derive(Debug)]
pub(super) struct Verified {
    pub(super) asset: Address,
    pub(super) payload: ExactEvmPayload,
    pub(super) signature: PayerSignature,
}

/// The request seen one way whatever its version; a v1 requirement whose network name is
/// unknown is refused.
pub(super) fn parts_of(request: &VerifyRequest) -> Result<PaymentParts<'_>, Refusal> {
    request
        .parts()
        .map_err(|e| Refusal::with(ErrorReason::InvalidExactEvmNetworkMismatch, e.to_string()))
}

/// Everything up to and including the signature and the fields it covers; no chain reads
/// unless the payer is a contract wallet.
pub(super) async fn check_payment(
    chain: &EvmChain,
    policy: &Policy,
    parts: &PaymentParts<'_>,
    now: u64,
) -> Checked<Verified> {
    let terms = match check_terms(chain.chain_id(), policy, parts) {
        Ok(terms) => terms,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let authorization = &terms.payload.authorization;
    let signature = match check_signature(
        chain,
        &policy.erc6492_factories,
        terms.hash,
        authorization.from,
        &terms.payload.signature,
        &SignatureReasons::EIP3009,
    )
    .await?
    {
        Ok(signature) => signature,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(check_authorization(&terms, parts, now).map(|()| Verified {
        asset: terms.asset,
        payload: terms.payload,
        signature,
    }))
}

/// The local checks alone, for a payment signed by a key: `Some` answer when they decide it,
/// `None` when the signature is not a key's signature of `from` (a contract wallet's, which
/// only the chain can check).
pub(super) fn check_payment_locally(
    chain_id: u64,
    policy: &Policy,
    parts: &PaymentParts<'_>,
    now: u64,
) -> Option<Result<Address, Refusal>> {
    let terms = match check_terms(chain_id, policy, parts) {
        Ok(terms) => terms,
        Err(refusal) => return Some(Err(refusal)),
    };
    let from = terms.payload.authorization.from;
    if erc6492::is_wrapped(&terms.payload.signature) {
        return None;
    }
    match ecdsa_signer(terms.hash, &terms.payload.signature) {
        Some((signer, ..)) if signer == from => {
            Some(check_authorization(&terms, parts, now).map(|()| from))
        }
        _ => None,
    }
}

/// What the signature covers, read from a request whose terms are acceptable.
struct Terms {
    asset: Address,
    pay_to: Address,
    payload: ExactEvmPayload,
    /// The EIP-712 hash the payer signed.
    hash: B256,
}

/// The scheme is `exact` and the network this chain, in the payment and the requirement alike.
pub(super) fn check_kind(chain_id: u64, parts: &PaymentParts<'_>) -> Result<(), Refusal> {
    let network = Network::eip155(chain_id);
    let requirements = &parts.requirements;
    if parts.scheme != SCHEME || requirements.scheme != SCHEME {
        return Err(Refusal::new(ErrorReason::InvalidExactEvmScheme));
    }
    if parts.network != parts.requirements_network || requirements.network != network {
        return Err(Refusal::with(
            ErrorReason::InvalidExactEvmNetworkMismatch,
            format!("this facilitator settles on {network}"),
        ));
    }
    Ok(())
}

/// Scheme, network, EIP-712 domain, payload shape, addresses and the operator's assets.
fn check_terms(chain_id: u64, policy: &Policy, parts: &PaymentParts<'_>) -> Result<Terms, Refusal> {
    check_kind(chain_id, parts)?;
    let requirements = &parts.requirements;
    let extra = requirements.extra.as_ref();
    let text = |name: &str| {
        extra
            .and_then(|extra| extra.get(name))
            .and_then(|value| value.as_str())
            .filter(|value| !value.is_empty())
    };
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Err(Refusal::new(
            ErrorReason::InvalidExactEvmMissingEip712Domain,
        ));
    };
    if let Some(method) = text("assetTransferMethod").filter(|m| *m != "eip3009") {
        return Err(Refusal::with(
            ErrorReason::UnsupportedPayloadType,
            format!("assetTransferMethod {method:?} is not supported by this facilitator"),
        ));
    }
    let payload = ExactEvmPayload::from_object(parts.payload).map_err(|e| {
        Refusal::with(
            ErrorReason::InvalidPayload,
            format!("not an EIP-3009 payload: {e}"),
        )
    })?;
    let (Ok(asset), Ok(pay_to)) = (
        requirements.asset.parse::<Address>(),
        requirements.pay_to.parse::<Address>(),
    ) else {
        return Err(Refusal::with(
            ErrorReason::InvalidPaymentRequirements,
            "asset and payTo must be EVM addresses",
        ));
    };
    policy.check_asset(asset)?;
    let domain = Eip712Domain::new(
        Some(name.to_owned().into()),
        Some(version.to_owned().into()),
        Some(U256::from(chain_id)),
        Some(asset),
        None,
    );
    let hash = TransferWithAuthorization::from(&payload.authorization).eip712_signing_hash(&domain);
    Ok(Terms {
        asset,
        pay_to,
        payload,
        hash,
    })
}

/// What the signed authorization says against the requirement: recipient, time window, value
/// and the asset the payer accepted.
fn check_authorization(terms: &Terms, parts: &PaymentParts<'_>, now: u64) -> Result<(), Refusal> {
    let authorization = &terms.payload.authorization;
    let requirements = &parts.requirements;
    if authorization.to != terms.pay_to {
        return Err(Refusal::new(ErrorReason::InvalidExactEvmRecipientMismatch));
    }
    if authorization.from == terms.pay_to {
        // It would move nothing, and the facilitator would pay the gas.
        return Err(Refusal::with(
            ErrorReason::InvalidPayment,
            "the payer is the payee: a payment to oneself pays nothing",
        ));
    }
    if authorization.valid_before < U256::from(now.saturating_add(VALID_BEFORE_BUFFER_SECS)) {
        return Err(Refusal::new(
            ErrorReason::InvalidExactEvmPayloadAuthorizationValidBefore,
        ));
    }
    if authorization.valid_after > U256::from(now) {
        return Err(Refusal::new(
            ErrorReason::InvalidExactEvmPayloadAuthorizationValidAfter,
        ));
    }
    if authorization.value != requirements.amount.as_u256() {
        return Err(Refusal::with(
            ErrorReason::InvalidExactEvmPayloadAuthorizationValueMismatch,
            format!(
                "authorized {} but the requirement is {}",
                authorization.value, requirements.amount
            ),
        ));
    }
    if let Some(accepted) = parts.accepted.map(|offer| offer.asset.as_str())
        && accepted.parse::<Address>().ok() != Some(terms.asset)
    {
        return Err(Refusal::with(
            ErrorReason::InvalidPaymentRequirements,
            format!(
                "the payment was made for asset {accepted}, the requirement asks for {}",
                requirements.asset
            ),
        ));
    }
    Ok(())
}

/// The calldata of `transferWithAuthorization` for a verified payment.
pub(super) fn transfer_calldata(verified: &Verified) -> Bytes {
    let a = &verified.payload.authorization;
    match &verified.signature {
        PayerSignature::Ecdsa { v, r, s } => IEip3009Token::transferWithAuthorization_0Call {
            from: a.from,
            to: a.to,
            value: a.value,
            validAfter: a.valid_after,
            validBefore: a.valid_before,
            nonce: a.nonce,
            v: *v,
            r: *r,
            s: *s,
        }
        .abi_encode()
        .into(),
        PayerSignature::Contract(signature)
        | PayerSignature::Counterfactual(erc6492::Wrapped { signature, .. }) => {
            IEip3009Token::transferWithAuthorization_1Call {
                from: a.from,
                to: a.to,
                value: a.value,
                validAfter: a.valid_after,
                validBefore: a.valid_before,
                nonce: a.nonce,
                signature: signature.clone(),
            }
            .abi_encode()
            .into()
        }
    }
}

/// The rules alone, without a chain: a key-signed payment is decided by the local checks.
#[cfg(test)]
mod tests {
    use alloy::primitives::address;
    use alloy::signers::SignerSync as _;
    use alloy::signers::local::PrivateKeySigner;
    use coinslot_core::{PaymentPayload, PaymentRequirements};

    use super::*;
    use crate::exact::types::Authorization;

    const CHAIN_ID: u64 = 84532;
    const USDC: Address = address!("0x036CbD53842c5426634e7929541eC2318f3dCF7e");
    const PAY_TO: Address = address!("0x209693Bc6afc0C5328bA36FaF03C514EF312287C");
    const NOW: u64 = 1_800_000_000;

    fn offer() -> PaymentRequirements {
        serde_json::from_value(serde_json::json!({
            "scheme": "exact", "network": "eip155:84532", "amount": "1000",
            "asset": USDC.to_checksum(None), "payTo": PAY_TO.to_checksum(None),
            "maxTimeoutSeconds": 60, "extra": {"name": "USDC", "version": "2"},
        }))
        .unwrap()
    }

    fn authorization(from: Address) -> Authorization {
        Authorization {
            from,
            to: PAY_TO,
            value: U256::from(1000),
            valid_after: U256::ZERO,
            valid_before: U256::from(NOW + 60),
            nonce: B256::repeat_byte(7),
        }
    }

    /// `authorization` signed by `key` under the offer's domain, for `offer`.
    fn request(
        key: &PrivateKeySigner,
        authorization: Authorization,
        offer: &PaymentRequirements,
    ) -> VerifyRequest {
        let domain = Eip712Domain::new(
            Some("USDC".into()),
            Some("2".into()),
            Some(U256::from(CHAIN_ID)),
            Some(USDC),
            None,
        );
        let hash = TransferWithAuthorization::from(&authorization).eip712_signing_hash(&domain);
        let signature = key.sign_hash_sync(&hash).unwrap().as_bytes().to_vec();
        let payload = ExactEvmPayload {
            signature: signature.into(),
            authorization,
        };
        let payload = serde_json::from_value(serde_json::to_value(payload).unwrap()).unwrap();
        VerifyRequest::v2(
            PaymentPayload::new(offer.clone(), payload, None),
            offer.clone(),
        )
    }

    fn decide(request: &VerifyRequest, policy: &Policy) -> Option<Result<Address, Refusal>> {
        check_payment_locally(CHAIN_ID, policy, &parts_of(request).unwrap(), NOW)
    }

    fn refused(request: &VerifyRequest) -> ErrorReason {
        match decide(request, &Policy::default()) {
            Some(Err(refusal)) => refusal.reason,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_key_signed_payment_is_decided_without_the_chain() {
        let key = PrivateKeySigner::random();
        let request = request(&key, authorization(key.address()), &offer());
        assert_eq!(
            decide(&request, &Policy::default()).unwrap().unwrap(),
            key.address()
        );
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        let key = PrivateKeySigner::random();
        let from = key.address();
        let with = |edit: &dyn Fn(&mut Authorization)| {
            let mut a = authorization(from);
            edit(&mut a);
            request(&key, a, &offer())
        };
        let offered = |edit: &dyn Fn(&mut PaymentRequirements)| {
            let mut o = offer();
            edit(&mut o);
            request(&key, authorization(from), &o)
        };
        let cases = [
            (
                with(&|a| a.to = Address::repeat_byte(9)),
                ErrorReason::InvalidExactEvmRecipientMismatch,
            ),
            (
                with(&|a| a.valid_before = U256::from(NOW + 5)),
                ErrorReason::InvalidExactEvmPayloadAuthorizationValidBefore,
            ),
            (
                with(&|a| a.valid_after = U256::from(NOW + 1)),
                ErrorReason::InvalidExactEvmPayloadAuthorizationValidAfter,
            ),
            (
                with(&|a| a.value = U256::from(999)),
                ErrorReason::InvalidExactEvmPayloadAuthorizationValueMismatch,
            ),
            (
                offered(&|o| o.scheme = "upto".into()),
                ErrorReason::InvalidExactEvmScheme,
            ),
            (
                offered(&|o| o.network = Network::base()),
                ErrorReason::InvalidExactEvmNetworkMismatch,
            ),
            (
                offered(&|o| o.extra = None),
                ErrorReason::InvalidExactEvmMissingEip712Domain,
            ),
            (
                offered(&|o| {
                    o.extra
                        .as_mut()
                        .unwrap()
                        .insert("assetTransferMethod".into(), "permit2".into());
                }),
                ErrorReason::UnsupportedPayloadType,
            ),
            (
                offered(&|o| o.pay_to = "not an address".into()),
                ErrorReason::InvalidPaymentRequirements,
            ),
        ];
        for (request, reason) in cases {
            assert_eq!(refused(&request), reason);
        }
        // A payment to oneself.
        let mut to_self = offer();
        to_self.pay_to = from.to_checksum(None);
        let mut a = authorization(from);
        a.to = from;
        assert_eq!(
            refused(&request(&key, a, &to_self)),
            ErrorReason::InvalidPayment
        );
        // An asset the operator does not settle.
        let policy = Policy {
            assets: vec![Address::repeat_byte(1)],
            ..Policy::default()
        };
        let request = request(&key, authorization(from), &offer());
        assert!(matches!(
            decide(&request, &policy),
            Some(Err(Refusal {
                reason: ErrorReason::InvalidPaymentRequirements,
                ..
            }))
        ));
    }

    #[test]
    fn a_signature_that_is_not_the_payers_key_is_left_to_the_chain() {
        // Signed by another key: perhaps a contract wallet's, which only the chain can check.
        let key = PrivateKeySigner::random();
        let stranger = PrivateKeySigner::random();
        let request = request(&stranger, authorization(key.address()), &offer());
        assert!(decide(&request, &Policy::default()).is_none());
    }

    #[test]
    fn a_payload_that_is_not_eip3009_is_refused() {
        let mut request = request(
            &PrivateKeySigner::random(),
            authorization(Address::ZERO),
            &offer(),
        );
        if let VerifyRequest::V2 {
            payment_payload, ..
        } = &mut request
        {
            payment_payload.payload.remove("authorization");
        }
        assert_eq!(refused(&request), ErrorReason::InvalidPayload);
    }
}
