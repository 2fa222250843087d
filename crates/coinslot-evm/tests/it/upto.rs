//! `upto` on the local chain: the maximum verified, any charge up to it settled (0 without a
//! transaction), a charge above it refused, each refusal with its reason and nothing moved, and
//! only the facilitator the payer named can settle.

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::{
    ErrorReason, Network, PaymentRequirements, SchemeClient, SchemeFacilitator, TokenAmount,
    VerifyRequest,
};
use coinslot_evm::permit2::{EXACT_PROXY, Permit2Authorization, UptoWitness};
use coinslot_evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot_testkit::{LocalChain, PERMIT_TOKEN, USDC, upto_requirements};

use crate::common::{
    evm_chain, permit2_authorization, permit2_request, permit2_signed, settler, unix_now,
};

const MAXIMUM: u64 = 5_000;

async fn balances(chain: &LocalChain) -> (U256, U256) {
    let accounts = chain.accounts();
    (
        chain.usdc_balance(accounts.payer.address()).await.unwrap(),
        chain.usdc_balance(accounts.payee.address()).await.unwrap(),
    )
}

/// The facilitator settling with settler 0, and its offer of at most [`MAXIMUM`] USDC.
async fn setup(chain: &LocalChain) -> (UptoEvmFacilitator, PaymentRequirements) {
    chain
        .approve_permit2(&chain.accounts().payer, USDC)
        .await
        .unwrap();
    let upto = UptoEvmFacilitator::new(evm_chain(chain).await);
    let offer = upto_requirements(
        chain.accounts().payee.address(),
        USDC,
        MAXIMUM,
        upto.facilitator_address(),
    );
    (upto, offer)
}

/// The settle request for `request` charging `charge`.
fn charging(request: &VerifyRequest, charge: u64) -> VerifyRequest {
    let VerifyRequest::V2 {
        payment_payload,
        payment_requirements,
    } = request.clone()
    else {
        unreachable!("the tests pay in v2")
    };
    VerifyRequest::v2(
        payment_payload,
        PaymentRequirements {
            amount: U256::from(charge).into(),
            ..payment_requirements
        },
    )
}

#[tokio::test]
async fn a_charge_of_nothing_part_or_all_of_the_maximum_is_settled() {
    let chain = LocalChain::start().await.unwrap();
    let (upto, offer) = setup(&chain).await;
    let client = UptoEvmClient::new(chain.accounts().payer.clone());
    assert_eq!(
        upto.supported_extra(&Network::eip155(84532)).unwrap()["facilitatorAddress"],
        settler(&chain, 0).address().to_checksum(None)
    );

    for charge in [0, 1_234, MAXIMUM] {
        let payment = client.create_payment_payload(&offer, None).await.unwrap();
        let request = VerifyRequest::v2(payment, offer.clone());
        let verified = upto.verify(&request).await.unwrap();
        assert!(verified.is_valid, "{verified:?}");

        let before = balances(&chain).await;
        let settled = upto.settle(&charging(&request, charge)).await.unwrap();
        assert!(settled.success, "{charge}: {settled:?}");
        assert_eq!(settled.amount, Some(TokenAmount::from(U256::from(charge))));
        assert_eq!(settled.transaction().is_empty(), charge == 0, "{settled:?}");
        let after = balances(&chain).await;
        assert_eq!(before.0 - after.0, U256::from(charge), "{charge}");
        assert_eq!(after.1 - before.1, U256::from(charge), "{charge}");
    }
}

#[tokio::test]
async fn a_charge_above_the_maximum_or_a_second_settlement_moves_nothing() {
    let chain = LocalChain::start().await.unwrap();
    let (upto, offer) = setup(&chain).await;
    let client = UptoEvmClient::new(chain.accounts().payer.clone());
    let payment = client.create_payment_payload(&offer, None).await.unwrap();
    let request = VerifyRequest::v2(payment, offer);

    let before = balances(&chain).await;
    let above = upto.settle(&charging(&request, MAXIMUM + 1)).await.unwrap();
    assert!(!above.success);
    assert_eq!(
        above.error_reason,
        Some(ErrorReason::InvalidUptoEvmPayloadSettlementExceedsAmount)
    );
    assert_eq!(above.transaction(), "");
    assert_eq!(balances(&chain).await, before);

    assert!(upto.settle(&charging(&request, 100)).await.unwrap().success);
    let again = upto.settle(&charging(&request, 100)).await.unwrap();
    assert!(!again.success);
    assert_eq!(again.error_reason, Some(ErrorReason::Permit2InvalidNonce));
    let after = balances(&chain).await;
    assert_eq!(before.0 - after.0, U256::from(100));
}

#[tokio::test]
async fn only_the_facilitator_the_payer_named_settles() {
    let chain = LocalChain::start().await.unwrap();
    let (_, offer) = setup(&chain).await;
    let client = UptoEvmClient::new(chain.accounts().payer.clone());
    let payment = client.create_payment_payload(&offer, None).await.unwrap();
    let request = VerifyRequest::v2(payment, offer);

    // Another facilitator on the same chain, settling with another key.
    let other_chain = coinslot_evm::EvmChain::builder(chain.provider().clone())
        .with_signer(settler(&chain, 1))
        .build()
        .await
        .unwrap();
    let other = UptoEvmFacilitator::new(std::sync::Arc::new(other_chain));
    let before = balances(&chain).await;
    let verified = other.verify(&request).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::UptoFacilitatorMismatch)
    );
    let settled = other.settle(&charging(&request, 10)).await.unwrap();
    assert_eq!(
        settled.error_reason,
        Some(ErrorReason::UptoFacilitatorMismatch)
    );
    assert_eq!(balances(&chain).await, before);
}

