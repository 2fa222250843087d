//! The facilitator side: a valid payment verifies and settles for exactly its amount; every
//! refusal names its reason and moves nothing; late and concurrent settlements.

use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider as _;
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::{
    ErrorReason, PaymentRequirements, SchemeClient, SchemeFacilitator, VerifyRequest,
};
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator, ExactEvmPayload};
use coinslot_testkit::{LocalChain, PAYER_USDC, USDC};
use serde_json::json;

use crate::common::{
    AMOUNT, authorization, evm_chain_with, facilitator, request, request_with, requirements,
    settler, signed, unix_now,
};

/// The payer's and the payee's balances.
async fn balances(chain: &LocalChain) -> (U256, U256) {
    (
        chain
            .usdc_balance(chain.accounts().payer.address())
            .await
            .unwrap(),
        chain
            .usdc_balance(chain.accounts().payee.address())
            .await
            .unwrap(),
    )
}

/// The receipt of a successful settlement.
async fn receipt_of(
    chain: &LocalChain,
    settled: &coinslot_core::SettleResponse,
) -> alloy::rpc::types::TransactionReceipt {
    assert!(settled.success, "{settled:?}");
    let hash: B256 = settled.transaction().parse().unwrap();
    chain
        .provider()
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_valid_payment_verifies_settles_and_moves_exactly_the_amount() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let client = ExactEvmClient::new(chain.accounts().payer.clone());
    let payment = client.create_payment_payload(&offer, None).await.unwrap();
    let request = VerifyRequest::v2(payment, offer);

    let verified = exact.verify(&request).await.unwrap();
    assert!(verified.is_valid, "{verified:?}");
    let payer = chain.accounts().payer.address().to_checksum(None);
    assert_eq!(verified.payer.as_deref(), Some(payer.as_str()));

    let settled = exact.settle(&request).await.unwrap();
    assert_eq!(settled.network.as_str(), "eip155:84532");
    assert_eq!(settled.payer.as_deref(), Some(payer.as_str()));
    let receipt = receipt_of(&chain, &settled).await;
    assert!(receipt.status());
    assert_eq!(
        receipt.from,
        settler(&chain, 0).address(),
        "sent by the settlement key"
    );
    assert_eq!(
        balances(&chain).await,
        (U256::from(PAYER_USDC - AMOUNT), U256::from(AMOUNT))
    );

    // Used once: the same payment again is refused by the chain check, and sends nothing.
    let again = exact.verify(&request).await.unwrap();
    assert_eq!(
        again.invalid_reason,
        Some(ErrorReason::InvalidExactEvmNonceAlreadyUsed)
    );
    let resettled = exact.settle(&request).await.unwrap();
    assert!(!resettled.success);
    assert_eq!(resettled.transaction(), "");
    assert_eq!(
        balances(&chain).await,
        (U256::from(PAYER_USDC - AMOUNT), U256::from(AMOUNT))
    );
}

#[tokio::test]
async fn a_v1_payment_verifies_and_settles() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let payload = signed(
        &chain.accounts().payer,
        authorization(chain.accounts().payer.address(), &offer),
    );
    let request: VerifyRequest = serde_json::from_value(json!({
        "x402Version": 1,
        "paymentPayload": {"x402Version": 1, "scheme": "exact", "network": "base-sepolia",
                           "payload": payload},
        "paymentRequirements": {
            "scheme": "exact", "network": "base-sepolia", "maxAmountRequired": AMOUNT.to_string(),
            "resource": "http://127.0.0.1/paid", "description": "", "mimeType": "",
            "payTo": offer.pay_to, "maxTimeoutSeconds": 60, "asset": offer.asset,
            "extra": {"name": "USDC", "version": "2"}
        }
    }))
    .unwrap();
    assert!(exact.verify(&request).await.unwrap().is_valid);
    let settled = exact.settle(&request).await.unwrap();
    assert!(settled.success, "{settled:?}");
    assert_eq!(balances(&chain).await.1, U256::from(AMOUNT));
}

