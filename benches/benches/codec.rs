//! Micro benches of the protocol's hot paths, the same on every request: the header codec (a
//! payment in, a challenge out), matching a payment to the offers, and reading amounts.

#![allow(missing_docs)]

use std::hint::black_box;

use coinslot_benches::samples;
use coinslot_core::{
    PaymentPayload, PaymentRequired, Price, ResourceInfo, TokenAmount, find_matching_requirements,
    header,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

fn header_codec(c: &mut Criterion) {
    let payer = samples::offline_payer();
    let offer = samples::usdc_offer(alloy::primitives::Address::repeat_byte(0x11));
    let resource: ResourceInfo = serde_json::from_value(serde_json::json!({
        "url": "https://api.example.com/weather",
        "description": "Weather",
        "mimeType": "application/json"
    }))
    .expect("a resource");
    let payment = runtime()
        .block_on(samples::evm_payments(&payer, &offer, Some(&resource), 1))
        .expect("a signed payment")
        .remove(0);
    let encoded = header::encode(&payment).expect("encodes");
    let challenge: PaymentRequired = serde_json::from_value(serde_json::json!({
        "x402Version": 2,
        "error": "PAYMENT-SIGNATURE header is required",
        "resource": resource,
        "accepts": [offer],
    }))
    .expect("a challenge");
    let challenge_header = header::encode(&challenge).expect("encodes");

    let mut group = c.benchmark_group("header");
    group.bench_function("decode_payment", |b| {
        b.iter(|| header::decode::<PaymentPayload>(black_box(encoded.as_bytes())).unwrap())
    });
    group.bench_function("encode_payment", |b| {
        b.iter(|| header::encode(black_box(&payment)).unwrap())
    });
    group.bench_function("decode_challenge", |b| {
        b.iter(|| {
            header::decode::<PaymentRequired>(black_box(challenge_header.as_bytes())).unwrap()
        })
    });
    group.bench_function("encode_challenge", |b| {
        b.iter(|| header::encode(black_box(&challenge)).unwrap())
    });
    group.finish();
}

fn matching(c: &mut Criterion) {
    // Three offers, the payment for the last: every field of the first two is compared.
    let offers: Vec<_> = [0x11, 0x22, 0x33]
        .map(|b| samples::usdc_offer(alloy::primitives::Address::repeat_byte(b)))
        .into();
    let accepted = offers[2].clone();
    c.benchmark_group("matching")
        .bench_function("find_requirement", |b| {
            b.iter(|| find_matching_requirements(black_box(&offers), black_box(&accepted)).unwrap())
        });
}

fn amounts(c: &mut Criterion) {
    let mut group = c.benchmark_group("amount");
    group.bench_function("parse_atomic", |b| {
        b.iter(|| {
            TokenAmount::parse(black_box(
                "115792089237316195423570985008687907853269984665640564039457584007913129639935",
            ))
            .unwrap()
        })
    });
    group.bench_function("parse_price", |b| {
        b.iter(|| Price::parse(black_box("$0.001")).unwrap())
    });
    let price = Price::parse("$0.001").unwrap();
    group.bench_function("price_to_atomic", |b| {
        b.iter(|| black_box(&price).to_atomic(6).unwrap())
    });
    group.finish();
}

criterion_group!(benches, header_codec, matching, amounts);
criterion_main!(benches);
