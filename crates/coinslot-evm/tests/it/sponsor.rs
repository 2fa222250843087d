//! `eip2612GasSponsoring` on anvil: a payer who never approved Permit2 (and holds no gas) pays
//! `exact` over Permit2 and `upto` by signing the token's EIP-2612 permit for Permit2, which a
//! sponsoring facilitator submits with the settlement; a facilitator that does not sponsor, or
//! a client that cannot read the chain, leaves `permit2_allowance_required`; a permit that does
//! not fit the payment is refused with its reason and moves nothing.

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::{
    ErrorReason, JsonObject, PaymentPayload, PaymentRequirements, SchemeClient, SchemeFacilitator,
    VerifyRequest,
};
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot_evm::permit2::{self, EIP2612_GAS_SPONSORING, PERMIT2};
use coinslot_evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot_testkit::{LocalChain, PERMIT_TOKEN, USDC, permit2_requirements, upto_requirements};
use serde_json::{Value, json};

use crate::common::{evm_chain, payee_balance, pays, refuses};

const AMOUNT: u64 = 7_000;

/// The `exact` Permit2 offer in the plain EIP-2612 token, naming its domain.
fn exact_offer(chain: &LocalChain) -> PaymentRequirements {
    let mut offer = permit2_requirements(chain.accounts().payee.address(), PERMIT_TOKEN, AMOUNT);
    let extra = offer.extra.get_or_insert_with(JsonObject::new);
    extra.insert("name".into(), "Test Token".into());
    extra.insert("version".into(), "1".into());
    offer
}

/// The `upto` offer in USDC, naming its domain, settleable by `facilitator`.
fn upto_offer(chain: &LocalChain, facilitator: Address) -> PaymentRequirements {
    let mut offer = upto_requirements(chain.accounts().payee.address(), USDC, AMOUNT, facilitator);
    let extra = offer.extra.get_or_insert_with(JsonObject::new);
    extra.insert("name".into(), "USDC".into());
    extra.insert("version".into(), "2".into());
    offer
}

/// A payer with tokens and no allowance to Permit2.
async fn unapproved_payer(chain: &LocalChain) -> PrivateKeySigner {
    let payer = PrivateKeySigner::random();
    chain
        .mint_permit_token(payer.address(), U256::from(AMOUNT))
        .await
        .unwrap();
    chain
        .mint_usdc(payer.address(), U256::from(AMOUNT))
        .await
        .unwrap();
    payer
}

#[tokio::test]
async fn a_payer_without_an_allowance_pays_through_its_eip2612_permit() {
    let chain = LocalChain::start().await.unwrap();
    let evm = evm_chain(&chain).await;
    let exact = ExactEvmFacilitator::new(evm.clone()).with_eip2612_gas_sponsoring();
    let upto = UptoEvmFacilitator::new(evm).with_eip2612_gas_sponsoring();
    assert_eq!(exact.extensions(), vec![EIP2612_GAS_SPONSORING.to_owned()]);
    let payer = unapproved_payer(&chain).await;
    let offered = permit2::eip2612_declaration();
    let provider = chain.provider().clone();

    let exact_client = ExactEvmClient::new(payer.clone()).with_provider(provider.clone());
    let upto_client = UptoEvmClient::new(payer.clone()).with_provider(provider);
    let cases: [(&dyn SchemeFacilitator, PaymentPayload, Address); 2] = [
        (
            &exact,
            exact_client
                .create_payment_payload_with(&exact_offer(&chain), None, Some(&offered))
                .await
                .unwrap(),
            PERMIT_TOKEN,
        ),
        (
            &upto,
            upto_client
                .create_payment_payload_with(
                    &upto_offer(&chain, upto.facilitator_address()),
                    None,
                    Some(&offered),
                )
                .await
                .unwrap(),
            USDC,
        ),
    ];
    for (facilitator, payment, token) in cases {
        let info = &payment.extensions.as_ref().unwrap()[EIP2612_GAS_SPONSORING]["info"];
        assert_eq!(info["spender"], PERMIT2.to_checksum(None));
        assert_eq!(info["amount"], AMOUNT.to_string());
        pays(facilitator, &chain, token, payment).await;
        let allowance = permit2::allowance(chain.provider(), token, payer.address());
        assert_eq!(
            allowance.await.unwrap(),
            U256::ZERO,
            "the permit's allowance is used up"
        );
    }
}

