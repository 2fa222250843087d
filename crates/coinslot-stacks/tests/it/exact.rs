//! `exact` on the devnet: our client pays STX, sBTC and USDCx, our facilitator verifies and
//! settles, the balances move by exactly the price; every refusal says why and moves nothing.

use std::time::Duration;

use coinslot_core::PaymentRequirements;
use coinslot_core::{ErrorReason, JsonObject, SchemeFacilitator, VerifyRequest};
use coinslot_stacks::clarity::ClarityValue;
use coinslot_stacks::exact::{Delivery, ExactStacksClient, StacksAsset, StacksReason};
use coinslot_stacks::network::StacksNetwork;
use coinslot_stacks::transaction::{
    AnchorMode, Authorization, HashMode, KeyEncoding, Payload, PostConditionMode, SingleSig,
    SpendingCondition, Transaction,
};
use coinslot_stacks::{Principal, PrivateKey, StacksAddress};

use crate::common::{Setup, key, presented_for, request_for};

fn reason_of(name: &str) -> Option<ErrorReason> {
    Some(ErrorReason::parse(name))
}

#[tokio::test]
async fn pays_stx_sbtc_and_usdcx_and_balances_move_by_the_price() {
    let setup = Setup::testnet().await;
    let client = setup.client();
    let facilitator = setup.facilitator();
    for (name, asset) in setup.assets() {
        let offer = setup.offer(&asset, "0.001");
        let amount: u128 = offer.amount.to_string().parse().unwrap();
        let (payer_before, payee_before) = setup.balances().await;
        let request = request_for(&client, &offer).await;
        let verified = facilitator.verify(&request).await.unwrap();
        assert!(verified.is_valid, "{name}: {verified:?}");
        assert_eq!(
            verified.payer.as_deref(),
            Some(setup.payer_address().as_str())
        );
        let settled = facilitator.settle(&request).await.unwrap();
        assert!(settled.success, "{name}: {settled:?}");
        assert_eq!(
            settled.payer.as_deref(),
            Some(setup.payer_address().as_str())
        );
        let status = setup
            .devnet
            .transaction(settled.transaction())
            .await
            .unwrap();
        assert_eq!(status["tx_status"], "success", "{name}");
        let fee: u128 = status["fee_rate"].as_str().unwrap().parse().unwrap();
        let (payer_after, payee_after) = setup.balances().await;
        match asset {
            StacksAsset::Stx => {
                assert_eq!(payee_after.stx, payee_before.stx + amount, "{name}");
                assert_eq!(payer_after.stx, payer_before.stx - amount - fee, "{name}");
            }
            StacksAsset::Sip010(ref token) if token.symbol == "sBTC" => {
                assert_eq!(payee_after.sbtc, payee_before.sbtc + amount, "{name}");
                assert_eq!(payer_after.sbtc, payer_before.sbtc - amount, "{name}");
                assert_eq!(payer_after.stx, payer_before.stx - fee, "{name}");
            }
            StacksAsset::Sip010(_) => {
                assert_eq!(payee_after.usdcx, payee_before.usdcx + amount, "{name}");
                assert_eq!(payer_after.usdcx, payer_before.usdcx - amount, "{name}");
                assert_eq!(payer_after.stx, payer_before.stx - fee, "{name}");
            }
        }

        // The same transaction again: refused, and nothing moves.
        let again = facilitator.verify(&request).await.unwrap();
        assert!(!again.is_valid, "{name}: a replay verified");
        assert_eq!(
            again.invalid_reason,
            reason_of(StacksReason::AlreadyBroadcast.as_str())
        );
        assert_eq!(setup.balances().await, (payer_after, payee_after));
    }
}

#[tokio::test]
async fn pays_on_mainnet_too() {
    let setup = Setup::mainnet().await;
    let facilitator = setup.facilitator();
    for (name, asset) in setup.assets() {
        let offer = setup.offer(&asset, "0.0001");
        assert_eq!(offer.network.as_str(), "stacks:1");
        let request = request_for(&setup.client(), &offer).await;
        let settled = facilitator.settle(&request).await.unwrap();
        assert!(settled.success, "{name}: {settled:?}");
        assert!(setup.payee.starts_with("SP"));
    }
}

