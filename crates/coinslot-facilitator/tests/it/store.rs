//! The stores' own contract: of many concurrent claims of one key, exactly one wins; records
//! read back as written.

use coinslot_core::{Network, SettleResponse};
use coinslot_facilitator::store::{MemoryStore, Record, SettlementStore, SqliteStore};

async fn contract(store: impl SettlementStore + Clone) {
    let claims = futures_util::future::join_all((0..32).map(|_| {
        let store = store.clone();
        async move { store.claim("k").await.unwrap() }
    }))
    .await;
    assert_eq!(
        claims.iter().filter(|c| c.is_none()).count(),
        1,
        "one winner"
    );
    assert!(claims.iter().flatten().all(|r| *r == Record::InFlight));

    let pending = SettleResponse::success("0xabc", Network::base_sepolia(), "0xpayer");
    store
        .put("k", &Record::Pending(pending.clone()))
        .await
        .unwrap();
    assert_eq!(
        store.claim("k").await.unwrap(),
        Some(Record::Pending(pending.clone()))
    );
    // Of the callers that finish one pending settlement at once, one is first.
    let settled = Record::Settled(pending.clone());
    let finished = futures_util::future::join_all((0..16).map(|_| {
        let (store, settled) = (store.clone(), settled.clone());
        async move { store.finish_pending("k", &settled).await.unwrap() }
    }))
    .await;
    assert_eq!(finished.iter().filter(|first| **first).count(), 1);
    assert_eq!(store.get("k").await.unwrap(), Some(settled.clone()));
    assert!(!store.finish_pending("k", &settled).await.unwrap());
    assert!(!store.finish_pending("absent", &settled).await.unwrap());
    assert_eq!(store.get("absent").await.unwrap(), None);
    // A release only gives up a claim, never a record of something sent.
    store.release("k").await.unwrap();
    assert!(store.get("k").await.unwrap().is_some());

    assert_eq!(store.claim("free").await.unwrap(), None);
    store.release("free").await.unwrap();
    assert_eq!(store.get("free").await.unwrap(), None);
}

#[tokio::test]
async fn the_memory_store_keeps_the_contract() {
    contract(std::sync::Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn the_sqlite_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(SqliteStore::open(dir.path().join("s.db")).unwrap()).await;
}
