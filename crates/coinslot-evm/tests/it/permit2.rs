//! `exact` over Permit2 on the local chain: any ERC-20 paid (our plain EIP-2612 token has no
//! EIP-3009), each refusal with its reason and nothing moved, the client's choice of method.

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::{
    ErrorReason, PaymentRequirements, SchemeClient, SchemeFacilitator, VerifyRequest,
};
use coinslot_evm::exact::{ExactEvmClient, payment_id};
use coinslot_evm::permit2::{ExactWitness, Permit2Authorization, UPTO_PROXY};
use coinslot_testkit::{LocalChain, PERMIT_TOKEN, USDC, permit2_requirements};
use serde_json::json;

use crate::common::{
    facilitator, permit2_authorization, permit2_request, permit2_signed, permit2_signed_on,
    unix_now,
};

const AMOUNT: u64 = 7_000;

/// The payer's and the payee's balances of the plain token.
async fn balances(chain: &LocalChain) -> (U256, U256) {
    let accounts = chain.accounts();
    let of = |owner: Address| chain.token_balance(PERMIT_TOKEN, owner);
    (
        of(accounts.payer.address()).await.unwrap(),
        of(accounts.payee.address()).await.unwrap(),
    )
}

/// An `exact` witness paying `requirements`' payee, valid from ten minutes ago.
fn witness(requirements: &PaymentRequirements) -> ExactWitness {
    ExactWitness {
        to: requirements.pay_to.parse().unwrap(),
        valid_after: U256::from(unix_now() - 600),
    }
}

#[tokio::test]
async fn a_token_without_eip3009_is_paid_through_permit2() {
    let chain = LocalChain::start().await.unwrap();
    let payer = chain.accounts().payer.clone();
    chain.approve_permit2(&payer, PERMIT_TOKEN).await.unwrap();
    let exact = facilitator(&chain).await;
    let client = ExactEvmClient::new(payer.clone());
    let payee = chain.accounts().payee.address();

    // Asked for by name, and chosen by the client when the offer names no EIP-712 domain.
    let asked = permit2_requirements(payee, PERMIT_TOKEN, AMOUNT);
    let unnamed = PaymentRequirements {
        extra: None,
        ..asked.clone()
    };
    for offer in [asked, unnamed] {
        let before = balances(&chain).await;
        let payment = client.create_payment_payload(&offer, None).await.unwrap();
        assert!(payment.payload.contains_key("permit2Authorization"));
        let request = VerifyRequest::v2(payment, offer);
        assert_eq!(
            exact.verify_local(&request).map(|answer| answer.is_valid),
            Some(true)
        );
        let verified = exact.verify(&request).await.unwrap();
        assert!(verified.is_valid, "{verified:?}");
        assert_eq!(verified.payer, Some(payer.address().to_checksum(None)));

        let settled = exact.settle(&request).await.unwrap();
        assert!(settled.success, "{settled:?}");
        assert_eq!(
            settled.amount.map(|a| a.as_u256()),
            Some(U256::from(AMOUNT))
        );
        let after = balances(&chain).await;
        assert_eq!(before.0 - after.0, U256::from(AMOUNT));
        assert_eq!(after.1 - before.1, U256::from(AMOUNT));
    }
}