/// A signature with the same r and the other s (n − s) and flipped parity: the same signer,
/// but not the canonical form.
fn high_s(payload: &ExactEvmPayload) -> ExactEvmPayload {
    const N: U256 = U256::from_be_slice(&[
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ]);
    let mut bytes = payload.signature.to_vec();
    let s = U256::from_be_slice(&bytes[32..64]);
    bytes[32..64].copy_from_slice(&(N - s).to_be_bytes::<32>());
    bytes[64] = if bytes[64] == 27 { 28 } else { 27 };
    ExactEvmPayload {
        signature: bytes.into(),
        authorization: payload.authorization.clone(),
    }
}

#[tokio::test]
async fn each_bad_payment_is_refused_with_its_reason_and_moves_nothing() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let payer = chain.accounts().payer.clone();
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let honest = || authorization(payer.address(), &offer);
    let sign = |a| signed(&payer, a);
    let now = unix_now();
    let stranger = PrivateKeySigner::random();
    let poor = chain.accounts().others[0].clone();

    let mut used = sign(honest());
    let spent = exact.settle(&request(&offer, &used)).await.unwrap();
    assert!(spent.success, "{spent:?}");
    used.authorization.value = U256::from(AMOUNT);
    let before = balances(&chain).await;

    let valid = sign(honest());
    let edited = |edit: &dyn Fn(&mut coinslot_evm::exact::Authorization)| {
        let mut a = honest();
        edit(&mut a);
        request(&offer, &sign(a))
    };
    // An honest authorization signed under another EIP-712 domain.
    let signed_under = |chain_id: u64, token: Address| {
        let a = honest();
        let hash = crate::common::signing_hash(&a, chain_id, token);
        ExactEvmPayload {
            signature: alloy::signers::SignerSync::sign_hash_sync(&payer, &hash)
                .unwrap()
                .as_bytes()
                .to_vec()
                .into(),
            authorization: a,
        }
    };
    let cases: Vec<(&str, VerifyRequest, ErrorReason)> = vec![
        (
            "wrong recipient",
            edited(&|a| a.to = Address::repeat_byte(0x77)),
            ErrorReason::InvalidExactEvmRecipientMismatch,
        ),
        (
            "underpayment",
            edited(&|a| a.value = U256::from(AMOUNT - 1)),
            ErrorReason::InvalidExactEvmPayloadAuthorizationValueMismatch,
        ),
        (
            "overpayment",
            edited(&|a| a.value = U256::from(AMOUNT + 1)),
            ErrorReason::InvalidExactEvmPayloadAuthorizationValueMismatch,
        ),
        (
            "expired",
            edited(&|a| a.valid_before = U256::from(now - 1)),
            ErrorReason::InvalidExactEvmPayloadAuthorizationValidBefore,
        ),
        (
            "validBefore inside the 6 s buffer",
            edited(&|a| a.valid_before = U256::from(now + 3)),
            ErrorReason::InvalidExactEvmPayloadAuthorizationValidBefore,
        ),
        (
            "not yet valid",
            edited(&|a| a.valid_after = U256::from(now + 120)),
            ErrorReason::InvalidExactEvmPayloadAuthorizationValidAfter,
        ),
        (
            "bad signature",
            request(&offer, &{
                let mut p = valid.clone();
                let mut bytes = p.signature.to_vec();
                bytes[10] ^= 0x01;
                p.signature = bytes.into();
                p
            }),
            ErrorReason::InvalidExactEvmSignature,
        ),
        (
            "signed by another key",
            request(&offer, &{
                let mut p = signed(&stranger, honest());
                p.authorization.from = payer.address();
                p
            }),
            ErrorReason::InvalidExactEvmSignature,
        ),
        (
            "high-s signature",
            request(&offer, &high_s(&valid)),
            ErrorReason::InvalidExactEvmSignature,
        ),
        (
            "wrong chain id",
            request(&offer, &signed_under(1, USDC)),
            ErrorReason::InvalidExactEvmSignature,
        ),
        (
            "signed for another token",
            request(&offer, &signed_under(84532, Address::repeat_byte(0x55))),
            ErrorReason::InvalidExactEvmSignature,
        ),
        (
            "accepted names another asset",
            {
                let mut r = request(&offer, &valid);
                if let VerifyRequest::V2 {
                    payment_payload, ..
                } = &mut r
                {
                    payment_payload.accepted.asset = Address::repeat_byte(0x55).to_checksum(None);
                }
                r
            },
            ErrorReason::InvalidPaymentRequirements,
        ),
        (
            "insufficient balance",
            request(
                &offer,
                &signed(&poor, authorization(poor.address(), &offer)),
            ),
            ErrorReason::InvalidExactEvmInsufficientBalance,
        ),
        (
            "nonce already used on chain",
            request(&offer, &used),
            ErrorReason::InvalidExactEvmNonceAlreadyUsed,
        ),
        (
            "scheme",
            request(
                &PaymentRequirements {
                    scheme: "upto".into(),
                    ..offer.clone()
                },
                &valid,
            ),
            ErrorReason::InvalidExactEvmScheme,
        ),
        (
            "network",
            request(
                &PaymentRequirements {
                    network: "eip155:8453".parse().unwrap(),
                    ..offer.clone()
                },
                &valid,
            ),
            ErrorReason::InvalidExactEvmNetworkMismatch,
        ),
        (
            "no EIP-712 domain",
            request(
                &PaymentRequirements {
                    extra: None,
                    ..offer.clone()
                },
                &valid,
            ),
            ErrorReason::InvalidExactEvmMissingEip712Domain,
        ),
        (
            "asset without code",
            request(
                &PaymentRequirements {
                    asset: Address::repeat_byte(0x66).to_checksum(None),
                    ..offer.clone()
                },
                &signed_under(84532, Address::repeat_byte(0x66)),
            ),
            ErrorReason::AssetNotDeployedContract,
        ),
    ];

    // Every signed field, changed after signing (with the requirement following it where a
    // local check would otherwise catch it first).
    let mut tampered: Vec<(&str, VerifyRequest, ErrorReason)> = Vec::new();
    type Edit = fn(&mut coinslot_evm::exact::Authorization);
    let edits: [(&str, Edit); 5] = [
        ("from", |a| a.from = Address::repeat_byte(0x42)),
        ("validAfter", |a| a.valid_after -= U256::from(1)),
        ("validBefore", |a| a.valid_before += U256::from(1)),
        ("nonce", |a| a.nonce = B256::repeat_byte(0x42)),
        ("value", |a| a.value += U256::from(1)),
    ];
    for (field, edit) in edits {
        let mut p = valid.clone();
        edit(&mut p.authorization);
        let offer = PaymentRequirements {
            amount: p.authorization.value.into(),
            ..offer.clone()
        };
        tampered.push((
            field,
            request(&offer, &p),
            ErrorReason::InvalidExactEvmSignature,
        ));
    }
    let mut p = valid.clone();
    p.authorization.to = Address::repeat_byte(0x43);
    let to_offer = PaymentRequirements {
        pay_to: p.authorization.to.to_checksum(None),
        ..offer.clone()
    };
    tampered.push((
        "to",
        request(&to_offer, &p),
        ErrorReason::InvalidExactEvmSignature,
    ));

    // A payment to oneself: valid in every other way, and it would move nothing.
    let to_self = PaymentRequirements {
        pay_to: payer.address().to_checksum(None),
        ..offer.clone()
    };
    tampered.push((
        "to oneself",
        request(&to_self, &sign(authorization(payer.address(), &to_self))),
        ErrorReason::InvalidPayment,
    ));

    for (name, request, reason) in cases.into_iter().chain(tampered) {
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
async fn a_malformed_payload_is_refused_field_by_field() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let payer = chain.accounts().payer.clone();
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let valid =
        serde_json::to_value(signed(&payer, authorization(payer.address(), &offer))).unwrap();
    let edits: Vec<(&str, &str, serde_json::Value)> = vec![
        ("signature missing", "/signature", serde_json::Value::Null),
        ("signature not hex", "/signature", json!("0xzz")),
        ("signature a number", "/signature", json!(65)),
        (
            "authorization missing",
            "/authorization",
            serde_json::Value::Null,
        ),
        (
            "from not an address",
            "/authorization/from",
            json!("0x1234"),
        ),
        ("to not an address", "/authorization/to", json!("merchant")),
        ("value a number", "/authorization/value", json!(10000)),
        ("value negative", "/authorization/value", json!("-10000")),
        ("value with a sign", "/authorization/value", json!("+10000")),
        ("value hex", "/authorization/value", json!("0x2710")),
        (
            "value overflowing",
            "/authorization/value",
            json!("1".repeat(80)),
        ),
        ("validAfter empty", "/authorization/validAfter", json!("")),
        (
            "validBefore fractional",
            "/authorization/validBefore",
            json!("1.5"),
        ),
        ("nonce short", "/authorization/nonce", json!("0x1234")),
        (
            "nonce missing",
            "/authorization/nonce",
            serde_json::Value::Null,
        ),
    ];
    for (name, pointer, value) in edits {
        let mut payload = valid.clone();
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        let object = payload
            .pointer_mut(if parent.is_empty() { "" } else { parent })
            .unwrap()
            .as_object_mut()
            .unwrap();
        if value.is_null() {
            object.remove(field);
        } else {
            object.insert(field.to_owned(), value);
        }
        let request = request_with(&offer, payload);
        let verified = exact.verify(&request).await.unwrap();
        assert_eq!(
            verified.invalid_reason,
            Some(ErrorReason::InvalidPayload),
            "{name}: {verified:?}"
        );
        assert!(verified.invalid_message.is_some(), "{name}");
        let settled = exact.settle(&request).await.unwrap();
        assert_eq!(
            settled.error_reason,
            Some(ErrorReason::InvalidPayload),
            "{name}"
        );
    }
    assert_eq!(balances(&chain).await.1, U256::ZERO);
}