/// Signs a transaction by hand: what a client that breaks the rules sends.
pub(crate) fn signed(
    key: &PrivateKey,
    network: StacksNetwork,
    nonce: u64,
    payload: Payload,
) -> Transaction {
    let mut tx = Transaction {
        version: network.version(),
        chain_id: network.chain_id(),
        auth: Authorization::Standard(SpendingCondition::Single(SingleSig {
            hash_mode: HashMode::P2pkh,
            signer: [0; 20],
            nonce,
            fee: 1_000,
            key_encoding: KeyEncoding::Compressed,
            signature: [0; 65],
        })),
        anchor_mode: AnchorMode::Any,
        post_condition_mode: PostConditionMode::Allow,
        post_conditions: vec![],
        payload,
    };
    tx.sign_origin(key).unwrap();
    tx
}

pub(crate) fn with_transaction(request: &VerifyRequest, tx: &Transaction) -> VerifyRequest {
    let VerifyRequest::V2 {
        payment_payload,
        payment_requirements,
    } = request
    else {
        unreachable!()
    };
    let mut payload = payment_payload.clone();
    let mut object = JsonObject::new();
    object.insert("transaction".into(), tx.to_hex().into());
    payload.payload = object;
    VerifyRequest::v2(payload, payment_requirements.clone())
}

