//! Every test vector of the Stacks reference notes: transactions, sighashes, txids,
//! addresses, SIP-018 and message hashes.

use crate::common::{hash160, sha256};
use coinslot_stacks::address::{
    AddressError, MAINNET_MULTI_SIG, MAINNET_SINGLE_SIG, TESTNET_MULTI_SIG, TESTNET_SINGLE_SIG,
};
use coinslot_stacks::message::{hash_message, sign_structured_data, sip018_domain, sip018_hash};
use coinslot_stacks::signature::{initial_sighash, postsign_sighash, presign_sighash};
use coinslot_stacks::transaction::{
    AnchorMode, Authorization, HashMode, KeyEncoding, Payload, PostConditionMode,
    SpendingCondition, TransactionVersion, memo,
};
use coinslot_stacks::{
    ClarityValue, HighS, Principal, PrivateKey, StacksAddress, Transaction, message,
};

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

const VECTOR1_KEY: &str = "edf9aee84d9b7abc145504dde6726c64f369d37ee34ded868fabd876c26570bc01";
const VECTOR1_TX: &str = "0000000001040015c31b8c1c11c515e244b75806bac48d1399c7750000000000000000000000000000000000008b316d56e35b3b8d03ab3b9dbe05eb44d64c53e7ba3c468f9a78c82a13f2174c32facb0f29faeb21075ec933db935ebc28a8793cc60e14b8ee4ef05f52c94016030200000000000516df0ba3e79792be7be5e50a370289accfc8c9e032000000000000303974657374206d656d6f00000000000000000000000000000000000000000000000000";

#[test]
fn vector1_stx_transfer_decodes_to_its_fields() {
    let tx = Transaction::from_hex(VECTOR1_TX).unwrap();
    assert_eq!(tx.version, TransactionVersion::Mainnet);
    assert_eq!(tx.chain_id, 1);
    assert_eq!(tx.anchor_mode, AnchorMode::Any);
    assert_eq!(tx.post_condition_mode, PostConditionMode::Deny);
    assert!(tx.post_conditions.is_empty());
    let Authorization::Standard(SpendingCondition::Single(origin)) = &tx.auth else {
        panic!("standard single-sig auth expected, got {:?}", tx.auth);
    };
    assert_eq!(origin.hash_mode, HashMode::P2pkh);
    assert_eq!(
        hex::encode(origin.signer),
        "15c31b8c1c11c515e244b75806bac48d1399c775"
    );
    assert_eq!((origin.nonce, origin.fee), (0, 0));
    assert_eq!(origin.key_encoding, KeyEncoding::Compressed);
    let Payload::TokenTransfer {
        recipient,
        amount,
        memo: note,
    } = &tx.payload
    else {
        panic!("token transfer expected");
    };
    assert_eq!(
        recipient.to_string(),
        "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159"
    );
    assert_eq!(*amount, 12345);
    assert_eq!(*note, memo(b"test memo").unwrap());
    assert_eq!(tx.to_hex(), VECTOR1_TX, "re-encodes to the same bytes");
    assert_eq!(VECTOR1_TX.len() / 2, 180);
}

#[test]
fn vector1_sighashes_signature_and_txid() {
    let tx = Transaction::from_hex(VECTOR1_TX).unwrap();
    let initial = initial_sighash(&tx);
    assert_eq!(
        hex::encode(initial),
        "95eb01360860afa4c818768cd11b6eff45a8009a9016d255705488c60a828b97"
    );
    let presign = presign_sighash(&initial, 0x04, 0, 0);
    assert_eq!(
        hex::encode(presign),
        "9aef893c106ea08489676c708797909f7319643bf724cec4ae3c0cd336750253"
    );
    assert_eq!(
        tx.txid().to_string(),
        "0x84cccb05f4bd0e1b08905ef1f1350ad635a6474448310548bdccfa04e0121bab"
    );
    let verified = tx.verify(HighS::Refuse).unwrap();
    assert_eq!(
        hex::encode(&verified.origin_keys[0]),
        "03ef788b3830c00abe8f64f62dc32fc863bc0b2cafeb073b6c8e1c7657d9c2c3ab"
    );
    assert_eq!(verified.origin.version, MAINNET_SINGLE_SIG);
    assert_eq!(verified.sponsor, None);
}

