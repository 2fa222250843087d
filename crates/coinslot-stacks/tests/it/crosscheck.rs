//! Our codec against `@stacks/transactions`: 1,000 transactions it built decode to the same
//! fields and txid here, and those it signed verify; transactions we sign decode and verify
//! there.

use coinslot_core::{Price, SchemeClient};
use coinslot_stacks::clarity::ClarityValue;
use coinslot_stacks::exact::{ExactStacksClient, Sip010Token, StacksAsset, stacks_requirements};
use coinslot_stacks::network::StacksNetwork;
use coinslot_stacks::transaction::{
    AuthField, Authorization, Payload, PostCondition, PostConditionPrincipal, SpendingCondition,
};
use coinslot_stacks::{HighS, Principal, Transaction};
use coinslot_testkit::stacks::{stacks_js_check, stacks_js_generate};
use serde_json::{Value, json};

use crate::common::key;

fn condition(c: &SpendingCondition) -> Value {
    match c {
        SpendingCondition::Single(s) => json!({
            "hashMode": s.hash_mode as u8,
            "signer": hex::encode(s.signer),
            "nonce": s.nonce.to_string(),
            "fee": s.fee.to_string(),
            "keyEncoding": s.key_encoding as u8,
            "signature": hex::encode(s.signature),
        }),
        SpendingCondition::Multi(m) => json!({
            "hashMode": m.hash_mode as u8,
            "signer": hex::encode(m.signer),
            "nonce": m.nonce.to_string(),
            "fee": m.fee.to_string(),
            "signaturesRequired": m.signatures_required,
            "fields": m.fields.iter().map(|f| match f {
                AuthField::PublicKey { encoding, key } => format!("key:{}:{}", *encoding as u8, hex::encode(key)),
                AuthField::Signature { encoding, signature } => format!("sig:{}:{}", *encoding as u8, hex::encode(signature)),
            }).collect::<Vec<_>>(),
        }),
    }
}

fn principal(p: &PostConditionPrincipal) -> String {
    match p {
        PostConditionPrincipal::Origin => "origin".into(),
        PostConditionPrincipal::Standard(a) => a.to_string(),
        PostConditionPrincipal::Contract(a, n) => format!("{a}.{n}"),
    }
}

fn post_condition(pc: &PostCondition) -> Value {
    let asset = |a: &coinslot_stacks::transaction::AssetInfo| {
        format!("{}.{}::{}", a.address, a.contract_name, a.asset_name)
    };
    match pc {
        PostCondition::Stx {
            principal: p,
            code,
            amount,
        } => json!({
            "type": 0, "principal": principal(p), "code": *code as u8, "amount": amount.to_string(),
        }),
        PostCondition::Fungible {
            principal: p,
            asset: a,
            code,
            amount,
        } => json!({
            "type": 1, "principal": principal(p), "code": *code as u8, "amount": amount.to_string(), "asset": asset(a),
        }),
        PostCondition::NonFungible {
            principal: p,
            asset: a,
            asset_value,
            code,
        } => json!({
            "type": 2, "principal": principal(p), "code": *code as u8, "asset": asset(a), "assetValue": asset_value.to_hex(),
        }),
        PostCondition::Staking {
            principal: p,
            code,
            amount,
        } => json!({
            "type": 3, "principal": principal(p), "code": *code as u8, "amount": amount.to_string(),
        }),
        PostCondition::Pox { principal: p, code } => json!({
            "type": 4, "principal": principal(p), "code": *code as u8,
        }),
    }
}

fn payload(p: &Payload) -> Value {
    let text = |p: &Principal| p.to_string();
    match p {
        Payload::TokenTransfer {
            recipient,
            amount,
            memo,
        } => json!({
            "type": 0, "recipient": text(recipient), "amount": amount.to_string(), "memo": hex::encode(memo),
        }),
        Payload::ContractCall {
            address,
            contract_name,
            function_name,
            args,
        } => json!({
            "type": 2, "contract": format!("{address}.{contract_name}"), "function": function_name,
            "args": args.iter().map(ClarityValue::to_hex).collect::<Vec<_>>(),
        }),
        Payload::SmartContract {
            name,
            code,
            clarity_version,
        } => json!({
            "type": if clarity_version.is_some() { 6 } else { 1 },
            "name": name.as_str(), "code": code, "clarityVersion": clarity_version,
        }),
        Payload::Coinbase(bytes) => json!({"type": 4, "coinbase": hex::encode(bytes)}),
        Payload::CoinbaseToAlt(bytes, recipient) => json!({
            "type": 5, "coinbase": hex::encode(bytes), "recipient": text(recipient),
        }),
        Payload::NakamotoCoinbase {
            payload,
            recipient,
            vrf_proof,
        } => json!({
            "type": 8, "coinbase": hex::encode(payload),
            "recipient": recipient.as_ref().map(text), "vrfProof": hex::encode(vrf_proof.as_slice()),
        }),
        Payload::TenureChange(t) => json!({
            "type": 7, "tenureHash": hex::encode(t.tenure_consensus_hash),
            "previousTenureHash": hex::encode(t.prev_tenure_consensus_hash),
            "burnViewHash": hex::encode(t.burn_view_consensus_hash),
            "previousTenureEnd": hex::encode(t.previous_tenure_end),
            "previousTenureBlocks": t.previous_tenure_blocks, "cause": t.cause,
            "publicKeyHash": hex::encode(t.pubkey_hash),
        }),
        Payload::PoisonMicroblock(_) => json!({"type": 3}),
    }
}