#[tokio::test]
async fn a_settlement_mined_after_the_timeout_is_found_and_reported_as_success() {
    let chain = LocalChain::start().await.unwrap();
    let evm = evm_chain_with(&chain, |b| {
        b.with_receipt_timeout(Duration::from_millis(300))
    })
    .await;
    let exact = ExactEvmFacilitator::new(evm);
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let payer = chain.accounts().payer.clone();
    let request = request(
        &offer,
        &signed(&payer, authorization(payer.address(), &offer)),
    );

    chain.set_automine(false).await.unwrap();
    let pending = exact.settle(&request).await.unwrap();
    assert!(!pending.success);
    assert_eq!(pending.error_reason, Some(ErrorReason::SettlementPending));
    let sent = pending.transaction().to_owned();
    assert_eq!(sent.len(), 66, "the pending answer names its transaction");

    // Not mined yet: still pending, and asking sends nothing new.
    let still = exact.confirm(&request, &pending).await.unwrap();
    assert_eq!(still.error_reason, Some(ErrorReason::SettlementPending));

    chain.mine().await.unwrap();
    chain.set_automine(true).await.unwrap();
    let confirmed = exact.confirm(&request, &pending).await.unwrap();
    assert!(confirmed.success, "{confirmed:?}");
    assert_eq!(confirmed.transaction(), sent);
    assert_eq!(balances(&chain).await.1, U256::from(AMOUNT));
}

