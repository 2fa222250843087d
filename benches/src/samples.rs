//! Signed payments to measure with: EVM payloads for any offer, Stacks transfers, and the
//! request bodies a facilitator is sent. Every payment is unique (its own nonce), as real ones
//! are.

use alloy::signers::local::PrivateKeySigner;
use coinslot_core::{PaymentPayload, PaymentRequirements, ResourceInfo, SchemeClient};
use coinslot_evm::exact::ExactEvmClient;
use coinslot_evm::upto::UptoEvmClient;
use coinslot_stacks::exact::{ExactStacksClient, StacksAsset, stacks_requirements};
use coinslot_stacks::network::StacksNetwork;
use coinslot_stacks::{PrivateKey, Transaction};

/// A payer key for benches that need no chain (the anvil payer's key is used on the chain).
pub fn offline_payer() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&[7u8; 32].into()).expect("a valid secp256k1 key")
}

/// An `exact` offer of $0.001 in USDC on Base Sepolia (the local chain), paid to `pay_to`.
pub fn usdc_offer(pay_to: alloy::primitives::Address) -> PaymentRequirements {
    coinslot_testkit::exact_requirements(pay_to, crate::serve::PRICE_UNITS)
}

/// `count` payments of `offer` signed by `payer`, each with its own nonce: `exact` (EIP-3009,
/// or Permit2 when the offer asks) or `upto` (Permit2).
pub async fn evm_payments(
    payer: &PrivateKeySigner,
    offer: &PaymentRequirements,
    resource: Option<&ResourceInfo>,
    count: usize,
) -> Result<Vec<PaymentPayload>, String> {
    let client: Box<dyn SchemeClient> = match offer.scheme.as_str() {
        "upto" => Box::new(UptoEvmClient::new(payer.clone())),
        _ => Box::new(ExactEvmClient::new(payer.clone())),
    };
    let mut payments = Vec::with_capacity(count);
    for _ in 0..count {
        payments.push(
            client
                .create_payment_payload(offer, resource)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(payments)
}

/// The JSON body of `/verify` or `/settle` for a v2 payment and its requirement.
pub fn facilitator_body(payment: &PaymentPayload) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "x402Version": 2,
        "paymentPayload": payment,
        "paymentRequirements": payment.accepted,
    }))
    .expect("payments serialize")
}

/// `count` signed STX transfers of 0.001 STX on testnet, an x402 `exact` payment each (fee
/// 1000 µSTX, consecutive nonces).
pub async fn stacks_transfers(count: usize) -> Result<Vec<Transaction>, String> {
    let key = PrivateKey::from_bytes(&[9u8; 32]).map_err(|e| e.to_string())?;
    let payee = PrivateKey::from_bytes(&[11u8; 32]).map_err(|e| e.to_string())?;
    let price = coinslot_core::Price::parse("0.001").map_err(|e| e.to_string())?;
    let offer = stacks_requirements(
        StacksNetwork::Testnet,
        &StacksAsset::Stx,
        &payee.address(false).to_string(),
        &price,
    )
    .map_err(|e| e.to_string())?;
    let client = ExactStacksClient::new(key, StacksNetwork::Testnet)
        .with_fee(1000)
        .with_nonce(0);
    let mut transactions = Vec::with_capacity(count);
    for _ in 0..count {
        transactions.push(
            client
                .sign_payment(&offer)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(transactions)
}