#[tokio::test]
async fn without_sponsorship_or_a_provider_the_allowance_is_required() {
    let chain = LocalChain::start().await.unwrap();
    let evm = evm_chain(&chain).await;
    let plain = ExactEvmFacilitator::new(evm.clone());
    let sponsoring = ExactEvmFacilitator::new(evm).with_eip2612_gas_sponsoring();
    let payer = unapproved_payer(&chain).await;
    let offered = permit2::eip2612_declaration();
    let offer = exact_offer(&chain);

    // A client that cannot read the chain signs no permit.
    let blind = ExactEvmClient::new(payer.clone());
    let payment = blind
        .create_payment_payload_with(&offer, None, Some(&offered))
        .await
        .unwrap();
    assert!(payment.extensions.is_none());
    let request = VerifyRequest::v2(payment, offer.clone());
    let verified = sponsoring.verify(&request).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::Permit2AllowanceRequired)
    );

    // A permit the facilitator does not sponsor is ignored.
    let client = ExactEvmClient::new(payer).with_provider(chain.provider().clone());
    let payment = client
        .create_payment_payload_with(&offer, None, Some(&offered))
        .await
        .unwrap();
    assert!(payment.extensions.is_some());
    let request = VerifyRequest::v2(payment, offer);
    let verified = plain.verify(&request).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::Permit2AllowanceRequired)
    );
    let settled = plain.settle(&request).await.unwrap();
    assert_eq!(
        settled.error_reason,
        Some(ErrorReason::Permit2AllowanceRequired)
    );
}

#[tokio::test]
async fn a_permit_that_does_not_fit_the_payment_is_refused_with_its_reason() {
    let chain = LocalChain::start().await.unwrap();
    let exact = ExactEvmFacilitator::new(evm_chain(&chain).await).with_eip2612_gas_sponsoring();
    let payer = unapproved_payer(&chain).await;
    let offer = exact_offer(&chain);
    let client = ExactEvmClient::new(payer.clone()).with_provider(chain.provider().clone());
    let payment = client
        .create_payment_payload_with(&offer, None, Some(&permit2::eip2612_declaration()))
        .await
        .unwrap();
    let with_info = |edit: &dyn Fn(&mut Value)| {
        let mut payment = payment.clone();
        let extensions = payment.extensions.as_mut().unwrap();
        edit(&mut extensions[EIP2612_GAS_SPONSORING]["info"]);
        VerifyRequest::v2(payment, offer.clone())
    };
    let other = Address::repeat_byte(0x55).to_checksum(None);
    let stranger = PrivateKeySigner::random();
    let cases: Vec<(&str, VerifyRequest, ErrorReason)> = vec![
        (
            "no nonce",
            with_info(&|info| {
                info.as_object_mut().unwrap().remove("nonce");
            }),
            ErrorReason::InvalidEip2612ExtensionFormat,
        ),
        (
            "a short signature",
            with_info(&|info| info["signature"] = json!("0x1234")),
            ErrorReason::InvalidEip2612ExtensionFormat,
        ),
        (
            "another owner",
            with_info(&|info| info["from"] = json!(other)),
            ErrorReason::Eip2612FromMismatch,
        ),
        (
            "another token",
            with_info(&|info| info["asset"] = json!(other)),
            ErrorReason::Eip2612AssetMismatch,
        ),
        (
            "another spender",
            with_info(&|info| info["spender"] = json!(other)),
            ErrorReason::Eip2612SpenderNotPermit2,
        ),
        (
            "expired",
            with_info(&|info| info["deadline"] = json!("1")),
            ErrorReason::Eip2612DeadlineExpired,
        ),
        (
            "another amount",
            with_info(&|info| info["amount"] = json!((AMOUNT - 1).to_string())),
            ErrorReason::Permit22612AmountMismatch,
        ),
        // The token refuses the permit; the proxy goes on without it, and Permit2 has no
        // allowance to move.
        (
            "signed by someone else",
            with_info(&|info| {
                let signature =
                    alloy::signers::SignerSync::sign_hash_sync(&stranger, &[7u8; 32].into())
                        .unwrap();
                info["signature"] = json!(alloy::hex::encode_prefixed(signature.as_bytes()));
            }),
            ErrorReason::Permit2AllowanceRequired,
        ),
    ];
    let before = payee_balance(&chain, PERMIT_TOKEN).await;
    for (name, request, reason) in cases {
        refuses(&exact, name, &request, &reason).await;
    }
    assert_eq!(
        payee_balance(&chain, PERMIT_TOKEN).await,
        before,
        "nothing moved"
    );
}
