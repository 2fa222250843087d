//! Interop with the reference implementation (npm `@x402/core` and `@x402/evm` 2.27.0, viem
//! 2.57.1, and the Python reference facilitator, PyPI `x402` 2.25.0) on the same local chain:
//! its client's payment settles on our facilitator, and our client's payment settles on its
//! facilitators; for `exact` over EIP-3009 and Permit2, and for metered `upto`.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{U256, hex};
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::{
    Facilitator, PaymentPayload, PaymentRequirements, SchemeClient, VerifyRequest,
};
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot_evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot_facilitator::store::MemoryStore;
use coinslot_facilitator::{HttpFacilitator, LocalFacilitator};
use coinslot_testkit::reference::{
    FacilitatorCall, python_reference_facilitator, reference_facilitator, reference_pay,
    reference_pay_reading,
};
use coinslot_testkit::{LocalChain, USDC, permit2_requirements, upto_requirements};
use serde_json::json;

use crate::common::{AMOUNT, local, payee_balance, requirements, settler};

/// `facilitator` verifies `request`, settles it, and the payee is paid.
async fn verifies_and_settles(
    facilitator: &impl Facilitator,
    request: &VerifyRequest,
    chain: &LocalChain,
) {
    let verified = facilitator.verify(request).await.unwrap();
    assert!(verified.is_valid, "{verified:?}");
    let settled = facilitator.settle(request).await.unwrap();
    assert!(settled.success, "{settled:?}");
    assert_eq!(payee_balance(chain).await, U256::from(AMOUNT));
}

/// A payer with [`AMOUNT`] USDC, no ether and no allowance.
async fn gasless_payer(chain: &LocalChain) -> PrivateKeySigner {
    let payer = PrivateKeySigner::random();
    chain
        .mint_usdc(payer.address(), U256::from(AMOUNT))
        .await
        .unwrap();
    payer
}

/// The payment the reference client, reading the chain, makes as `payer` for a 402 that
/// offers `offer` and `extensions`.
async fn reference_pays_offering(
    chain: &LocalChain,
    payer: &PrivateKeySigner,
    offer: &PaymentRequirements,
    extensions: coinslot_core::JsonObject,
) -> serde_json::Value {
    let payment_required = json!({
        "x402Version": 2,
        "resource": {"url": "http://127.0.0.1/paid", "description": "", "mimeType": ""},
        "accepts": [offer],
        "extensions": extensions,
    });
    reference_pay_reading(&key_hex(payer), &payment_required, chain.rpc_url().as_str())
        .await
        .unwrap()
}

fn key_hex(key: &PrivateKeySigner) -> String {
    hex::encode_prefixed(key.to_bytes())
}

/// The reference facilitator, settling with the chain's settler, verifies `payment` for
/// `offer`, settles it, and the payee is paid.
async fn settles_on_the_reference(
    chain: &LocalChain,
    payment: &PaymentPayload,
    offer: &PaymentRequirements,
) {
    let (rpc, key) = (chain.rpc_url().to_string(), key_hex(&settler(chain)));
    let payload = serde_json::to_value(payment).unwrap();
    let offer = serde_json::to_value(offer).unwrap();
    let verified = reference_facilitator(FacilitatorCall::Verify, &rpc, &key, &payload, &offer)
        .await
        .unwrap();
    assert_eq!(verified["isValid"], true, "{verified}");
    let settled = reference_facilitator(FacilitatorCall::Settle, &rpc, &key, &payload, &offer)
        .await
        .unwrap();
    assert_eq!(settled["success"], true, "{settled}");
    assert_eq!(payee_balance(chain).await, U256::from(AMOUNT));
}

#[tokio::test]
async fn a_payment_by_the_reference_client_verifies_and_settles_on_ours() {
    let chain = LocalChain::start().await.unwrap();
    let facilitator = local(&chain, MemoryStore::new()).await;
    let offer = requirements(&chain);
    let payment_required = json!({
        "x402Version": 2,
        "resource": {"url": "http://127.0.0.1/paid", "description": "a paid thing",
                     "mimeType": "application/json"},
        "accepts": [offer],
    });
    let made = reference_pay(&key_hex(&chain.accounts().payer), &payment_required)
        .await
        .unwrap();
    let payload: PaymentPayload = serde_json::from_value(made).unwrap();
    assert_eq!(payload.accepted, offer);
    verifies_and_settles(&facilitator, &VerifyRequest::v2(payload, offer), &chain).await;
}

#[tokio::test]
async fn a_payment_by_our_client_verifies_and_settles_on_the_reference_facilitator() {
    let chain = LocalChain::start().await.unwrap();
    let offer = requirements(&chain);
    let client = ExactEvmClient::new(chain.accounts().payer.clone());
    let payload = client.create_payment_payload(&offer, None).await.unwrap();
    settles_on_the_reference(&chain, &payload, &offer).await;
}

