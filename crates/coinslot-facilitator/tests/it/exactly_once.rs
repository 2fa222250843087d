//! One payment, one transaction: concurrent settles, a settlement in progress, a late
//! transaction, a restart.

use std::time::Duration;

use alloy::primitives::U256;
use coinslot_core::{
    ErrorReason, Facilitator, PaymentRequirements, SchemeClient as _, SettleResponse, VerifyRequest,
};
use coinslot_evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot_facilitator::store::{MemoryStore, SqliteStore};
use coinslot_facilitator::{FacilitatorApi, HttpFacilitator, LocalFacilitator};
use coinslot_testkit::{LocalChain, USDC, upto_requirements};

use crate::common::{
    AMOUNT, evm_chain, exact, local, payee_balance, payment, sent_by_settler, serve,
};

/// What every settle of a payment but the first that succeeded is answered.
fn assert_duplicate_of(answer: &SettleResponse, first: &SettleResponse) {
    assert!(!answer.success, "{answer:?}");
    assert_eq!(
        answer.error_reason,
        Some(ErrorReason::DuplicateSettlement),
        "{answer:?}"
    );
    assert_eq!(answer.transaction(), first.transaction());
    assert_eq!(answer.payer, first.payer);
}

#[tokio::test]
async fn fifty_concurrent_settles_over_http_send_one_transaction_and_succeed_once() {
    let chain = LocalChain::start().await.unwrap();
    let url = serve(FacilitatorApi::new(local(&chain, MemoryStore::new()).await)).await;
    let client = HttpFacilitator::new(&url).unwrap();
    let request = payment(&chain).await;

    let answers = futures_util::future::join_all((0..50).map(|_| client.settle(&request))).await;
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    let (succeeded, others): (Vec<_>, Vec<_>) = answers.iter().partition(|a| a.success);
    assert_eq!(succeeded.len(), 1, "one success of 50: {answers:?}");
    let first = succeeded[0];
    assert!(!first.transaction().is_empty());
    for other in others {
        assert_duplicate_of(other, first);
    }
    assert_eq!(sent_by_settler(&chain).await, 1, "one transaction");
    assert_eq!(payee_balance(&chain).await, U256::from(AMOUNT));

    // And later, a duplicate again, still without a transaction.
    assert_duplicate_of(&client.settle(&request).await.unwrap(), first);
    assert_eq!(sent_by_settler(&chain).await, 1);
}

#[tokio::test]
async fn a_payment_being_settled_or_settled_is_not_verified_as_fresh() {
    let chain = LocalChain::start().await.unwrap();
    let facilitator = LocalFacilitator::builder()
        .with_scheme(exact(&chain, Duration::from_secs(20)).await)
        .build();
    let request = payment(&chain).await;
    assert!(facilitator.verify(&request).await.unwrap().is_valid);

    // Hold the settlement in the mempool, and verify meanwhile.
    chain.set_automine(false).await.unwrap();
    let settling = {
        let facilitator = facilitator.clone();
        let request = request.clone();
        tokio::spawn(async move { facilitator.settle(&request).await })
    };
    chain
        .wait_for_pending(crate::common::settler(&chain).address())
        .await
        .unwrap();
    let meanwhile = facilitator.verify(&request).await.unwrap();
    assert_eq!(
        meanwhile.invalid_reason,
        Some(ErrorReason::DuplicateSettlement)
    );

    chain.mine().await.unwrap();
    chain.set_automine(true).await.unwrap();
    let settled = settling.await.unwrap().unwrap();
    assert!(settled.success, "{settled:?}");
    let after = facilitator.verify(&request).await.unwrap();
    assert_eq!(after.invalid_reason, Some(ErrorReason::DuplicateSettlement));
}

