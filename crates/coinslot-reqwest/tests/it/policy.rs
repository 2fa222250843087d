//! The spending policy: every refusal is typed, says which rule refused, and comes before
//! anything is signed; the budget holds under concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use alloy::primitives::U256;
use coinslot_reqwest::{
    AssetLimit, Error, Limits, Payer, PayingClient, RefusalReason, SpendingPolicy,
};
use coinslot_testkit::LocalChain;
use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::{Counted, PRICE, server};

fn client(wallet: &Counted, policy: SpendingPolicy) -> PayingClient {
    PayingClient::new(
        reqwest::Client::new(),
        Payer::builder()
            .with_wallet(wallet.clone())
            .with_policy(policy)
            .build(),
    )
}

fn refusals(error: Error) -> Vec<RefusalReason> {
    match error {
        Error::NoAcceptableOffer { refusals } => refusals.into_iter().map(|r| r.reason).collect(),
        other => panic!("expected NoAcceptableOffer, got {other}"),
    }
}

#[tokio::test]
async fn each_rule_refuses_before_signing() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let wallet = Counted::new(&chain);
    let policy = SpendingPolicy::new().allow(
        AssetLimit::usdc_base_sepolia(Limits {
            per_request: "0.5",
            budget: "10",
        })
        .unwrap(),
    );
    let client = client(&wallet, policy);
    let get = |path: &str| client.send(client.get(format!("{url}{path}")));

    let error = get("/dear").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("price 1 is above the cap of 0.5 per request"),
        "{error}"
    );
    assert_eq!(
        refusals(error),
        [RefusalReason::OverRequestCap {
            cap: "0.5".into(),
            price: "1".into()
        }]
    );
    assert_eq!(
        refusals(get("/base").await.unwrap_err()),
        [RefusalReason::NetworkNotAllowed]
    );
    assert_eq!(
        refusals(get("/other-token").await.unwrap_err()),
        [RefusalReason::AssetNotAllowed]
    );

    // No wallet at all for the offer.
    let nobody = PayingClient::new(
        reqwest::Client::new(),
        Payer::builder().with_policy(one_usdc()).build(),
    );
    let error = nobody
        .send(nobody.get(format!("{url}/paid")))
        .await
        .unwrap_err();
    assert_eq!(refusals(error), [RefusalReason::NoWallet]);

    // No policy: nothing is paid.
    let error = self::client(&wallet, SpendingPolicy::new())
        .send(client.get(format!("{url}/paid")))
        .await
        .unwrap_err();
    assert_eq!(refusals(error), [RefusalReason::NetworkNotAllowed]);

    assert_eq!(wallet.signed(), 0);
}

#[tokio::test]
async fn the_budget_holds_under_concurrency() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let payee = chain.accounts().payee.address();
    let before = chain.usdc_balance(payee).await.unwrap();
    let wallet = Counted::new(&chain);
    // Five payments' worth, asked for ten times at once.
    let client = client(
        &wallet,
        SpendingPolicy::new().allow(
            AssetLimit::usdc_base_sepolia(Limits {
                per_request: "$0.01",
                budget: "$0.05",
            })
            .unwrap(),
        ),
    );
    let results = join_all((0..10).map(|_| client.send(client.get(format!("{url}/paid"))))).await;
    let paid = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.status() == StatusCode::OK))
        .count();
    assert_eq!(paid, 5);
    for result in results.into_iter().filter(Result::is_err) {
        let reasons = refusals(result.unwrap_err());
        assert!(
            matches!(reasons[..], [RefusalReason::OverBudget { .. }]),
            "{reasons:?}"
        );
    }
    assert_eq!(wallet.signed(), 5);
    assert_eq!(
        chain.usdc_balance(payee).await.unwrap() - before,
        U256::from(5 * PRICE)
    );
    assert_eq!(client.payer().spent()[0].amount, "0.05");
    // Spent: the next one is refused too.
    let error = client
        .send(client.get(format!("{url}/paid")))
        .await
        .unwrap_err();
    assert_eq!(
        refusals(error),
        [RefusalReason::OverBudget {
            remaining: "0".into(),
            price: "0.01".into()
        }]
    );
}

/// Up to one USDC a request, one in all.
fn one_usdc() -> SpendingPolicy {
    let limits = Limits {
        per_request: "1",
        budget: "1",
    };
    SpendingPolicy::new().allow(AssetLimit::usdc_base_sepolia(limits).unwrap())
}

#[tokio::test]
async fn the_approval_hook_decides_before_signing() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let wallet = Counted::new(&chain);
    let asked = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&asked);
    let payer = Payer::builder()
        .with_wallet(wallet.clone())
        .with_policy(one_usdc())
        .with_approval(move |proposal| {
            seen.fetch_add(1, Ordering::SeqCst);
            let cheap = proposal.requirements.amount <= PRICE.into();
            Box::pin(async move { cheap })
        })
        .build();
    let client = PayingClient::new(reqwest::Client::new(), payer);
    let error = client
        .send(client.get(format!("{url}/dear")))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotApproved { .. }), "{error}");
    assert_eq!(wallet.signed(), 0);
    let response = client
        .send(client.get(format!("{url}/paid")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!((asked.load(Ordering::SeqCst), wallet.signed()), (2, 1));
    assert_eq!(
        client.payer().spent()[0].amount,
        "0.01",
        "a refused payment spends nothing"
    );
}

#[tokio::test]
async fn the_policy_order_is_the_preference() {
    let chain = LocalChain::start().await.unwrap();
    let url = server(&chain).await;
    let wallet = Counted::new(&chain);
    // The server offers Base first, then the local chain; the approval hook sees the choice.
    let choice = |policy: SpendingPolicy| {
        let chosen = Arc::new(std::sync::Mutex::new(None));
        let seen = Arc::clone(&chosen);
        let client = PayingClient::new(
            reqwest::Client::new(),
            Payer::builder()
                .with_wallet(wallet.clone())
                .with_policy(policy)
                .with_approval(move |proposal| {
                    *seen.lock().unwrap() = Some(proposal.requirements.network.to_string());
                    Box::pin(async { false })
                })
                .build(),
        );
        let url = format!("{url}/either");
        async move {
            let error = client.send(client.get(url)).await.unwrap_err();
            assert!(matches!(error, Error::NotApproved { .. }), "{error}");
            chosen.lock().unwrap().clone().unwrap()
        }
    };
    let base = AssetLimit::usdc_base(Limits {
        per_request: "1",
        budget: "1",
    })
    .unwrap();
    let local = AssetLimit::usdc_base_sepolia(Limits {
        per_request: "1",
        budget: "1",
    })
    .unwrap();
    assert_eq!(
        choice(
            SpendingPolicy::new()
                .allow(local.clone())
                .allow(base.clone())
        )
        .await,
        "eip155:84532"
    );
    assert_eq!(
        choice(SpendingPolicy::new().allow(base).allow(local)).await,
        "eip155:8453"
    );
    assert_eq!(wallet.signed(), 0);
}