/// The transaction as the plain JSON `stacks-vectors.mjs` writes.
fn fields(tx: &Transaction) -> Value {
    json!({
        "version": tx.version as u8,
        "chainId": tx.chain_id,
        "authType": tx.auth.type_byte(),
        "origin": condition(tx.auth.origin()),
        "sponsor": tx.auth.sponsor().map(condition),
        "anchorMode": tx.anchor_mode as u8,
        "postConditionMode": tx.post_condition_mode as u8,
        "postConditions": tx.post_conditions.iter().map(post_condition).collect::<Vec<_>>(),
        "payload": payload(&tx.payload),
    })
}

#[tokio::test]
async fn a_thousand_stacks_js_transactions_decode_alike_and_verify() {
    let generated = stacks_js_generate(1_000, 20_261_121).await.unwrap();
    assert_eq!(generated.len(), 1_000);
    let mut kinds = std::collections::BTreeSet::new();
    for (i, case) in generated.iter().enumerate() {
        let hex = case["hex"].as_str().unwrap();
        let tx = Transaction::from_hex(hex).unwrap_or_else(|e| panic!("case {i}: {e}\n{hex}"));
        assert_eq!(tx.to_hex(), hex, "case {i}: re-encodes to other bytes");
        assert_eq!(fields(&tx), case["fields"], "case {i}: fields differ");
        assert_eq!(
            tx.txid().to_string(),
            format!("0x{}", case["txid"].as_str().unwrap()),
            "case {i}"
        );
        assert_eq!(case["verified"], true, "case {i}: stacks.js signed it");
        // stacks.js signs low-S, so the strict policy holds.
        tx.verify(HighS::Refuse)
            .unwrap_or_else(|e| panic!("case {i}: {e}\n{hex}"));
        kinds.insert((
            tx.payload.type_byte(),
            tx.auth.type_byte(),
            tx.auth.origin().hash_mode() as u8,
        ));
    }
    let payload_kinds: std::collections::BTreeSet<u8> = kinds.iter().map(|k| k.0).collect();
    assert_eq!(
        payload_kinds,
        [0, 1, 2, 4, 5, 6, 7, 8].into(),
        "every kind stacks.js builds"
    );
    for hash_mode in [0, 1, 5] {
        assert!(
            kinds.iter().any(|k| k.2 == hash_mode),
            "hash mode {hash_mode}"
        );
    }
    assert!(kinds.iter().any(|k| k.1 == 5), "sponsored");
}

#[tokio::test]
async fn transactions_we_sign_decode_and_verify_in_stacks_js() {
    let mut ours = Vec::new();
    for network in [StacksNetwork::Mainnet, StacksNetwork::Testnet] {
        let pay_to = key("crosscheck payee")
            .address(network.is_mainnet())
            .to_string();
        let sbtc = if network.is_mainnet() {
            Sip010Token::sbtc_mainnet()
        } else {
            Sip010Token::sbtc_testnet()
        };
        for (i, asset) in [StacksAsset::Stx, StacksAsset::Sip010(sbtc)]
            .into_iter()
            .enumerate()
        {
            for n in 0..10u64 {
                let client = ExactStacksClient::new(key(&format!("crosscheck payer {n}")), network)
                    .with_fee(180 + n * 7)
                    .with_nonce(n * 3 + i as u64);
                let offer = stacks_requirements(
                    network,
                    &asset,
                    &pay_to,
                    &Price::parse("0.00012").unwrap(),
                )
                .unwrap();
                let payload = client.create_payload(&offer).await.unwrap();
                ours.push(payload["transaction"].as_str().unwrap().to_owned());
            }
        }
        // Sponsored: the origin signs, then a sponsor.
        let mut tx = Transaction::from_hex(ours.last().unwrap()).unwrap();
        let origin = tx.auth.origin().clone();
        tx.auth = Authorization::Sponsored {
            origin,
            sponsor: SpendingCondition::Single(coinslot_stacks::transaction::SingleSig {
                hash_mode: coinslot_stacks::transaction::HashMode::P2pkh,
                signer: [0; 20],
                nonce: 9,
                fee: 777,
                key_encoding: coinslot_stacks::transaction::KeyEncoding::Compressed,
                signature: [0; 65],
            }),
        };
        tx.sign_origin(&key("crosscheck payer 9")).unwrap();
        tx.sign_sponsor(&key("crosscheck sponsor")).unwrap();
        ours.push(tx.to_hex());
    }
    let checked = stacks_js_check(&ours).await.unwrap();
    assert_eq!(checked.len(), ours.len());
    for (hex, case) in ours.iter().zip(&checked) {
        assert!(
            case.get("error").is_none(),
            "stacks.js cannot read {hex}: {case}"
        );
        assert_eq!(
            case["verified"], true,
            "stacks.js rejects our signature: {case}"
        );
        let tx = Transaction::from_hex(hex).unwrap();
        assert_eq!(fields(&tx), case["fields"]);
        assert_eq!(
            tx.txid().to_string(),
            format!("0x{}", case["txid"].as_str().unwrap())
        );
    }
}