/// Transactions of the settlement key counted with the mempool.
async fn sent_by_pending(chain: &LocalChain) -> u64 {
    use alloy::providers::Provider as _;
    chain
        .provider()
        .get_transaction_count(crate::common::settler(chain).address())
        .pending()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_transaction_mined_after_the_timeout_is_reported_as_the_success_it_is() {
    let chain = LocalChain::start().await.unwrap();
    let facilitator = LocalFacilitator::builder()
        .with_scheme(exact(&chain, Duration::from_millis(300)).await)
        .build();
    let request = payment(&chain).await;

    chain.set_automine(false).await.unwrap();
    let first = facilitator.settle(&request).await.unwrap();
    assert_eq!(first.error_reason, Some(ErrorReason::SettlementPending));
    let sent = first.transaction().to_owned();
    assert!(!sent.is_empty());

    // Asked again while it waits: still pending, nothing new sent.
    let second = facilitator.settle(&request).await.unwrap();
    assert_eq!(second.error_reason, Some(ErrorReason::SettlementPending));
    assert_eq!(sent_by_pending(&chain).await, 1);

    chain.mine().await.unwrap();
    chain.set_automine(true).await.unwrap();
    let third = facilitator.settle(&request).await.unwrap();
    assert!(third.success, "{third:?}");
    assert_eq!(third.transaction(), sent);
    assert_eq!(payee_balance(&chain).await, U256::from(AMOUNT));
    assert_eq!(sent_by_settler(&chain).await, 1);

    // The settle that learned of the success was the one success; a fourth is a duplicate.
    assert_duplicate_of(&facilitator.settle(&request).await.unwrap(), &third);
}

#[tokio::test]
async fn with_sqlite_a_restarted_facilitator_still_refuses_what_it_settled() {
    let chain = LocalChain::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settlements.db");
    let request = payment(&chain).await;

    let first = {
        let facilitator = local(&chain, SqliteStore::open(&path).unwrap()).await;
        facilitator.settle(&request).await.unwrap()
    };
    assert!(first.success, "{first:?}");

    // A new process, in effect: new facilitator, new store handle, same file.
    let restarted = local(&chain, SqliteStore::open(&path).unwrap()).await;
    let verified = restarted.verify(&request).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::DuplicateSettlement)
    );
    assert_duplicate_of(&restarted.settle(&request).await.unwrap(), &first);
    assert_eq!(sent_by_settler(&chain).await, 1);
    assert_eq!(payee_balance(&chain).await, U256::from(AMOUNT));
}

#[tokio::test]
async fn fifty_concurrent_upto_settles_of_one_permit_move_one_charge() {
    let chain = LocalChain::start().await.unwrap();
    let payer = chain.accounts().payer.clone();
    chain.approve_permit2(&payer, USDC).await.unwrap();
    let evm = evm_chain(&chain, Duration::from_secs(10)).await;
    let facilitator = LocalFacilitator::builder()
        .with_scheme(UptoEvmFacilitator::new(evm))
        .build();
    let url = serve(FacilitatorApi::new(facilitator)).await;
    let client = HttpFacilitator::new(&url).unwrap();

    // The payer names the facilitator `/supported` publishes.
    let supported = client.supported().await.unwrap();
    let kind = supported.kinds.iter().find(|k| k.scheme == "upto").unwrap();
    let named = kind.extra.as_ref().unwrap()["facilitatorAddress"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let offer = upto_requirements(chain.accounts().payee.address(), USDC, AMOUNT, named);
    let payment = UptoEvmClient::new(payer)
        .create_payment_payload(&offer, None)
        .await
        .unwrap();
    let verify = VerifyRequest::v2(payment.clone(), offer.clone());
    assert!(client.verify(&verify).await.unwrap().is_valid);

    // Fifty settles of the one permit, each charging something else: one charge moves.
    let charge = |i: u64| {
        let charged = PaymentRequirements {
            amount: U256::from(100 + i).into(),
            ..offer.clone()
        };
        VerifyRequest::v2(payment.clone(), charged)
    };
    let requests: Vec<_> = (0..50).map(charge).collect();
    let answers =
        futures_util::future::join_all(requests.iter().map(|request| client.settle(request))).await;
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    let (succeeded, others): (Vec<_>, Vec<_>) = answers.iter().partition(|a| a.success);
    assert_eq!(succeeded.len(), 1, "one success of 50: {answers:?}");
    let first = succeeded[0];
    for other in others {
        assert_duplicate_of(other, first);
    }
    assert_eq!(sent_by_settler(&chain).await, 1, "one transaction");
    let moved = first.amount.unwrap().as_u256();
    assert!(
        moved >= U256::from(100) && moved < U256::from(150),
        "{first:?}"
    );
    assert_eq!(payee_balance(&chain).await, moved);

    // The permit is spent for this facilitator even where a charge of 0 would send nothing.
    assert_duplicate_of(&client.settle(&charge(0)).await.unwrap(), first);
}