/// The refusals of the list, each as a request for `stx_offer` or `sbtc_offer`, from a
/// payer whose nonce 0 is used and whose next nonce is 1.
pub(crate) async fn refusal_cases(
    setup: &Setup,
    stx_offer: &PaymentRequirements,
    sbtc_offer: &PaymentRequirements,
) -> Vec<(&'static str, VerifyRequest)> {
    let client = setup.client();
    let tokens = setup.devnet.info().tokens.clone();
    let mut cases: Vec<(&'static str, VerifyRequest)> = Vec::new();

    let mut elsewhere = stx_offer.clone();
    elsewhere.pay_to = key("someone else").address(false).to_string();
    let paid_elsewhere = request_for(&client, &elsewhere).await;
    cases.push((
        StacksReason::RecipientMismatch.as_str(),
        presented_for(&paid_elsewhere, stx_offer),
    ));

    let fake = StacksAsset::Sip010(Setup::token(&tokens.fake));
    let mut fake_offer = sbtc_offer.clone();
    fake_offer.asset = fake.offer_id();
    let fake_client = setup.client().with_token(Setup::token(&tokens.fake));
    let paid_in_fake = request_for(&fake_client, &fake_offer).await;
    cases.push((
        StacksReason::AssetMismatch.as_str(),
        presented_for(&paid_in_fake, sbtc_offer),
    ));

    let mut cheaper = stx_offer.clone();
    cheaper.amount =
        coinslot_core::TokenAmount::from(stx_offer.amount.to_string().parse::<u64>().unwrap() - 1);
    let underpaid = request_for(&client, &cheaper).await;
    cases.push((
        StacksReason::AmountMismatch.as_str(),
        presented_for(&underpaid, stx_offer),
    ));

    let good = request_for(&client, stx_offer).await;
    let mut tx = Transaction::from_hex(good.payload()["transaction"].as_str().unwrap()).unwrap();
    if let Authorization::Standard(SpendingCondition::Single(origin)) = &mut tx.auth {
        origin.signature[40] ^= 0x01;
    }
    cases.push((
        StacksReason::Signature.as_str(),
        with_transaction(&good, &tx),
    ));

    let mainnet_client = ExactStacksClient::new(setup.payer.clone(), StacksNetwork::Mainnet)
        .with_fee(1_000)
        .with_nonce(1);
    let mut mainnet_offer = stx_offer.clone();
    mainnet_offer.network = coinslot_core::Network::stacks_mainnet();
    mainnet_offer.pay_to = key("coinslot test payee").address(true).to_string();
    let mainnet_payment = request_for(&mainnet_client, &mainnet_offer).await;
    cases.push((
        StacksReason::NetworkMismatch.as_str(),
        presented_for(&mainnet_payment, stx_offer),
    ));

    let amount: u128 = sbtc_offer.amount.to_string().parse().unwrap();
    let victim = key("coinslot victim").address(false);
    let theft = signed(
        &setup.payer,
        StacksNetwork::Testnet,
        1,
        sbtc_call(setup, Principal::Standard(victim), amount),
    );
    let template = request_for(&client, sbtc_offer).await;
    cases.push((
        StacksReason::SenderNotOrigin.as_str(),
        with_transaction(&template, &theft),
    ));

    let stale_client = ExactStacksClient::new(setup.payer.clone(), StacksNetwork::Testnet)
        .with_fee(1_000)
        .with_nonce(0);
    cases.push((
        StacksReason::NonceAlreadyUsed.as_str(),
        request_for(&stale_client, stx_offer).await,
    ));

    let dear_client = ExactStacksClient::new(setup.payer.clone(), StacksNetwork::Testnet)
        .with_fee(200_000)
        .with_max_fee(1_000_000)
        .with_nonce(1);
    cases.push((
        StacksReason::FeeTooHigh.as_str(),
        request_for(&dear_client, stx_offer).await,
    ));
    cases
}

/// `transfer(amount, sender, payee, none)` on the devnet's sBTC.
fn sbtc_call(setup: &Setup, sender: Principal, amount: u128) -> Payload {
    let contract: Principal = setup.devnet.info().tokens.sbtc.contract.parse().unwrap();
    let Principal::Contract(address, contract_name) = contract else {
        unreachable!()
    };
    Payload::ContractCall {
        address,
        contract_name,
        function_name: "transfer".into(),
        args: vec![
            ClarityValue::UInt(amount),
            ClarityValue::Principal(sender),
            ClarityValue::Principal(setup.payee.parse().unwrap()),
            ClarityValue::None,
        ],
    }
}

#[tokio::test]
async fn each_refusal_gives_its_reason_and_moves_nothing() {
    let setup = Setup::testnet().await;
    let facilitator = setup.facilitator();
    let sbtc = StacksAsset::Sip010(Setup::token(&setup.devnet.info().tokens.sbtc));
    let stx_offer = setup.offer(&StacksAsset::Stx, "0.001");
    let sbtc_offer = setup.offer(&sbtc, "0.00001");

    // One good payment first, so that nonce 0 is used.
    let first = request_for(&setup.client(), &stx_offer).await;
    assert!(facilitator.settle(&first).await.unwrap().success);
    let mut cases = refusal_cases(&setup, &stx_offer, &sbtc_offer).await;

    // The honest twin of the theft case verifies.
    let origin: StacksAddress = setup.payer_address().parse().unwrap();
    let honest = signed(
        &setup.payer,
        StacksNetwork::Testnet,
        1,
        sbtc_call(&setup, Principal::Standard(origin), 1_000),
    );
    let template = request_for(&setup.client(), &sbtc_offer).await;
    assert!(
        facilitator
            .verify(&with_transaction(&template, &honest))
            .await
            .unwrap()
            .is_valid
    );

    // An offer with extra.nonce wants it in the memo.
    let mut with_nonce = stx_offer.clone();
    let mut extra = JsonObject::new();
    extra.insert("nonce".into(), "order-42".into());
    with_nonce.extra = Some(extra);
    let signer = || {
        ExactStacksClient::new(setup.payer.clone(), StacksNetwork::Testnet)
            .with_fee(1_000)
            .with_nonce(1)
    };
    let memo_free = request_for(&signer(), &stx_offer).await;
    cases.push((
        StacksReason::MemoMismatch.as_str(),
        presented_for(&memo_free, &with_nonce),
    ));
    let bound = request_for(&signer(), &with_nonce).await;
    assert!(
        facilitator.verify(&bound).await.unwrap().is_valid,
        "the memo carries the nonce"
    );

    // A token transfer for an STX offer, and a call of the token that is not `transfer`.
    let sbtc_payment = request_for(&signer(), &sbtc_offer).await;
    cases.push((
        StacksReason::PayloadKind.as_str(),
        presented_for(&sbtc_payment, &stx_offer),
    ));
    let Payload::ContractCall {
        address,
        contract_name,
        ..
    } = sbtc_call(&setup, Principal::Standard(origin), 1_000)
    else {
        unreachable!()
    };
    let mint = Payload::ContractCall {
        address,
        contract_name,
        function_name: "mint".into(),
        args: vec![ClarityValue::UInt(1_000), ClarityValue::standard(origin)],
    };
    let minting = signed(&setup.payer, StacksNetwork::Testnet, 1, mint);
    cases.push((
        StacksReason::FunctionMismatch.as_str(),
        with_transaction(&template, &minting),
    ));

    // A payment to oneself moves nothing.
    let mut to_self = stx_offer.clone();
    to_self.pay_to = setup.payer_address();
    cases.push(("invalid_payment", request_for(&signer(), &to_self).await));

    let before = setup.balances().await;
    for (expected, request) in &cases {
        let verified = facilitator.verify(request).await.unwrap();
        assert!(!verified.is_valid, "{expected}: verified");
        assert_eq!(verified.invalid_reason, reason_of(expected), "{verified:?}");
        let settled = facilitator.settle(request).await.unwrap();
        assert!(!settled.success, "{expected}: settled");
        assert_eq!(settled.error_reason, reason_of(expected), "{settled:?}");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(setup.balances().await, before, "a refusal moved funds");
}

#[tokio::test]
async fn a_token_payment_without_the_tokens_aborts_and_only_the_fee_moves() {
    let setup = Setup::testnet().await;
    let poor = key("coinslot poor payer");
    let poor_address = poor.address(false).to_string();
    setup
        .devnet
        .fund(
            &poor_address,
            coinslot_testkit::stacks::Funds {
                stx: 1_000_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let client = ExactStacksClient::new(poor, StacksNetwork::Testnet).with_node(setup.node());
    let sbtc = StacksAsset::Sip010(Setup::token(&setup.devnet.info().tokens.sbtc));
    let request = request_for(&client, &setup.offer(&sbtc, "0.00001")).await;
    let settled = setup.facilitator().settle(&request).await.unwrap();
    assert!(!settled.success);
    assert_eq!(
        settled.error_reason,
        reason_of(StacksReason::TransactionAborted.as_str())
    );
    assert!(!settled.transaction().is_empty());
    let after = setup.devnet.balances(&poor_address).await.unwrap();
    assert_eq!(after.sbtc, 0);
    assert!(after.stx < 1_000_000, "the fee is paid");
}

#[tokio::test]
async fn conflicting_nonce_in_the_mempool_is_refused_by_the_node() {
    let setup = Setup::testnet().await;
    let facilitator = setup.facilitator().with_delivery(Delivery::Mempool);
    let offer = setup.offer(&StacksAsset::Stx, "0.001");
    let one = ExactStacksClient::new(setup.payer.clone(), StacksNetwork::Testnet)
        .with_fee(1_000)
        .with_nonce(0);
    let two = ExactStacksClient::new(setup.payer.clone(), StacksNetwork::Testnet)
        .with_fee(1_001)
        .with_nonce(0);
    setup.devnet.set_mining(false).await.unwrap();
    let first = request_for(&one, &offer).await;
    let accepted = facilitator.settle(&first).await.unwrap();
    assert!(
        accepted.success,
        "mempool delivery answers at acceptance: {accepted:?}"
    );
    let second = request_for(&two, &offer).await;
    let refused = facilitator.settle(&second).await.unwrap();
    assert_eq!(
        refused.error_reason,
        reason_of(StacksReason::ConflictingNonce.as_str()),
        "{refused:?}"
    );
    setup.devnet.set_mining(true).await.unwrap();
}

#[tokio::test]
async fn a_slow_settlement_is_pending_then_confirmed() {
    let setup = Setup::testnet().await;
    let facilitator = setup
        .facilitator()
        .with_confirm_timeout(Duration::from_millis(700));
    let request = request_for(&setup.client(), &setup.offer(&StacksAsset::Stx, "0.001")).await;
    setup.devnet.set_mining(false).await.unwrap();
    let pending = facilitator.settle(&request).await.unwrap();
    assert_eq!(pending.error_reason, Some(ErrorReason::SettlementPending));
    let txid = pending.transaction().to_owned();
    assert!(txid.starts_with("0x"));
    let still = facilitator.confirm(&request, &pending).await.unwrap();
    assert_eq!(still.error_reason, Some(ErrorReason::SettlementPending));
    setup.devnet.set_mining(true).await.unwrap();
    setup.devnet.mine().await.unwrap();
    let done = facilitator.confirm(&request, &pending).await.unwrap();
    assert!(done.success, "{done:?}");
    assert_eq!(done.transaction(), txid);
    // Settling it again follows the mined transaction: no second broadcast, the same answer.
    let again = facilitator.settle(&request).await.unwrap();
    assert!(again.success);
    assert_eq!(again.transaction(), txid);
}

#[tokio::test]
async fn one_transaction_settled_twice_at_once_is_sent_once() {
    let setup = Setup::testnet().await;
    let facilitator = setup.facilitator();
    let offer = setup.offer(&StacksAsset::Stx, "0.002");
    let request = request_for(&setup.client(), &offer).await;
    let (_, payee_before) = setup.balances().await;
    let (a, b) = tokio::join!(facilitator.settle(&request), facilitator.settle(&request));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.success && b.success, "{a:?} {b:?}");
    assert_eq!(a.transaction(), b.transaction());
    let (_, payee_after) = setup.balances().await;
    assert_eq!(payee_after.stx, payee_before.stx + 2_000);
}

#[tokio::test]
async fn the_nodes_rejections_and_an_empty_account_give_their_reasons() {
    let setup = Setup::testnet().await;
    let facilitator = setup.facilitator();
    let offer = setup.offer(&StacksAsset::Stx, "0.001");
    // One µSTX of fee: below the node's floor of one per byte.
    let stingy = ExactStacksClient::new(setup.payer.clone(), StacksNetwork::Testnet)
        .with_fee(1)
        .with_nonce(0);
    let request = request_for(&stingy, &offer).await;
    assert!(facilitator.verify(&request).await.unwrap().is_valid);
    let refused = facilitator.settle(&request).await.unwrap();
    assert_eq!(
        refused.error_reason,
        reason_of(StacksReason::FeeTooLow.as_str()),
        "{refused:?}"
    );

    let empty = ExactStacksClient::new(key("coinslot empty account"), StacksNetwork::Testnet)
        .with_fee(1_000)
        .with_nonce(0);
    let request = request_for(&empty, &offer).await;
    let verified = facilitator.verify(&request).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::InsufficientFunds)
    );
}

#[tokio::test]
async fn a_dropped_transaction_is_watched_not_failed() {
    let setup = Setup::testnet().await;
    let facilitator = setup
        .facilitator()
        .with_confirm_timeout(Duration::from_millis(1_500));
    let request = request_for(&setup.client(), &setup.offer(&StacksAsset::Stx, "0.001")).await;
    let txid = Transaction::from_hex(request.payload()["transaction"].as_str().unwrap())
        .unwrap()
        .txid()
        .to_string();
    setup.devnet.set_mining(false).await.unwrap();
    let (answer, dropped) = tokio::join!(facilitator.settle(&request), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        setup
            .devnet
            .drop_transaction(&txid, "dropped_replace_by_fee")
            .await
    });
    dropped.unwrap();
    let answer = answer.unwrap();
    assert_eq!(
        answer.error_reason,
        Some(ErrorReason::SettlementPending),
        "{answer:?}"
    );
    assert_eq!(answer.transaction(), txid);
}