#[tokio::test]
async fn each_bad_permit2_payment_is_refused_with_its_reason_and_moves_nothing() {
    let chain = LocalChain::start().await.unwrap();
    let accounts = chain.accounts();
    let payer = accounts.payer.clone();
    chain.approve_permit2(&payer, PERMIT_TOKEN).await.unwrap();
    let exact = facilitator(&chain).await;
    let offer = permit2_requirements(accounts.payee.address(), PERMIT_TOKEN, AMOUNT);
    let honest = || permit2_authorization(payer.address(), &offer, witness(&offer));
    let now = unix_now();
    let edited = |edit: &dyn Fn(&mut Permit2Authorization<ExactWitness>)| {
        let mut a = honest();
        edit(&mut a);
        permit2_request(&offer, &permit2_signed(&payer, a))
    };
    let signed_then = |edit: &dyn Fn(&mut Permit2Authorization<ExactWitness>)| {
        let mut p = permit2_signed(&payer, honest());
        edit(&mut p.permit2_authorization);
        permit2_request(&offer, &p)
    };

    // One payment settled: its nonce is used.
    let used = permit2_request(&offer, &permit2_signed(&payer, honest()));
    assert!(exact.settle(&used).await.unwrap().success);

    // A payer who never approved Permit2, and one who did but holds none of the token.
    let unapproved = accounts.others[0].clone();
    chain
        .mint_permit_token(unapproved.address(), U256::from(AMOUNT))
        .await
        .unwrap();
    let penniless = accounts.others[1].clone();
    chain
        .approve_permit2(&penniless, PERMIT_TOKEN)
        .await
        .unwrap();
    let paid_by = |key: &PrivateKeySigner| {
        let a = permit2_authorization(key.address(), &offer, witness(&offer));
        permit2_request(&offer, &permit2_signed(key, a))
    };
    let before = balances(&chain).await;

    let stranger = PrivateKeySigner::random();
    let mut flipped = permit2_signed(&payer, honest());
    let mut bytes = flipped.signature.to_vec();
    bytes[10] ^= 1;
    flipped.signature = bytes.into();
    let eip3009_offer = PaymentRequirements {
        extra: Some(serde_json::from_value(json!({"assetTransferMethod": "eip3009"})).unwrap()),
        ..offer.clone()
    };
    let to_self = PaymentRequirements {
        pay_to: payer.address().to_checksum(None),
        ..offer.clone()
    };
    let mut malformed = serde_json::to_value(permit2_signed(&payer, honest())).unwrap();
    malformed["permit2Authorization"]
        .as_object_mut()
        .unwrap()
        .remove("deadline");

    let cases: Vec<(&str, VerifyRequest, ErrorReason)> = vec![
        (
            "the upto proxy as spender",
            edited(&|a| a.spender = UPTO_PROXY),
            ErrorReason::InvalidPermit2Spender,
        ),
        (
            "wrong recipient",
            edited(&|a| a.witness.to = Address::repeat_byte(0x77)),
            ErrorReason::InvalidPermit2RecipientMismatch,
        ),
        (
            "expired",
            edited(&|a| a.deadline = U256::from(now - 1)),
            ErrorReason::Permit2DeadlineExpired,
        ),
        (
            "deadline inside the 6 s buffer",
            edited(&|a| a.deadline = U256::from(now + 3)),
            ErrorReason::Permit2DeadlineExpired,
        ),
        (
            "not yet valid",
            edited(&|a| a.witness.valid_after = U256::from(now + 120)),
            ErrorReason::Permit2NotYetValid,
        ),
        (
            "underpayment",
            edited(&|a| a.permitted.amount = U256::from(AMOUNT - 1)),
            ErrorReason::Permit2AmountMismatch,
        ),
        (
            "overpayment",
            edited(&|a| a.permitted.amount = U256::from(AMOUNT + 1)),
            ErrorReason::Permit2AmountMismatch,
        ),
        (
            "another token",
            edited(&|a| a.permitted.token = USDC),
            ErrorReason::Permit2TokenMismatch,
        ),
        (
            "a flipped signature byte",
            permit2_request(&offer, &flipped),
            ErrorReason::InvalidPermit2Signature,
        ),
        (
            "signed by another key",
            permit2_request(&offer, &{
                let mut p = permit2_signed(&stranger, honest());
                p.permit2_authorization.from = payer.address();
                p
            }),
            ErrorReason::InvalidPermit2Signature,
        ),
        (
            "signed for another chain",
            permit2_request(&offer, &permit2_signed_on(&payer, honest(), 1)),
            ErrorReason::InvalidPermit2Signature,
        ),
        (
            "the nonce changed after signing",
            signed_then(&|a| a.nonce += U256::from(1)),
            ErrorReason::InvalidPermit2Signature,
        ),
        (
            "the deadline moved after signing",
            signed_then(&|a| a.deadline += U256::from(1)),
            ErrorReason::InvalidPermit2Signature,
        ),
        ("the nonce used", used, ErrorReason::Permit2InvalidNonce),
        (
            "no Permit2 allowance",
            paid_by(&unapproved),
            ErrorReason::Permit2AllowanceRequired,
        ),
        (
            "no balance",
            paid_by(&penniless),
            ErrorReason::Permit2InsufficientBalance,
        ),
        (
            "a Permit2 payment for an EIP-3009 offer",
            permit2_request(&eip3009_offer, &permit2_signed(&payer, honest())),
            ErrorReason::UnsupportedPayloadType,
        ),
        (
            "to oneself",
            permit2_request(
                &to_self,
                &permit2_signed(
                    &payer,
                    permit2_authorization(payer.address(), &to_self, witness(&to_self)),
                ),
            ),
            ErrorReason::InvalidPayment,
        ),
        (
            "no deadline",
            crate::common::request_with(&offer, malformed),
            ErrorReason::InvalidPayload,
        ),
    ];
    for (name, request, reason) in cases {
        let verified = exact.verify(&request).await.unwrap();
        assert!(!verified.is_valid, "{name}");
        assert_eq!(
            verified.invalid_reason.as_ref(),
            Some(&reason),
            "{name}: {verified:?}"
        );
        let settled = exact.settle(&request).await.unwrap();
        assert!(!settled.success, "{name}");
        assert_eq!(
            settled.error_reason.as_ref(),
            Some(&reason),
            "{name}: {settled:?}"
        );
        assert_eq!(settled.transaction(), "", "{name}: nothing sent");
        assert_eq!(balances(&chain).await, before, "{name}: nothing moved");
    }
}