#[tokio::test]
async fn several_keys_settle_many_payments_at_once_without_nonce_collisions() {
    let chain = LocalChain::start().await.unwrap();
    let keys: Vec<PrivateKeySigner> = (0..3).map(|i| settler(&chain, i)).collect();
    let evm = evm_chain_with(&chain, |mut b| {
        for key in &keys[1..] {
            b = b.with_signer(key.clone());
        }
        b
    })
    .await;
    assert_eq!(evm.signer_addresses().len(), 3);
    let exact = ExactEvmFacilitator::new(evm);
    assert_eq!(exact.signers().len(), 3);
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let payer = chain.accounts().payer.clone();
    let requests: Vec<VerifyRequest> = (0..12)
        .map(|_| {
            request(
                &offer,
                &signed(&payer, authorization(payer.address(), &offer)),
            )
        })
        .collect();
    let results = futures_util::future::join_all(requests.iter().map(|r| exact.settle(r))).await;
    let mut senders = std::collections::HashSet::new();
    let mut hashes = std::collections::HashSet::new();
    for settled in results {
        let receipt = receipt_of(&chain, &settled.unwrap()).await;
        senders.insert(receipt.from);
        hashes.insert(receipt.transaction_hash);
    }
    assert_eq!(hashes.len(), 12);
    assert_eq!(senders.len(), 3, "round-robin over the keys");
    assert_eq!(balances(&chain).await.1, U256::from(12 * AMOUNT));
}