#[tokio::test]
async fn a_transaction_another_facilitator_sent_is_not_this_payments_settlement() {
    let setup = Setup::testnet().await;
    let (first, second) = (setup.facilitator(), setup.facilitator());
    let request = request_for(&setup.client(), &setup.offer(&StacksAsset::Stx, "0.001")).await;
    assert!(first.settle(&request).await.unwrap().success);
    let refused = second.settle(&request).await.unwrap();
    assert!(!refused.success);
    assert_eq!(
        refused.error_reason,
        reason_of(StacksReason::AlreadyBroadcast.as_str())
    );
    // The facilitator that sent it still answers its settlement.
    let again = first.settle(&request).await.unwrap();
    assert!(again.success, "{again:?}");
}

#[tokio::test]
async fn the_transaction_may_carry_a_0x_prefix() {
    let setup = Setup::testnet().await;
    let request = request_for(&setup.client(), &setup.offer(&StacksAsset::Stx, "0.001")).await;
    let tx = Transaction::from_hex(request.payload()["transaction"].as_str().unwrap()).unwrap();
    let VerifyRequest::V2 {
        mut payment_payload,
        payment_requirements,
    } = request
    else {
        unreachable!()
    };
    payment_payload
        .payload
        .insert("transaction".into(), format!("0x{}", tx.to_hex()).into());
    let prefixed = VerifyRequest::v2(payment_payload, payment_requirements);
    let settled = setup.facilitator().settle(&prefixed).await.unwrap();
    assert!(settled.success, "{settled:?}");
    assert_eq!(settled.transaction(), tx.txid().to_string());
}

