//! Verification without any RPC, against its floor: the local checks of an `exact` payment
//! (EIP-3009, and Permit2) and the decoding and signature checks of a Stacks transaction, each beside one raw
//! secp256k1 public-key recovery (what every such check must do at least once), with k256 and
//! with libsecp256k1 (the backend both scheme crates use by default).

#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use alloy::providers::{Provider as _, ProviderBuilder};
use coinslot_benches::samples;
use coinslot_core::VerifyRequest;
use coinslot_evm::EvmChain;
use coinslot_evm::exact::ExactEvmFacilitator;
use coinslot_stacks::{HighS, Transaction};
use criterion::{Criterion, criterion_group, criterion_main};
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// One recovery of a public key from a 32-byte digest and a signature: the floor.
fn floor(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[5u8; 32].into()).expect("a key");
    let digest = [42u8; 32];
    let (signature, recovery_id): (Signature, RecoveryId) =
        key.sign_prehash_recoverable(&digest).expect("signs");
    let libsecp_signature = secp256k1::ecdsa::RecoverableSignature::from_compact(
        &signature.to_bytes(),
        secp256k1::ecdsa::RecoveryId::try_from(i32::from(recovery_id.to_byte())).expect("0..4"),
    )
    .expect("a signature");
    let message = secp256k1::Message::from_digest(digest);
    // Groups name criterion's folders: `secp256k1/recover`, read by the report.
    let mut group = c.benchmark_group("secp256k1");
    group.bench_function("recover", |b| {
        b.iter(|| {
            VerifyingKey::recover_from_prehash(
                black_box(&digest),
                black_box(&signature),
                black_box(recovery_id),
            )
            .unwrap()
        })
    });
    group.bench_function("recover_libsecp256k1", |b| {
        b.iter(|| {
            secp256k1::SECP256K1
                .recover_ecdsa(black_box(message), black_box(&libsecp_signature))
                .unwrap()
        })
    });
    group.finish();
}

fn evm(c: &mut Criterion) {
    let runtime = runtime();
    // The node is never asked: the chain id is given and the checks are the local ones.
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http("http://127.0.0.1:9".parse().expect("a URL"))
        .erased();
    let chain = runtime
        .block_on(
            EvmChain::builder(provider)
                .with_chain_id(coinslot_testkit::CHAIN_ID)
                .with_signer(samples::offline_payer())
                .build(),
        )
        .expect("a chain");
    let exact = ExactEvmFacilitator::new(Arc::new(chain));
    let offer = samples::usdc_offer(alloy::primitives::Address::repeat_byte(0x11));
    let payment = runtime
        .block_on(samples::evm_payments(
            &samples::offline_payer(),
            &offer,
            None,
            1,
        ))
        .expect("a signed payment")
        .remove(0);
    let body = samples::facilitator_body(&payment);
    let request: VerifyRequest = serde_json::from_slice(&body).expect("a verify request");
    let answer = exact.verify_local(&request).expect("a key's signature");
    assert!(answer.is_valid, "the sample payment verifies: {answer:?}");

    let permit2_offer = coinslot_testkit::permit2_requirements(
        alloy::primitives::Address::repeat_byte(0x11),
        coinslot_testkit::USDC,
        coinslot_benches::serve::PRICE_UNITS,
    );
    let permit2_payment = runtime
        .block_on(samples::evm_payments(
            &samples::offline_payer(),
            &permit2_offer,
            None,
            1,
        ))
        .expect("a signed Permit2 payment")
        .remove(0);
    let permit2: VerifyRequest =
        serde_json::from_slice(&samples::facilitator_body(&permit2_payment)).expect("a request");
    let answer = exact.verify_local(&permit2).expect("a key's signature");
    assert!(
        answer.is_valid,
        "the sample Permit2 payment verifies: {answer:?}"
    );

    let mut group = c.benchmark_group("evm");
    group.bench_function("verify_local", |b| {
        b.iter(|| exact.verify_local(black_box(&request)).unwrap())
    });
    group.bench_function("verify_local_permit2", |b| {
        b.iter(|| exact.verify_local(black_box(&permit2)).unwrap())
    });
    group.bench_function("verify_local_from_json", |b| {
        b.iter(|| {
            let request: VerifyRequest = serde_json::from_slice(black_box(&body)).unwrap();
            exact.verify_local(&request).unwrap()
        })
    });
    group.finish();
}

fn stacks(c: &mut Criterion) {
    let transaction = runtime()
        .block_on(samples::stacks_transfers(1))
        .expect("a signed transfer")
        .remove(0);
    let bytes = transaction.to_bytes();
    c.benchmark_group("stacks")
        .bench_function("decode_verify", |b| {
            b.iter(|| {
                let transaction = Transaction::from_bytes(black_box(&bytes)).unwrap();
                transaction.verify(HighS::Refuse).unwrap()
            })
        });
}

criterion_group!(benches, floor, evm, stacks);
criterion_main!(benches);