#[tokio::test]
async fn the_payment_id_is_the_payer_and_nonce_whatever_the_encoding() {
    let key = PrivateKeySigner::random();
    let offer = permit2_requirements(Address::repeat_byte(0x22), PERMIT_TOKEN, AMOUNT);
    let payload = permit2_signed(
        &key,
        permit2_authorization(key.address(), &offer, witness(&offer)),
    );
    let decimal = permit2_request(&offer, &payload);
    let mut hex = serde_json::to_value(&payload).unwrap();
    hex["permit2Authorization"]["nonce"] =
        format!("{:#x}", payload.permit2_authorization.nonce).into();
    let hex = crate::common::request_with(&offer, hex);
    let id = payment_id(&decimal).unwrap();
    assert_eq!(payment_id(&hex), Some(id.clone()));
    assert!(id.as_str().starts_with("permit2/eip155:84532/"), "{id:?}");

    let other = permit2_signed(
        &key,
        permit2_authorization(key.address(), &offer, witness(&offer)),
    );
    assert_ne!(payment_id(&permit2_request(&offer, &other)), Some(id));
}

#[tokio::test]
async fn the_client_prefers_eip3009_then_permit2_as_the_spec_orders() {
    let client = ExactEvmClient::new(PrivateKeySigner::random());
    let offer = |extra: serde_json::Value| PaymentRequirements {
        extra: serde_json::from_value(extra).unwrap(),
        ..permit2_requirements(Address::repeat_byte(0x22), USDC, AMOUNT)
    };
    let method = async |extra| {
        let offer = offer(extra);
        if !client.can_pay(&offer) {
            return "refused";
        }
        let payload = client.create_payload(&offer).await.unwrap();
        if payload.contains_key("authorization") {
            "eip3009"
        } else {
            "permit2"
        }
    };
    let domain = json!({"name": "USDC", "version": "2"});
    assert_eq!(method(domain).await, "eip3009");
    assert_eq!(method(json!(null)).await, "permit2");
    assert_eq!(method(json!({})).await, "permit2");
    let both = json!({"name": "USDC", "version": "2", "assetTransferMethod": "permit2"});
    assert_eq!(method(both).await, "permit2");
    assert_eq!(
        method(json!({"assetTransferMethod": "eip3009"})).await,
        "refused"
    );
    assert_eq!(
        method(json!({"assetTransferMethod": "erc7710"})).await,
        "refused"
    );
}
