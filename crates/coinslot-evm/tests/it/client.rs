//! The client side, against the local chain: what the client signs moves exactly the required
//! amount, in the wire shape the reference writes.

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::v1::PaymentPayloadV1;
use coinslot_core::{Error, PaymentPayload, PaymentRequirements, SchemeClient};
use coinslot_evm::exact::{ExactEvmClient, ExactEvmPayload};
use coinslot_testkit::{LocalChain, PAYER_USDC};
use serde_json::json;

use crate::common::requirements;

async fn submit(chain: &LocalChain, payload: &ExactEvmPayload) -> Result<(), String> {
    let a = &payload.authorization;
    let receipt = chain
        .usdc()
        .transferWithAuthorization_1(
            a.from,
            a.to,
            a.value,
            a.valid_after,
            a.valid_before,
            a.nonce,
            payload.signature.clone(),
        )
        .send()
        .await
        .map_err(|e| e.to_string())?
        .get_receipt()
        .await
        .map_err(|e| e.to_string())?;
    receipt
        .status()
        .then_some(())
        .ok_or_else(|| "reverted".to_owned())
}

#[tokio::test]
async fn a_signed_payment_moves_exactly_the_amount() {
    let chain = LocalChain::start().await.unwrap();
    let payee = chain.accounts().payee.address();
    let client = ExactEvmClient::new(chain.accounts().payer.clone());
    let offer = requirements(payee, 10_000);
    assert!(client.can_pay(&offer));

    let payment = client.create_payment_payload(&offer, None).await.unwrap();
    assert_eq!(
        payment.accepted, offer,
        "accepted echoes the offer unchanged"
    );
    // Addresses go out in EIP-55 checksum form, as viem writes them (the Python reference
    // refuses lower-case ones).
    let written = &payment.payload["authorization"];
    assert_eq!(
        written["from"],
        chain.accounts().payer.address().to_checksum(None)
    );
    assert_eq!(written["to"], payee.to_checksum(None));
    let payload: ExactEvmPayload = serde_json::from_value(payment.payload.clone().into()).unwrap();
    assert_eq!(payload.authorization.from, chain.accounts().payer.address());
    assert_eq!(payload.authorization.to, payee);
    assert_eq!(payload.authorization.value, U256::from(10_000u64));
    assert_eq!(payload.signature.len(), 65);
    let now = chain.now().await.unwrap();
    let window = payload.authorization.valid_before - payload.authorization.valid_after;
    assert_eq!(
        window,
        U256::from(660u64),
        "validAfter = now − 600, validBefore = now + 60"
    );
    assert!(payload.authorization.valid_after < U256::from(now));

    submit(&chain, &payload).await.unwrap();
    assert_eq!(
        chain.usdc_balance(payee).await.unwrap(),
        U256::from(10_000u64)
    );
    assert_eq!(
        chain
            .usdc_balance(chain.accounts().payer.address())
            .await
            .unwrap(),
        U256::from(PAYER_USDC - 10_000)
    );
}

#[tokio::test]
async fn the_payload_has_the_reference_wire_shape_in_v2_and_v1() {
    let client = ExactEvmClient::new(PrivateKeySigner::random());
    let offer = requirements(Address::repeat_byte(0x20), 1);
    let payment: PaymentPayload = client.create_payment_payload(&offer, None).await.unwrap();
    let header = payment.to_header().unwrap();
    let wire: serde_json::Value = serde_json::from_slice(
        &coinslot_core::header::decode_base64(
            header.as_bytes(),
            coinslot_core::header::MAX_HEADER_LEN,
        )
        .unwrap(),
    )
    .unwrap();
    let authorization = &wire["payload"]["authorization"];
    for field in ["value", "validAfter", "validBefore"] {
        assert!(
            authorization[field]
                .as_str()
                .unwrap()
                .bytes()
                .all(|b| b.is_ascii_digit()),
            "{field}"
        );
    }
    assert_eq!(authorization["nonce"].as_str().unwrap().len(), 66);
    assert_eq!(
        wire["payload"]["signature"].as_str().unwrap().len(),
        2 + 130
    );
    assert_eq!(
        authorization["to"],
        "0x2020202020202020202020202020202020202020"
    );

    // The same payment in v1 form (`X-PAYMENT`), and back.
    let v1 = PaymentPayloadV1::from_v2(&payment).unwrap();
    assert_eq!(v1.network, "base-sepolia");
    assert_eq!(v1.payload, payment.payload);
    let decoded = PaymentPayloadV1::from_header(v1.to_header().unwrap()).unwrap();
    assert_eq!(decoded, v1);
}

#[tokio::test]
async fn requirements_it_cannot_pay_are_refused_with_a_reason() {
    let client = ExactEvmClient::new(PrivateKeySigner::random());
    let base = requirements(Address::repeat_byte(1), 1);
    let cases: Vec<(&str, PaymentRequirements)> = vec![
        (
            "not exact",
            PaymentRequirements {
                scheme: "upto".into(),
                ..base.clone()
            },
        ),
        (
            "not eip155",
            PaymentRequirements {
                network: "stacks:1".parse().unwrap(),
                ..base.clone()
            },
        ),
        (
            "eip3009 without a domain",
            PaymentRequirements {
                extra: Some(
                    serde_json::from_value(json!({"assetTransferMethod": "eip3009"})).unwrap(),
                ),
                ..base.clone()
            },
        ),
        (
            "eip3009 without a version",
            PaymentRequirements {
                extra: Some(
                    serde_json::from_value(
                        json!({"name": "USDC", "assetTransferMethod": "eip3009"}),
                    )
                    .unwrap(),
                ),
                ..base.clone()
            },
        ),
        (
            "erc7710",
            PaymentRequirements {
                extra: Some(
                    serde_json::from_value(json!({"assetTransferMethod": "erc7710"})).unwrap(),
                ),
                ..base.clone()
            },
        ),
        (
            "asset not an address",
            PaymentRequirements {
                asset: "USD".into(),
                ..base.clone()
            },
        ),
        (
            "payTo a role",
            PaymentRequirements {
                pay_to: "merchant".into(),
                ..base
            },
        ),
    ];
    for (name, offer) in cases {
        assert!(!client.can_pay(&offer), "{name}");
        match client.create_payload(&offer).await {
            Err(Error::InvalidRequirements { reason }) => assert!(!reason.is_empty(), "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}