/// The Python reference (PyPI `x402` 2.25, on web3.py) refuses lower-case addresses in its
/// simulation, so this also holds our client to EIP-55 checksum addresses.
#[tokio::test]
async fn a_payment_by_our_client_verifies_and_settles_on_the_python_reference_facilitator() {
    let chain = LocalChain::start().await.unwrap();
    let service =
        python_reference_facilitator(chain.rpc_url().as_ref(), &key_hex(&settler(&chain))).unwrap();
    let facilitator = HttpFacilitator::new(service.url()).unwrap();
    let offer = requirements(&chain);
    let client = ExactEvmClient::new(chain.accounts().payer.clone());
    let payload = client.create_payment_payload(&offer, None).await.unwrap();
    verifies_and_settles(&facilitator, &VerifyRequest::v2(payload, offer), &chain).await;
}

/// An `upto` offer of at most [`AMOUNT`] settleable by [`settler`], and an `exact` one through
/// Permit2, both in the local USDC; the payer has approved Permit2.
async fn permit2_offers(chain: &LocalChain) -> [PaymentRequirements; 2] {
    chain
        .approve_permit2(&chain.accounts().payer, USDC)
        .await
        .unwrap();
    let payee = chain.accounts().payee.address();
    [
        upto_requirements(payee, USDC, AMOUNT, settler(chain).address()),
        permit2_requirements(payee, USDC, AMOUNT),
    ]
}

/// What the payee is paid for each of [`permit2_offers`]: the metered one settles less.
const UPTO_CHARGE: u64 = 700;

#[tokio::test]
async fn the_reference_clients_upto_and_permit2_payments_settle_on_ours() {
    let chain = LocalChain::start().await.unwrap();
    let evm = crate::common::evm_chain(&chain, Duration::from_secs(10)).await;
    let facilitator = LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(Arc::clone(&evm)))
        .with_scheme(UptoEvmFacilitator::new(evm))
        .build();
    let mut paid = U256::ZERO;
    for (offer, charge) in permit2_offers(&chain)
        .await
        .into_iter()
        .zip([UPTO_CHARGE, AMOUNT])
    {
        let payment_required = json!({
            "x402Version": 2,
            "resource": {"url": "http://127.0.0.1/paid", "description": "", "mimeType": ""},
            "accepts": [offer],
        });
        let made = reference_pay(&key_hex(&chain.accounts().payer), &payment_required)
            .await
            .unwrap();
        assert!(
            made["payload"]["permit2Authorization"].is_object(),
            "{made}"
        );
        let payload: PaymentPayload = serde_json::from_value(made).unwrap();
        let request = VerifyRequest::v2(payload, offer.clone());
        let verified = facilitator.verify(&request).await.unwrap();
        assert!(verified.is_valid, "{} {verified:?}", offer.scheme);
        let settled = facilitator
            .settle(&request.charging(U256::from(charge).into()))
            .await
            .unwrap();
        assert!(settled.success, "{} {settled:?}", offer.scheme);
        assert_eq!(settled.amount, Some(U256::from(charge).into()));
        paid += U256::from(charge);
        assert_eq!(payee_balance(&chain).await, paid);
    }
}

#[tokio::test]
async fn our_upto_and_permit2_payments_settle_on_the_reference_facilitator() {
    let chain = LocalChain::start().await.unwrap();
    let payer = chain.accounts().payer.clone();
    let (rpc, key) = (chain.rpc_url().to_string(), key_hex(&settler(&chain)));
    let mut paid = U256::ZERO;
    let [upto, permit2] = permit2_offers(&chain).await;
    let payments = [
        (
            UptoEvmClient::new(payer.clone())
                .create_payment_payload(&upto, None)
                .await,
            upto,
            UPTO_CHARGE,
        ),
        (
            ExactEvmClient::new(payer.clone())
                .create_payment_payload(&permit2, None)
                .await,
            permit2,
            AMOUNT,
        ),
    ];
    for (payload, offer, charge) in payments {
        let payload = serde_json::to_value(payload.unwrap()).unwrap();
        let maximum = serde_json::to_value(&offer).unwrap();
        let verified =
            reference_facilitator(FacilitatorCall::Verify, &rpc, &key, &payload, &maximum)
                .await
                .unwrap();
        assert_eq!(verified["isValid"], true, "{} {verified}", offer.scheme);
        let charged = serde_json::to_value(PaymentRequirements {
            amount: U256::from(charge).into(),
            ..offer.clone()
        })
        .unwrap();
        let settled =
            reference_facilitator(FacilitatorCall::Settle, &rpc, &key, &payload, &charged)
                .await
                .unwrap();
        assert_eq!(settled["success"], true, "{} {settled}", offer.scheme);
        paid += U256::from(charge);
        assert_eq!(payee_balance(&chain).await, paid);
    }
}