#[tokio::test]
async fn each_bad_upto_payment_is_refused_with_its_reason_and_moves_nothing() {
    let chain = LocalChain::start().await.unwrap();
    let (upto, offer) = setup(&chain).await;
    let accounts = chain.accounts();
    let payer = accounts.payer.clone();
    let now = unix_now();
    let witness = UptoWitness {
        to: accounts.payee.address(),
        facilitator: upto.facilitator_address(),
        valid_after: U256::ZERO,
    };
    let honest = || permit2_authorization(payer.address(), &offer, witness.clone());
    let edited = |edit: &dyn Fn(&mut Permit2Authorization<UptoWitness>)| {
        let mut a = honest();
        edit(&mut a);
        permit2_request(&offer, &permit2_signed(&payer, a))
    };
    let unapproved = accounts.others[0].clone();
    chain
        .mint_usdc(unapproved.address(), U256::from(MAXIMUM))
        .await
        .unwrap();
    let paid_by = |key: &PrivateKeySigner| {
        permit2_request(
            &offer,
            &permit2_signed(
                key,
                permit2_authorization(key.address(), &offer, witness.clone()),
            ),
        )
    };
    let with_offer =
        |offer: PaymentRequirements| permit2_request(&offer, &permit2_signed(&payer, honest()));
    let before = balances(&chain).await;

    let cases: Vec<(&str, VerifyRequest, ErrorReason)> = vec![
        (
            "an exact offer",
            with_offer(PaymentRequirements {
                scheme: "exact".to_owned(),
                ..offer.clone()
            }),
            ErrorReason::InvalidUptoEvmScheme,
        ),
        (
            "another network",
            with_offer(PaymentRequirements {
                network: Network::eip155(8453),
                ..offer.clone()
            }),
            ErrorReason::InvalidUptoEvmNetworkMismatch,
        ),
        (
            "the exact proxy as spender",
            edited(&|a| a.spender = EXACT_PROXY),
            ErrorReason::InvalidPermit2Spender,
        ),
        (
            "wrong recipient",
            edited(&|a| a.witness.to = Address::repeat_byte(0x77)),
            ErrorReason::InvalidPermit2RecipientMismatch,
        ),
        (
            "a facilitator we are not",
            edited(&|a| a.witness.facilitator = settler(&chain, 1).address()),
            ErrorReason::UptoFacilitatorMismatch,
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
            "another token",
            edited(&|a| a.permitted.token = PERMIT_TOKEN),
            ErrorReason::Permit2TokenMismatch,
        ),
        (
            "signed by another key",
            permit2_request(&offer, &{
                let mut p = permit2_signed(&PrivateKeySigner::random(), honest());
                p.permit2_authorization.from = payer.address();
                p
            }),
            ErrorReason::InvalidPermit2Signature,
        ),
        (
            "the facilitator changed after signing",
            permit2_request(&offer, &{
                let mut p = permit2_signed(
                    &payer,
                    Permit2Authorization {
                        witness: UptoWitness {
                            facilitator: settler(&chain, 1).address(),
                            ..witness.clone()
                        },
                        ..honest()
                    },
                );
                p.permit2_authorization.witness.facilitator = upto.facilitator_address();
                p
            }),
            ErrorReason::InvalidPermit2Signature,
        ),
        (
            "no Permit2 allowance",
            paid_by(&unapproved),
            ErrorReason::Permit2AllowanceRequired,
        ),
    ];
    for (name, request, reason) in cases {
        let verified = upto.verify(&request).await.unwrap();
        assert_eq!(
            verified.invalid_reason.as_ref(),
            Some(&reason),
            "{name}: {verified:?}"
        );
        let settled = upto.settle(&charging(&request, 10)).await.unwrap();
        assert_eq!(
            settled.error_reason.as_ref(),
            Some(&reason),
            "{name}: {settled:?}"
        );
        assert_eq!(settled.transaction(), "", "{name}: nothing sent");
        assert_eq!(balances(&chain).await, before, "{name}: nothing moved");
    }

    // A maximum other than the offer's fails verify; at settle only the signed maximum bounds
    // the charge (the spec's settle-time rule: the settle request carries the charge, not the
    // offer).
    let lower = edited(&|a| a.permitted.amount = U256::from(MAXIMUM - 1));
    let verified = upto.verify(&lower).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::Permit2AmountMismatch)
    );
    assert!(upto.settle(&charging(&lower, 10)).await.unwrap().success);

    // A payer who approved Permit2 but holds none of the token.
    let penniless = accounts.others[1].clone();
    chain.approve_permit2(&penniless, USDC).await.unwrap();
    let verified = upto.verify(&paid_by(&penniless)).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::Permit2InsufficientBalance),
        "{verified:?}"
    );
}