#[tokio::test]
async fn later_settlements_use_the_learned_gas_limit_even_for_a_costlier_transfer() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let payer = chain.accounts().payer.clone();
    let gas_limit_of = |settled: coinslot_core::SettleResponse| {
        let chain = &chain;
        async move {
            let receipt = receipt_of(chain, &settled).await;
            assert!(receipt.status());
            let tx = chain
                .provider()
                .get_transaction_by_hash(receipt.transaction_hash)
                .await
                .unwrap()
                .unwrap();
            (
                alloy::consensus::Transaction::gas_limit(&tx),
                receipt.gas_used,
            )
        }
    };
    // The cheapest transfer first, to a payee that holds a balance already (no balance set
    // from zero): the estimate the limit is learned from.
    let holder = Address::repeat_byte(0x66);
    chain.mint_usdc(holder, U256::from(1)).await.unwrap();
    let to_holder = requirements(holder, AMOUNT);
    let first = request(
        &to_holder,
        &signed(&payer, authorization(payer.address(), &to_holder)),
    );
    let (estimated, cheap_used) = gas_limit_of(exact.settle(&first).await.unwrap()).await;
    // Then a payee whose balance starts at zero: more gas, under the learned limit.
    let fresh = Address::repeat_byte(0x77);
    let to_fresh = requirements(fresh, AMOUNT);
    let second = request(
        &to_fresh,
        &signed(&payer, authorization(payer.address(), &to_fresh)),
    );
    let (learned, costly_used) = gas_limit_of(exact.settle(&second).await.unwrap()).await;
    assert!(costly_used > cheap_used, "{costly_used} vs {cheap_used}");
    // The first went out at the estimate E plus 20%, the second at the learned 2E.
    assert!(
        (learned * 3).abs_diff(estimated * 5) <= 10 && learned > costly_used,
        "estimated {estimated}, learned {learned}, used {costly_used}"
    );
    assert_eq!(chain.usdc_balance(fresh).await.unwrap(), U256::from(AMOUNT));
    // A payment that would revert is still refused before sending, under the learned limit.
    let again = exact.settle(&second).await.unwrap();
    assert_eq!(
        again.error_reason,
        Some(ErrorReason::InvalidExactEvmNonceAlreadyUsed)
    );
    assert_eq!(again.transaction(), "");
}

#[tokio::test]
async fn a_gas_price_above_the_cap_sends_nothing() {
    let chain = LocalChain::start().await.unwrap();
    let evm = evm_chain_with(&chain, |b| b.with_max_fee_per_gas(1)).await;
    let exact = ExactEvmFacilitator::new(evm);
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let payer = chain.accounts().payer.clone();
    let request = request(
        &offer,
        &signed(&payer, authorization(payer.address(), &offer)),
    );
    assert!(exact.verify(&request).await.unwrap().is_valid);
    let error = exact.settle(&request).await.unwrap_err();
    assert!(error.to_string().contains("above the cap"), "{error}");
    assert_eq!(balances(&chain).await.1, U256::ZERO);
}

