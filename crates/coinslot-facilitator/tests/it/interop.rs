//! Interop with the reference implementation (npm `@x402/core` and `@x402/evm` 2.27.0, viem
//! 2.57.1, and the Python reference facilitator, PyPI `x402` 2.25.0) on the same local chain:
//! its client's payment settles on our facilitator, and our client's payment settles on its
//! facilitators.

use alloy::primitives::{U256, hex};
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::{Facilitator, PaymentPayload, SchemeClient, VerifyRequest};
use coinslot_evm::exact::ExactEvmClient;
use coinslot_facilitator::HttpFacilitator;
use coinslot_facilitator::store::MemoryStore;
use coinslot_testkit::LocalChain;
use coinslot_testkit::reference::{
    FacilitatorCall, python_reference_facilitator, reference_facilitator, reference_pay,
};
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

fn key_hex(key: &PrivateKeySigner) -> String {
    hex::encode_prefixed(key.to_bytes())
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
    let payload = serde_json::to_value(&payload).unwrap();
    let offer = serde_json::to_value(&offer).unwrap();
    let rpc = chain.rpc_url().to_string();
    let key = key_hex(&settler(&chain));

    let verified = reference_facilitator(FacilitatorCall::Verify, &rpc, &key, &payload, &offer)
        .await
        .unwrap();
    assert_eq!(verified["isValid"], true, "{verified}");
    let settled = reference_facilitator(FacilitatorCall::Settle, &rpc, &key, &payload, &offer)
        .await
        .unwrap();
    assert_eq!(settled["success"], true, "{settled}");
    assert_eq!(payee_balance(&chain).await, U256::from(AMOUNT));
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