#[test]
fn vector1_our_signature_is_byte_identical() {
    let key = PrivateKey::from_hex(VECTOR1_KEY).unwrap();
    assert_eq!(
        hex::encode(key.public_key()),
        "03ef788b3830c00abe8f64f62dc32fc863bc0b2cafeb073b6c8e1c7657d9c2c3ab"
    );
    assert_eq!(
        hex::encode(hash160(&key.public_key())),
        "15c31b8c1c11c515e244b75806bac48d1399c775"
    );
    let mut tx = Transaction::from_hex(VECTOR1_TX).unwrap();
    let Authorization::Standard(SpendingCondition::Single(origin)) = &mut tx.auth else {
        unreachable!()
    };
    origin.signature = [0; 65];
    tx.sign_origin(&key).unwrap();
    assert_eq!(
        tx.to_hex(),
        VECTOR1_TX,
        "RFC 6979 gives stacks.js's signature"
    );
}

#[test]
fn any_flipped_byte_of_the_signed_part_breaks_the_signature() {
    let bytes = unhex(VECTOR1_TX);
    // Flip the amount's last byte: still decodes, no longer verifies.
    let mut changed = bytes.clone();
    let amount_end = bytes.len() - 34 - 1;
    changed[amount_end] ^= 1;
    let tx = Transaction::from_bytes(&changed).unwrap();
    assert!(tx.verify(HighS::Allow).is_err());
    // Flip a byte of the signature's s.
    let mut changed = bytes;
    changed[5 + 1 + 1 + 20 + 8 + 8 + 1 + 40] ^= 0x10;
    let tx = Transaction::from_bytes(&changed).unwrap();
    assert!(tx.verify(HighS::Allow).is_err());
}

#[test]
fn high_s_is_refused_unless_allowed() {
    let mut tx = Transaction::from_hex(VECTOR1_TX).unwrap();
    let Authorization::Standard(SpendingCondition::Single(origin)) = &mut tx.auth else {
        unreachable!()
    };
    // s' = n − s, recovery id flipped: the same key signs (r, s') over the same digest.
    let n = unhex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    let s = &origin.signature[33..65];
    let mut high = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        high[i] = (d.rem_euclid(256)) as u8;
        borrow = i16::from(d < 0);
    }
    origin.signature[33..].copy_from_slice(&high);
    origin.signature[0] ^= 1;
    assert_eq!(
        tx.verify(HighS::Refuse).unwrap_err(),
        coinslot_stacks::SignatureError::HighS
    );
    assert!(tx.verify(HighS::Allow).is_ok());
}

const PRE_SPONSOR_TX: &str = concat!(
    "0000000001050015c31b8c1c11c515e244b75806bac48d1399c77500000000000000020000000000000032",
    "000012f0e0f7eec8657e814bdcde9352920dd9416dd757f1ada573ef268cc93001fd76db462508ffd90dec",
    "57bd977c3b8517f7cbc7d31b3a80aee6068c35714f83e40029cfc6376255a78451eeb4b129ed8eacffa2fe",
    "ef000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000030200",
    "000000000516df0ba3e79792be7be5e50a370289accfc8c9e032000000000000303974657374206d656d6f",
    "00000000000000000000000000000000000000000000000000",
);