#[tokio::test]
async fn a_sponsored_payment_is_refused_unless_sponsoring_is_allowed() {
    let setup = Setup::testnet().await;
    let sponsor = key("coinslot sponsor");
    let sponsor_address = sponsor.address(false).to_string();
    setup
        .devnet
        .fund(
            &sponsor_address,
            coinslot_testkit::stacks::Funds {
                stx: 1_000_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let offer = setup.offer(&StacksAsset::Stx, "0.001");
    let request = request_for(&setup.client(), &offer).await;
    let mut tx = Transaction::from_hex(request.payload()["transaction"].as_str().unwrap()).unwrap();
    let mut origin = tx.auth.origin().clone();
    if let SpendingCondition::Single(single) = &mut origin {
        single.fee = 0;
    }
    tx.auth = Authorization::Sponsored {
        origin,
        sponsor: SpendingCondition::Single(SingleSig {
            hash_mode: HashMode::P2pkh,
            signer: [0; 20],
            nonce: 0,
            fee: 2_000,
            key_encoding: KeyEncoding::Compressed,
            signature: [0; 65],
        }),
    };
    tx.sign_origin(&setup.payer).unwrap();
    tx.sign_sponsor(&sponsor).unwrap();
    let sponsored = with_transaction(&request, &tx);

    let refused = setup.facilitator().verify(&sponsored).await.unwrap();
    assert_eq!(
        refused.invalid_reason,
        reason_of(StacksReason::Sponsored.as_str()),
        "{refused:?}"
    );

    let (payer_before, payee_before) = setup.balances().await;
    let settled = setup
        .facilitator()
        .with_sponsored(true)
        .settle(&sponsored)
        .await
        .unwrap();
    assert!(settled.success, "{settled:?}");
    let (payer_after, payee_after) = setup.balances().await;
    assert_eq!(payee_after.stx - payee_before.stx, 1_000);
    assert_eq!(
        payer_before.stx - payer_after.stx,
        1_000,
        "the sponsor paid the fee"
    );
    let sponsor_after = setup.devnet.balances(&sponsor_address).await.unwrap();
    assert_eq!(sponsor_after.stx, 1_000_000 - 2_000);
}
