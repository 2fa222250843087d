//! Malformed inputs, each with the error it must give: never a panic, never a silent default.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use coinslot_core::{
    Base64Fault, Error, JsonCategory, Network, NetworkPattern, PaymentPayload, Price, TokenAmount,
    VerifyRequest, header,
};
use serde_json::{Value, json};

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

fn valid_payload() -> Value {
    json!({
        "x402Version": 2,
        "accepted": {
            "scheme": "exact", "network": "eip155:84532", "amount": "10000",
            "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "maxTimeoutSeconds": 60, "extra": {"name": "USDC", "version": "2"}
        },
        "payload": {"signature": "0x00"}
    })
}

/// The valid payload with one field of `accepted` (or the top level) replaced.
fn with(path: &[&str], value: Value) -> String {
    let mut doc = valid_payload();
    let mut at = &mut doc;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
    b64(&doc.to_string())
}

fn without(key: &str) -> String {
    let mut doc = valid_payload();
    doc.as_object_mut().unwrap().remove(key);
    b64(&doc.to_string())
}

fn base64_fault(fault: Base64Fault) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::Base64 { fault: f, .. } if *f == fault)
}

fn json_error(category: JsonCategory, says: &'static str) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::Json { category: c, message, .. } if *c == category && message.contains(says))
}