#[tokio::test]
async fn the_payment_id_is_the_authorization_not_its_encoding() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let payer = chain.accounts().payer.clone();
    let payload = signed(&payer, authorization(payer.address(), &offer));
    let key = exact.payment_id(&request(&offer, &payload));
    // The same authorization with a malleated signature is the same money movement.
    assert_eq!(key, exact.payment_id(&request(&offer, &high_s(&payload))));
    let other = signed(&payer, authorization(payer.address(), &offer));
    assert_ne!(key, exact.payment_id(&request(&offer, &other)));
}

#[tokio::test]
async fn a_settlement_beaten_to_the_authorization_reports_the_transfer_that_happened() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let payer = chain.accounts().payer.clone();
    let payload = signed(&payer, authorization(payer.address(), &offer));
    let request = request(&offer, &payload);

    // Our settlement waits in the mempool; a front-runner sends the same authorization.
    chain.set_automine(false).await.unwrap();
    let settling = {
        let request = request.clone();
        tokio::spawn(async move { exact.settle(&request).await })
    };
    chain
        .wait_for_pending(settler(&chain, 0).address())
        .await
        .unwrap();
    let a = &payload.authorization;
    let front_runner = chain.provider_for(&chain.accounts().others[2]);
    let competing = coinslot_testkit::bindings::TestUsdc::new(USDC, front_runner)
        .transferWithAuthorization_1(
            a.from,
            a.to,
            a.value,
            a.valid_after,
            a.valid_before,
            a.nonce,
            payload.signature.clone(),
        )
        .gas(200_000)
        .max_priority_fee_per_gas(50_000_000_000)
        .max_fee_per_gas(100_000_000_000)
        .send()
        .await
        .unwrap();
    let competing = *competing.tx_hash();
    chain.mine().await.unwrap();
    chain.set_automine(true).await.unwrap();

    let settled = settling.await.unwrap().unwrap();
    assert!(settled.success, "{settled:?}");
    assert_eq!(settled.transaction(), competing.to_string());
    assert_eq!(balances(&chain).await.1, U256::from(AMOUNT));
}

#[tokio::test]
async fn a_transaction_reverted_in_its_block_is_a_failure_with_its_reason() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let payer = chain.accounts().payer.clone();
    let request = request(
        &offer,
        &signed(&payer, authorization(payer.address(), &offer)),
    );

    // Our settlement waits in the mempool; the payer empties their balance ahead of it.
    chain.set_automine(false).await.unwrap();
    let settling = {
        let request = request.clone();
        tokio::spawn(async move { exact.settle(&request).await })
    };
    chain
        .wait_for_pending(settler(&chain, 0).address())
        .await
        .unwrap();
    let _drain = coinslot_testkit::bindings::TestUsdc::new(USDC, chain.provider_for(&payer))
        .transfer(Address::repeat_byte(0x99), U256::from(PAYER_USDC))
        .gas(100_000)
        .max_priority_fee_per_gas(50_000_000_000)
        .max_fee_per_gas(100_000_000_000)
        .send()
        .await
        .unwrap();
    chain.mine().await.unwrap();
    chain.set_automine(true).await.unwrap();

    let settled = settling.await.unwrap().unwrap();
    assert!(!settled.success);
    assert_eq!(
        settled.error_reason,
        Some(ErrorReason::InvalidExactEvmInsufficientBalance),
        "{settled:?}"
    );
    assert!(
        settled
            .error_message
            .as_deref()
            .is_some_and(|m| m.contains("exceeds balance")),
        "{settled:?}"
    );
    assert_eq!(
        settled.transaction().len(),
        66,
        "the reverted transaction is named"
    );
    assert_eq!(balances(&chain).await.1, U256::ZERO);
}