#[test]
fn vector2_sponsored_origin_verifies_with_the_sentinel() {
    let tx = Transaction::from_hex(PRE_SPONSOR_TX).unwrap();
    assert_eq!(tx.to_hex(), PRE_SPONSOR_TX);
    let Authorization::Sponsored { origin, sponsor } = &tx.auth else {
        panic!("sponsored expected");
    };
    assert_eq!((origin.nonce(), origin.fee()), (2, 50));
    // stacks.js's empty sponsor slot: hash160 of 33 zero bytes, fee 0.
    assert_eq!(
        hex::encode(sponsor.signer()),
        "29cfc6376255a78451eeb4b129ed8eacffa2feef"
    );
    assert_eq!(sponsor.fee(), 0);
    let initial = initial_sighash(&tx);
    assert!(hex::encode(initial).starts_with("7772a91a"));
    assert!(hex::encode(initial).ends_with("bf61"));
    let SpendingCondition::Single(single) = origin else {
        unreachable!()
    };
    let presign = presign_sighash(&initial, 0x04, 50, 2);
    assert_eq!(
        hex::encode(postsign_sighash(
            &presign,
            single.key_encoding,
            &single.signature
        )),
        "89c4d012e40d361449c69c16bf4ad3d2b5d10e16b7576c695f3b42748541d619"
    );

    // Our origin signature is the same bytes; then a sponsor signs and both verify.
    let key = PrivateKey::from_hex(VECTOR1_KEY).unwrap();
    let mut ours = tx.clone();
    ours.sign_origin(&key).unwrap();
    assert_eq!(ours.to_hex(), PRE_SPONSOR_TX);
    let Authorization::Sponsored { sponsor, .. } = &mut ours.auth else {
        unreachable!()
    };
    let SpendingCondition::Single(slot) = sponsor else {
        unreachable!()
    };
    slot.fee = 123;
    slot.nonce = 55;
    let sponsor_key =
        PrivateKey::from_hex("9888d734e6e80a943a6544159e31d6c7e342f695ec867d549c569fa0028892d401")
            .unwrap();
    ours.sign_sponsor(&sponsor_key).unwrap();
    let verified = ours.verify(HighS::Refuse).unwrap();
    assert_eq!(verified.sponsor, Some(sponsor_key.address(true)));
    assert_eq!(verified.origin, key.address(true));
}

#[test]
fn c32_addresses_of_one_hash_in_all_four_versions() {
    let hash: [u8; 20] = unhex("6d78de7b0625dfbfc16c3a8a5735f6dc3dc3f2ce")
        .try_into()
        .unwrap();
    for (version, text) in [
        (
            MAINNET_SINGLE_SIG,
            "SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7R",
        ),
        (
            TESTNET_SINGLE_SIG,
            "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM",
        ),
        (
            MAINNET_MULTI_SIG,
            "SM1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJST2FQPJQ",
        ),
        (
            TESTNET_MULTI_SIG,
            "SN1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSTT4NB7A",
        ),
    ] {
        let address = StacksAddress::new(version, hash).unwrap();
        assert_eq!(address.to_string(), text);
        assert_eq!(text.parse::<StacksAddress>().unwrap(), address);
        // Case-insensitive, with the c32 look-alikes.
        let sloppy = text.to_lowercase().replace('1', "l").replace('0', "o");
        assert_eq!(sloppy.parse::<StacksAddress>().unwrap(), address);
    }
}

#[test]
fn known_token_deployers_decode() {
    for (text, version, hash) in [
        (
            "SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4",
            20,
            "f6decc7cfff2a413bd7cd4f53c25ad7fd1899acc",
        ),
        (
            "SP120SBRBQJ00MCWS7TM5R8WJNTTKD5K0HFRC2CNE",
            22,
            "440caf0bbc800a33993ea85c2392aeb53696608b",
        ),
        (
            "ST1F7QA2MDF17S807EPA36TSS8AMEFY4KA9TVGWXT",
            26,
            "5e7ba8546bc27ca0077594336b3942a8e7f89352",
        ),
    ] {
        let address: StacksAddress = text.parse().unwrap();
        assert_eq!(address.version, version);
        assert_eq!(hex::encode(address.hash160), hash);
    }
}

#[test]
fn the_documented_bad_checksum_example_is_refused() {
    assert_eq!(
        "SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM".parse::<StacksAddress>(),
        Err(AddressError::Checksum)
    );
}