#[test]
fn malformed_payment_headers() {
    let valid = b64(&valid_payload().to_string());
    assert!(
        PaymentPayload::from_header(&valid).is_ok(),
        "the base case is valid"
    );
    let padded = {
        // A value whose encoding ends in padding, to cut it off.
        let mut doc = valid_payload();
        doc["payload"]["signature"] = json!("0x0");
        let v = b64(&doc.to_string());
        assert!(v.ends_with('='));
        v
    };
    let nested = format!(
        r#"{{"x402Version":2,"payload":{{"deep":{}1{}}}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let mut bad_utf8 = br#"{"x402Version":2,"payload":{"a":""#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, b'"', b'}', b'}']);

    type Check = Box<dyn Fn(&Error) -> bool>;
    let cases: Vec<(&str, String, Check)> = vec![
        (
            "empty",
            String::new(),
            Box::new(|e| matches!(e, Error::HeaderEmpty)),
        ),
        (
            "over the length limit",
            "A".repeat(header::MAX_HEADER_LEN + 4),
            Box::new(|e| {
                matches!(
                    e,
                    Error::HeaderTooLong {
                        max: header::MAX_HEADER_LEN,
                        ..
                    }
                )
            }),
        ),
        (
            "url-safe '-'",
            valid.replacen('A', "-", 1),
            Box::new(base64_fault(Base64Fault::UrlSafeAlphabet)),
        ),
        (
            "url-safe '_'",
            format!("_{}", &valid[1..]),
            Box::new(base64_fault(Base64Fault::UrlSafeAlphabet)),
        ),
        (
            "missing padding",
            padded.trim_end_matches('=').to_owned(),
            Box::new(base64_fault(Base64Fault::MissingPadding)),
        ),
        (
            "garbage after padding",
            format!("{padded}AAAA"),
            Box::new(base64_fault(Base64Fault::TrailingData)),
        ),
        (
            "two padded blocks",
            "QQ==QQ==".to_owned(),
            Box::new(base64_fault(Base64Fault::TrailingData)),
        ),
        (
            "space inside",
            format!("{} {}", &valid[..8], &valid[8..]),
            Box::new(base64_fault(Base64Fault::InvalidByte)),
        ),
        (
            "newline at the end",
            format!("{valid}\n"),
            Box::new(base64_fault(Base64Fault::InvalidByte)),
        ),
        (
            "non-ASCII byte",
            format!("é{}", &valid[2..]),
            Box::new(base64_fault(Base64Fault::InvalidByte)),
        ),
        (
            "only padding",
            "====".to_owned(),
            Box::new(base64_fault(Base64Fault::InvalidPadding)),
        ),
        (
            "length 3",
            "QUI".to_owned(),
            Box::new(base64_fault(Base64Fault::MissingPadding)),
        ),
        (
            "non-canonical last symbol",
            "QR==".to_owned(),
            Box::new(base64_fault(Base64Fault::NonCanonical)),
        ),
        (
            "not JSON",
            b64("hello"),
            Box::new(json_error(JsonCategory::Syntax, "expected")),
        ),
        (
            "empty object",
            b64("{}"),
            Box::new(json_error(JsonCategory::Data, "missing field")),
        ),
        (
            "JSON then text",
            b64(&format!("{} x", valid_payload())),
            Box::new(|e| matches!(e, Error::JsonTrailingData { .. })),
        ),
        (
            "two JSON objects",
            b64(&format!("{0}{0}", valid_payload())),
            Box::new(|e| matches!(e, Error::JsonTrailingData { .. })),
        ),
        (
            "truncated JSON",
            b64("{\"x402Version\":2,"),
            Box::new(json_error(JsonCategory::Eof, "EOF")),
        ),
        (
            "byte-order mark",
            b64(&format!("\u{feff}{}", valid_payload())),
            Box::new(json_error(JsonCategory::Syntax, "expected")),
        ),
        (
            "invalid UTF-8 in a string",
            STANDARD.encode(&bad_utf8),
            Box::new(json_error(
                JsonCategory::Syntax,
                "invalid unicode code point",
            )),
        ),
        (
            "nesting beyond the depth limit",
            b64(&nested),
            Box::new(|e| matches!(e, Error::JsonTooDeep { max: 64 })),
        ),
        (
            "a number that would be written back longer",
            b64(&valid_payload().to_string().replacen(
                r#""signature":"0x00""#,
                r#""signature":"0x00","n":1e15"#,
                1,
            )),
            Box::new(|e| matches!(e, Error::JsonNumberForm { text, .. } if text == "1e15")),
        ),
        (
            "duplicate field",
            b64(&valid_payload()
                .to_string()
                .replacen("{", r#"{"x402Version":2,"#, 1)),
            Box::new(json_error(JsonCategory::Data, "duplicate field")),
        ),
        (
            "x402Version 1 in a v2 payload",
            with(&["x402Version"], json!(1)),
            Box::new(json_error(JsonCategory::Data, "unsupported x402Version 1")),
        ),
        (
            "x402Version as a string",
            with(&["x402Version"], json!("2")),
            Box::new(json_error(JsonCategory::Data, "invalid type")),
        ),
        (
            "x402Version 2.5",
            with(&["x402Version"], json!(2.5)),
            Box::new(json_error(JsonCategory::Data, "invalid type")),
        ),
        (
            "negative amount",
            with(&["accepted", "amount"], json!("-1")),
            Box::new(json_error(JsonCategory::Data, "invalid token amount")),
        ),
        (
            "amount with a space",
            with(&["accepted", "amount"], json!(" 1")),
            Box::new(json_error(JsonCategory::Data, "invalid token amount")),
        ),
        (
            "amount with a leading zero",
            with(&["accepted", "amount"], json!("01")),
            Box::new(json_error(JsonCategory::Data, "leading zero")),
        ),
        (
            "amount in exponent form",
            with(&["accepted", "amount"], json!("1e3")),
            Box::new(json_error(JsonCategory::Data, "invalid token amount")),
        ),
        (
            "amount as a number",
            with(&["accepted", "amount"], json!(1000)),
            Box::new(json_error(JsonCategory::Data, "invalid type")),
        ),
        (
            "amount of 2^256",
            with(
                &["accepted", "amount"],
                json!(
                    "115792089237316195423570985008687907853269984665640564039457584007913129639936"
                ),
            ),
            Box::new(json_error(JsonCategory::Data, "does not fit in 256 bits")),
        ),
        (
            "empty amount",
            with(&["accepted", "amount"], json!("")),
            Box::new(json_error(JsonCategory::Data, "empty")),
        ),
        (
            "v1 network name in v2",
            with(&["accepted", "network"], json!("base-sepolia")),
            Box::new(json_error(JsonCategory::Data, "invalid network")),
        ),
        (
            "uppercase namespace",
            with(&["accepted", "network"], json!("EIP155:84532")),
            Box::new(json_error(JsonCategory::Data, "invalid network")),
        ),
        (
            "maxTimeoutSeconds as a string",
            with(&["accepted", "maxTimeoutSeconds"], json!("60")),
            Box::new(json_error(JsonCategory::Data, "invalid type")),
        ),
        (
            "negative maxTimeoutSeconds",
            with(&["accepted", "maxTimeoutSeconds"], json!(-1)),
            Box::new(json_error(JsonCategory::Data, "invalid value")),
        ),
        (
            "payload is a string",
            with(&["payload"], json!("0xdeadbeef")),
            Box::new(json_error(JsonCategory::Data, "invalid type")),
        ),
        (
            "extra is an array",
            with(&["accepted", "extra"], json!([])),
            Box::new(json_error(JsonCategory::Data, "invalid type")),
        ),
        (
            "accepted missing",
            without("accepted"),
            Box::new(json_error(JsonCategory::Data, "missing field `accepted`")),
        ),
        (
            "payload missing",
            without("payload"),
            Box::new(json_error(JsonCategory::Data, "missing field `payload`")),
        ),
        (
            "scheme is null",
            with(&["accepted", "scheme"], Value::Null),
            Box::new(json_error(JsonCategory::Data, "invalid type")),
        ),
        (
            "a JSON array",
            b64("[2,{},{}]"),
            Box::new(json_error(JsonCategory::Data, "expected a JSON object")),
        ),
        (
            "a JSON string",
            b64("\"x\""),
            Box::new(json_error(JsonCategory::Data, "expected a JSON object")),
        ),
    ];
    assert!(cases.len() >= 40);
    for (name, input, expected) in &cases {
        match PaymentPayload::from_header(input) {
            Ok(_) => panic!("{name}: decoded, but must fail"),
            Err(err) => assert!(expected(&err), "{name}: wrong error {err:?}"),
        }
    }
}

#[test]
fn malformed_networks_and_patterns() {
    let networks = [
        ("eip155", "missing ':'"),
        ("ab:1", "shorter than 3"),
        ("abcdefghi:1", "longer than 8"),
        ("eip155:", "empty reference"),
        ("eip155:123456789012345678901234567890123", "longer than 32"),
        ("eip155:1.0", "outside [-_a-zA-Z0-9]"),
        ("eip_155:1", "outside [-a-z0-9]"),
        ("Eip155:1", "outside [-a-z0-9]"),
        (":1", "shorter than 3"),
        ("eip155:1 ", "outside [-_a-zA-Z0-9]"),
    ];
    for (input, says) in networks {
        match Network::parse(input) {
            Err(Error::InvalidNetwork { reason, .. }) => {
                assert!(reason.contains(says), "{input:?}: {reason}")
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }
    for input in ["eip155:{1,}", "eip155:**", "eip155:{}", "*:*", "eip155"] {
        assert!(
            matches!(
                NetworkPattern::parse(input),
                Err(Error::InvalidNetworkPattern { .. })
            ),
            "{input:?}"
        );
    }
    assert!(matches!(
        Network::from_v1_name("kairos-testnet"),
        Err(Error::UnknownNetworkName { .. })
    ));
    assert!(matches!(
        Network::parse("eip155:31337").unwrap().try_v1_name(),
        Err(Error::NoV1Name { .. })
    ));
}

#[test]
fn malformed_amounts_and_prices() {
    for input in ["", "+5", "-5", "0x10", "1_000", "1.0", "01", "١٢"] {
        assert!(
            matches!(TokenAmount::parse(input), Err(Error::InvalidAmount { .. })),
            "{input:?}"
        );
    }
    assert!(matches!(
        TokenAmount::parse(&"9".repeat(79)),
        Err(Error::AmountOverflow { .. })
    ));

    for input in [
        "", "$", "$-1", "-1", "1.", ".5", "$.5", "1e-3", "$1,000", "00.5", " 1", "1 ", "$ 1",
        "0x1", "1..2", "$$1",
    ] {
        assert!(
            matches!(Price::parse(input), Err(Error::InvalidPrice { .. })),
            "{input:?}"
        );
    }
    assert!(matches!(
        Price::parse("$0.0000001").unwrap().to_atomic(6),
        Err(Error::PriceTooPrecise {
            needed: 7,
            decimals: 6,
            ..
        })
    ));
    assert!(matches!(
        Price::parse("1").unwrap().to_atomic(78),
        Err(Error::AmountOverflow { .. })
    ));
    assert!(matches!(
        Price::parse(&"9".repeat(78)).unwrap().to_atomic(0),
        Err(Error::AmountOverflow { .. })
    ));
}

#[test]
fn malformed_facilitator_requests() {
    let body = json!({"x402Version": 3, "paymentPayload": {}, "paymentRequirements": {}});
    let err = serde_json::from_value::<VerifyRequest>(body).unwrap_err();
    assert!(
        err.to_string().contains("unsupported x402Version 3"),
        "{err}"
    );

    // A v2 payload under a v1 envelope is a v1 payload that fails to parse, not a v2 one.
    let body = json!({"x402Version": 1, "paymentPayload": valid_payload(), "paymentRequirements": valid_payload()["accepted"]});
    let err = serde_json::from_value::<VerifyRequest>(body).unwrap_err();
    assert!(err.to_string().contains("paymentPayload"), "{err}");
}