#[tokio::test]
async fn a_transfer_the_token_refuses_is_not_sent_and_says_why() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    // The payer signs under a name the token does not have: every local check passes (the
    // signature matches `extra`), the token refuses.
    let mut offer = requirements(chain.accounts().payee.address(), AMOUNT);
    offer
        .extra
        .as_mut()
        .unwrap()
        .insert("name".into(), "USD Coin".into());
    let client = ExactEvmClient::new(chain.accounts().payer.clone());
    let payment = client.create_payment_payload(&offer, None).await.unwrap();
    let request = VerifyRequest::v2(payment, offer);

    let verified = exact.verify(&request).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::InvalidExactEvmTokenNameMismatch)
    );
    let settled = exact.settle(&request).await.unwrap();
    assert!(!settled.success);
    assert_eq!(
        settled.error_reason,
        Some(ErrorReason::InvalidExactEvmSignature)
    );
    assert!(
        settled
            .error_message
            .as_deref()
            .is_some_and(|m| m.contains("invalid signature")),
        "{settled:?}"
    );
    assert_eq!(
        settled.transaction(),
        "",
        "refused by the gas estimate, nothing sent"
    );
    let sent = chain
        .provider()
        .get_transaction_count(settler(&chain, 0).address())
        .await
        .unwrap();
    assert_eq!(sent, 0);
}

#[tokio::test]
async fn only_the_allowed_assets_are_settled() {
    let chain = LocalChain::start().await.unwrap();
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    let payer = chain.accounts().payer.clone();
    let request = request(
        &offer,
        &signed(&payer, authorization(payer.address(), &offer)),
    );

    let elsewhere = facilitator(&chain)
        .await
        .with_asset(Address::repeat_byte(0x55));
    let refused = elsewhere.verify(&request).await.unwrap();
    assert_eq!(
        refused.invalid_reason,
        Some(ErrorReason::InvalidPaymentRequirements),
        "{refused:?}"
    );
    let refused = elsewhere.settle(&request).await.unwrap();
    assert_eq!(
        refused.error_reason,
        Some(ErrorReason::InvalidPaymentRequirements)
    );
    assert_eq!(balances(&chain).await.1, U256::ZERO);

    let usdc_only = facilitator(&chain).await.with_asset(USDC);
    assert!(usdc_only.verify(&request).await.unwrap().is_valid);
}

#[tokio::test]
async fn the_local_checks_decide_a_key_signed_payment_without_the_chain() {
    let chain = LocalChain::start().await.unwrap();
    let exact = facilitator(&chain).await;
    let payer = chain.accounts().payer.clone();
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);

    let valid = signed(&payer, authorization(payer.address(), &offer));
    let answer = exact.verify_local(&request(&offer, &valid)).unwrap();
    assert!(answer.is_valid, "{answer:?}");
    assert_eq!(answer.payer, Some(payer.address().to_checksum(None)));

    let mut more = authorization(payer.address(), &offer);
    more.value = U256::from(AMOUNT + 1);
    let answer = exact
        .verify_local(&request(&offer, &signed(&payer, more)))
        .unwrap();
    assert!(!answer.is_valid);
    assert_eq!(
        answer.invalid_reason,
        Some(ErrorReason::InvalidExactEvmPayloadAuthorizationValueMismatch)
    );

    // Not the key of `from`: perhaps a contract wallet's signature, which only the chain can
    // check, so the local checks do not decide.
    let foreign = signed(
        &PrivateKeySigner::random(),
        authorization(payer.address(), &offer),
    );
    assert!(exact.verify_local(&request(&offer, &foreign)).is_none());
    // And what they decide agrees with verify.
    assert!(
        exact
            .verify(&request(&offer, &valid))
            .await
            .unwrap()
            .is_valid
    );
}