/// A payer with no gas and no allowance, whose EIP-2612 permit for Permit2 rides with the
/// payment (`eip2612GasSponsoring`): the reference facilitator submits it with the settlement.
#[tokio::test]
async fn our_eip2612_sponsored_payment_settles_on_the_reference_facilitator() {
    let chain = LocalChain::start().await.unwrap();
    let payer = gasless_payer(&chain).await;
    let mut offer = permit2_requirements(chain.accounts().payee.address(), USDC, AMOUNT);
    if let Some(extra) = offer.extra.as_mut() {
        extra.insert("name".into(), "USDC".into());
        extra.insert("version".into(), "2".into());
    }
    let client = ExactEvmClient::new(payer).with_provider(chain.provider().clone());
    let payment = client
        .create_payment_payload_with(
            &offer,
            None,
            Some(&coinslot_evm::permit2::eip2612_declaration()),
        )
        .await
        .unwrap();
    assert!(payment.extensions.is_some());
    settles_on_the_reference(&chain, &payment, &offer).await;
}

/// A payer with no ether and no allowance, whose signed `approve` of Permit2 rides with the
/// payment (`erc20ApprovalGasSponsoring`): the reference facilitator, given a deployment's
/// `sendTransactions` (the testkit's), funds it, broadcasts it and settles.
#[tokio::test]
async fn our_signed_approval_settles_on_the_reference_facilitator() {
    let chain = LocalChain::start().await.unwrap();
    let payer = gasless_payer(&chain).await;
    let offer = permit2_requirements(chain.accounts().payee.address(), USDC, AMOUNT);
    let client = ExactEvmClient::new(payer.clone()).with_provider(chain.provider().clone());
    let offered = coinslot_evm::permit2::erc20_approval_declaration();
    let payment = client
        .create_payment_payload_with(&offer, None, Some(&offered))
        .await
        .unwrap();
    assert!(payment.extensions.is_some());
    settles_on_the_reference(&chain, &payment, &offer).await;
    assert_eq!(
        coinslot_evm::permit2::allowance(chain.provider(), USDC, payer.address())
            .await
            .unwrap(),
        U256::MAX
    );
}

/// The reference client, able to read the chain, signs the EIP-2612 permit a 402 offers for a
/// payer without allowance; our sponsoring facilitator submits it with the settlement.
#[tokio::test]
async fn the_reference_clients_eip2612_sponsored_payment_settles_on_ours() {
    let chain = LocalChain::start().await.unwrap();
    let payer = gasless_payer(&chain).await;
    let evm = crate::common::evm_chain(&chain, Duration::from_secs(10)).await;
    let facilitator = LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(evm).with_eip2612_gas_sponsoring())
        .build();
    let mut offer = permit2_requirements(chain.accounts().payee.address(), USDC, AMOUNT);
    if let Some(extra) = offer.extra.as_mut() {
        extra.insert("name".into(), "USDC".into());
        extra.insert("version".into(), "2".into());
    }
    let made = reference_pays_offering(
        &chain,
        &payer,
        &offer,
        coinslot_evm::permit2::eip2612_declaration(),
    )
    .await;
    assert!(
        made["extensions"]["eip2612GasSponsoring"]["info"].is_object(),
        "{made}"
    );
    let payload: PaymentPayload = serde_json::from_value(made).unwrap();
    verifies_and_settles(&facilitator, &VerifyRequest::v2(payload, offer), &chain).await;
}

/// The reference client, able to read the chain, signs the `approve` of Permit2 a 402 offers to
/// sponsor (`erc20ApprovalGasSponsoring`) for a payer without allowance or ether; our sponsoring
/// facilitator funds its gas, broadcasts it and settles.
#[tokio::test]
async fn the_reference_clients_signed_approval_is_funded_and_settled_by_ours() {
    let chain = LocalChain::start().await.unwrap();
    let payer = gasless_payer(&chain).await;
    let evm = crate::common::evm_chain(&chain, Duration::from_secs(10)).await;
    let facilitator = LocalFacilitator::builder()
        .with_scheme(ExactEvmFacilitator::new(evm).with_erc20_approval_gas_sponsoring())
        .build();
    let offer = permit2_requirements(chain.accounts().payee.address(), USDC, AMOUNT);
    let made = reference_pays_offering(
        &chain,
        &payer,
        &offer,
        coinslot_evm::permit2::erc20_approval_declaration(),
    )
    .await;
    assert!(
        made["extensions"]["erc20ApprovalGasSponsoring"]["info"]["signedTransaction"].is_string(),
        "{made}"
    );
    assert_eq!(
        chain.eth_balance(payer.address()).await.unwrap(),
        U256::ZERO
    );
    let payload: PaymentPayload = serde_json::from_value(made).unwrap();
    verifies_and_settles(&facilitator, &VerifyRequest::v2(payload, offer), &chain).await;
    assert_eq!(
        coinslot_evm::permit2::allowance(chain.provider(), USDC, payer.address())
            .await
            .unwrap(),
        U256::MAX
    );
}
