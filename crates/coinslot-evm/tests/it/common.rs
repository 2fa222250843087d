//! Fixtures: requirements, hand-made authorizations signed as a payer would, and a facilitator
//! over the local chain.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, U256};
use alloy::signers::SignerSync as _;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolStruct as _, eip712_domain};
use coinslot_core::{PaymentPayload, PaymentRequirements, VerifyRequest};
use coinslot_evm::EvmChain;
use coinslot_evm::exact::{
    Authorization, ExactEvmFacilitator, ExactEvmPayload, TransferWithAuthorization,
};
use coinslot_evm::permit2::{Permit2Authorization, Permit2Payload, Permitted, Witness};
use coinslot_testkit::{CHAIN_ID, LocalChain, USDC};

/// The price every test asks: 0.01 USDC.
pub(crate) const AMOUNT: u64 = 10_000;

pub(crate) use coinslot_testkit::exact_requirements as requirements;

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What an honest client would authorize for `requirements`, from `from`.
pub(crate) fn authorization(from: Address, requirements: &PaymentRequirements) -> Authorization {
    let now = unix_now();
    Authorization {
        from,
        to: requirements.pay_to.parse().unwrap(),
        value: requirements.amount.as_u256(),
        valid_after: U256::from(now - 600),
        valid_before: U256::from(now + 60),
        nonce: B256::random(),
    }
}

/// The EIP-712 hash of `authorization` under the token's domain on `chain_id` at `token`.
pub(crate) fn signing_hash(authorization: &Authorization, chain_id: u64, token: Address) -> B256 {
    let domain = eip712_domain! {
        name: "USDC",
        version: "2",
        chain_id: chain_id,
        verifying_contract: token,
    };
    TransferWithAuthorization::from(authorization).eip712_signing_hash(&domain)
}

/// `authorization` signed by `key` (65 bytes, r ‖ s ‖ v) for the local USDC.
pub(crate) fn signed(key: &PrivateKeySigner, authorization: Authorization) -> ExactEvmPayload {
    let hash = signing_hash(&authorization, CHAIN_ID, USDC);
    ExactEvmPayload {
        signature: key
            .sign_hash_sync(&hash)
            .unwrap()
            .as_bytes()
            .to_vec()
            .into(),
        authorization,
    }
}

/// A v2 request carrying `payload` for `requirements`.
pub(crate) fn request(
    requirements: &PaymentRequirements,
    payload: &ExactEvmPayload,
) -> VerifyRequest {
    request_with(requirements, serde_json::to_value(payload).unwrap())
}

/// A v2 request carrying any JSON object as its payload.
pub(crate) fn request_with(
    requirements: &PaymentRequirements,
    payload: serde_json::Value,
) -> VerifyRequest {
    let serde_json::Value::Object(payload) = payload else {
        panic!("a payload is an object")
    };
    VerifyRequest::v2(
        PaymentPayload::new(requirements.clone(), payload, None),
        requirements.clone(),
    )
}

/// The `index`th of the keys the testkit keeps for settlements.
pub(crate) fn settler(chain: &LocalChain, index: usize) -> PrivateKeySigner {
    chain.accounts().settlers[index].clone()
}

/// A chain whose facilitator settles with [`settler`] 0.
pub(crate) async fn evm_chain(chain: &LocalChain) -> Arc<EvmChain> {
    evm_chain_with(chain, |builder| builder).await
}

pub(crate) async fn evm_chain_with(
    chain: &LocalChain,
    configure: impl FnOnce(coinslot_evm::EvmChainBuilder) -> coinslot_evm::EvmChainBuilder,
) -> Arc<EvmChain> {
    let builder = EvmChain::builder(chain.provider().clone())
        .with_signer(settler(chain, 0))
        .with_receipt_timeout(Duration::from_secs(10));
    Arc::new(configure(builder).build().await.unwrap())
}

pub(crate) async fn facilitator(chain: &LocalChain) -> ExactEvmFacilitator {
    ExactEvmFacilitator::new(evm_chain(chain).await)
}

/// What an honest client would sign through Permit2 for `requirements`, from `from`, with
/// `witness`.
pub(crate) fn permit2_authorization<W>(
    from: Address,
    requirements: &PaymentRequirements,
    witness: W,
) -> Permit2Authorization<W>
where
    W: Witness,
{
    Permit2Authorization {
        from,
        permitted: Permitted {
            token: requirements.asset.parse().unwrap(),
            amount: requirements.amount.as_u256(),
        },
        spender: W::PROXY,
        nonce: U256::from_be_bytes(B256::random().0),
        deadline: U256::from(unix_now() + 60),
        witness,
    }
}

/// `authorization` signed by `key` on the local chain.
pub(crate) fn permit2_signed<W: Witness>(
    key: &PrivateKeySigner,
    authorization: Permit2Authorization<W>,
) -> Permit2Payload<W> {
    permit2_signed_on(key, authorization, CHAIN_ID)
}

/// `authorization` signed by `key` under Permit2's domain on `chain_id`.
pub(crate) fn permit2_signed_on<W: Witness>(
    key: &PrivateKeySigner,
    authorization: Permit2Authorization<W>,
    chain_id: u64,
) -> Permit2Payload<W> {
    let hash = W::signing_hash(&authorization, chain_id);
    Permit2Payload {
        signature: key
            .sign_hash_sync(&hash)
            .unwrap()
            .as_bytes()
            .to_vec()
            .into(),
        permit2_authorization: authorization,
    }
}

/// A v2 request carrying a Permit2 `payload` for `requirements`.
pub(crate) fn permit2_request<W: Witness>(
    requirements: &PaymentRequirements,
    payload: &Permit2Payload<W>,
) -> VerifyRequest {
    request_with(requirements, serde_json::to_value(payload).unwrap())
}

/// That `facilitator` refuses `request` with `reason` at verification and at settlement, and
/// sends nothing.
pub(crate) async fn refuses(
    facilitator: &dyn coinslot_core::SchemeFacilitator,
    name: &str,
    request: &VerifyRequest,
    reason: &coinslot_core::ErrorReason,
) {
    let verified = facilitator.verify(request).await.unwrap();
    assert_eq!(
        verified.invalid_reason.as_ref(),
        Some(reason),
        "{name}: {verified:?}"
    );
    let settled = facilitator.settle(request).await.unwrap();
    assert_eq!(
        settled.error_reason.as_ref(),
        Some(reason),
        "{name}: {settled:?}"
    );
    assert_eq!(settled.transaction(), "", "{name}: nothing sent");
}

/// The payee's balance of `token`.
pub(crate) async fn payee_balance(chain: &LocalChain, token: Address) -> U256 {
    chain
        .token_balance(token, chain.accounts().payee.address())
        .await
        .unwrap()
}

/// That `facilitator` verifies `payment` as offered and settles it, moving exactly the offer's
/// amount of `token` to the payee; the request, for what the test does next.
pub(crate) async fn pays(
    facilitator: &dyn coinslot_core::SchemeFacilitator,
    chain: &LocalChain,
    token: Address,
    payment: PaymentPayload,
) -> VerifyRequest {
    let offer = payment.accepted.clone();
    let amount = offer.amount.as_u256();
    let request = VerifyRequest::v2(payment, offer);
    let verified = facilitator.verify(&request).await.unwrap();
    assert!(verified.is_valid, "{verified:?}");
    let before = payee_balance(chain, token).await;
    let settled = facilitator.settle(&request).await.unwrap();
    assert!(settled.success, "{settled:?}");
    assert_eq!(payee_balance(chain, token).await - before, amount);
    request
}