#[test]
fn malformed_addresses_give_errors() {
    for text in [
        "",
        "S",
        "Sl0",
        "SP",
        "XP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7R",
        "SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7U",
        "SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7RR",
        "SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7",
        "S\u{e9}1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7",
        "SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7R.",
        "SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7R.1abc",
    ] {
        assert!(text.parse::<Principal>().is_err(), "{text:?} parsed");
    }
}

#[test]
fn sip010_transfer_payload_prefix_for_sbtc() {
    let sbtc: StacksAddress = "SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4".parse().unwrap();
    let payload = Payload::ContractCall {
        address: sbtc,
        contract_name: coinslot_stacks::ContractName::new("sbtc-token").unwrap(),
        function_name: "transfer".into(),
        args: vec![
            ClarityValue::UInt(1),
            ClarityValue::standard(sbtc),
            ClarityValue::standard(sbtc),
            ClarityValue::None,
        ],
    };
    let tx = Transaction {
        version: TransactionVersion::Mainnet,
        chain_id: 1,
        auth: Transaction::from_hex(VECTOR1_TX).unwrap().auth,
        anchor_mode: AnchorMode::Any,
        post_condition_mode: PostConditionMode::Deny,
        post_conditions: vec![],
        payload,
    };
    let bytes = tx.to_hex();
    let expected = format!(
        "02{}{}0a{}08{}00000004",
        "14",
        "f6decc7cfff2a413bd7cd4f53c25ad7fd1899acc",
        hex::encode("sbtc-token"),
        hex::encode("transfer")
    );
    assert!(bytes.contains(&expected));
    assert_eq!(Transaction::from_hex(&bytes).unwrap(), tx);
}

#[test]
fn sip018_vectors() {
    let message = ClarityValue::StringAscii("Hello World".into());
    assert_eq!(
        hex::encode(sha256(&message.to_bytes())),
        "5297eef9765c466d945ad1cb2c81b30b9fed6c165575dc9226e9edf78b8cd9e8"
    );
    let domain = sip018_domain("Test App", "1.0.0", 1).unwrap();
    assert_eq!(
        hex::encode(sha256(&domain.to_bytes())),
        "2538b5dc06c5ae2f11549261d7ae174d9f77a55a92b00f330884695497be5065"
    );
    assert_eq!(
        hex::encode(sip018_hash(&domain, &message)),
        "1bfdab6d4158313ce34073fbb8d6b0fc32c154d439def12247a0f44bb2225259"
    );
    let key =
        PrivateKey::from_hex("753b7cc01a1a2e86221266a154af739463fce51219d97e4f856cd7200c3bd2a601")
            .unwrap();
    assert_eq!(
        hex::encode(key.public_key()),
        "0390a5cac7c33fda49f70bc1b0866fa0ba7a9440d9de647fecb8132ceb76a94dfa"
    );
    assert_eq!(
        key.address(false).to_string(),
        "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
    );
    let signature = sign_structured_data(&key, &domain, &message).unwrap();
    assert_eq!(
        hex::encode(signature),
        "8b94e45701d857c9f1d1d70e8b2ca076045dae4920fb0160be0642a68cd78de072ab527b5c5277a593baeb2a8b657c216b99f7abb5d14af35b4bf12ba6460ba401"
    );
    assert!(message::verify_structured_data(
        &domain,
        &message,
        &signature,
        &key.public_key()
    ));
    let other = ClarityValue::StringAscii("Hello Worlds".into());
    assert!(!message::verify_structured_data(
        &domain,
        &other,
        &signature,
        &key.public_key()
    ));
}

#[test]
fn message_hash_vector_and_round_trip() {
    assert_eq!(
        hex::encode(hash_message(b"hello world")),
        "619997693db23de4b92ed152444a578a134143d9ad2c0f4dff2615de9d42ad96"
    );
    let key = PrivateKey::from_hex(VECTOR1_KEY).unwrap();
    let long = vec![b'x'; 300];
    for text in [&b"hello world"[..], &long[..]] {
        let signature = message::sign_message(&key, text).unwrap();
        assert!(message::verify_message(text, &signature, &key.public_key()));
        assert!(!message::verify_message(
            b"other",
            &signature,
            &key.public_key()
        ));
    }
}
