//! Property tests: every wire type, header, amount and network survives its round trip.

use coinslot_core::v1::{
    PaymentPayloadV1, PaymentRequiredV1, PaymentRequirementsV1, SettleResponseV1,
};
use coinslot_core::{
    ErrorReason, JsonObject, Network, NetworkPattern, PaymentPayload, PaymentRequired,
    PaymentRequirements, Price, ResourceInfo, SettleResponse, TokenAmount, U256, V1, V2,
    VerifyRequest, VerifyResponse, find_matching_requirements, header,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn network() -> impl Strategy<Value = Network> {
    ("[a-z0-9-]{3,8}", "[-_a-zA-Z0-9]{1,32}")
        .prop_map(|(ns, reference)| Network::parse(&format!("{ns}:{reference}")).unwrap())
}

fn amount() -> impl Strategy<Value = TokenAmount> {
    prop_oneof![
        any::<u64>().prop_map(TokenAmount::from),
        any::<[u64; 4]>().prop_map(|limbs| TokenAmount::from(U256::from_limbs(limbs))),
        Just(TokenAmount::ZERO),
        Just(TokenAmount::MAX),
    ]
}

/// Arbitrary JSON without floats (which JSON does not round-trip exactly in general).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = JsonObject> {
    prop::collection::vec(("[a-zA-Z]{1,10}", json_value()), 0..4)
        .prop_map(|kv| kv.into_iter().collect())
}

/// Fields a newer peer might add beside the known ones (never a known name).
fn unknown_fields() -> impl Strategy<Value = JsonObject> {
    prop::collection::vec(("x_[a-z]{1,8}", json_value()), 0..3)
        .prop_map(|kv| kv.into_iter().collect())
}

fn text() -> impl Strategy<Value = String> {
    ".{0,24}"
}

fn requirements() -> impl Strategy<Value = PaymentRequirements> {
    (
        "[a-z-]{1,12}",
        network(),
        amount(),
        text(),
        text(),
        any::<u64>(),
        prop::option::of(object()),
        unknown_fields(),
    )
        .prop_map(
            |(scheme, network, amount, asset, pay_to, timeout, extra, other)| PaymentRequirements {
                scheme,
                network,
                amount,
                asset,
                pay_to,
                max_timeout_seconds: timeout,
                extra,
                other,
            },
        )
}

fn resource() -> impl Strategy<Value = ResourceInfo> {
    (
        text(),
        prop::option::of(text()),
        prop::option::of(text()),
        unknown_fields(),
    )
        .prop_map(|(url, description, mime_type, other)| ResourceInfo {
            url,
            description,
            mime_type,
            other,
        })
}

fn reason() -> impl Strategy<Value = ErrorReason> {
    prop_oneof![
        prop::sample::select(ErrorReason::KNOWN.to_vec()),
        "[a-z_]{1,30}".prop_map(|s| ErrorReason::parse(&s)),
    ]
}

fn payment_required() -> impl Strategy<Value = PaymentRequired> {
    (
        prop::option::of(text()),
        resource(),
        prop::collection::vec(requirements(), 0..3),
        prop::option::of(object()),
    )
        .prop_map(|(error, resource, accepts, extensions)| PaymentRequired {
            x402_version: V2::default(),
            error,
            resource,
            accepts,
            extensions,
        })
}

fn payment_payload() -> impl Strategy<Value = PaymentPayload> {
    (
        prop::option::of(resource()),
        requirements(),
        object(),
        prop::option::of(object()),
    )
        .prop_map(|(resource, accepted, payload, extensions)| PaymentPayload {
            x402_version: V2::default(),
            resource,
            accepted,
            payload,
            extensions,
        })
}

fn verify_response() -> impl Strategy<Value = VerifyResponse> {
    (
        any::<bool>(),
        prop::option::of(reason()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(object()),
        unknown_fields(),
    )
        .prop_map(
            |(is_valid, invalid_reason, invalid_message, payer, extensions, other)| {
                VerifyResponse {
                    is_valid,
                    invalid_reason,
                    invalid_message,
                    payer,
                    extensions,
                    other,
                }
            },
        )
}

fn settle_response() -> impl Strategy<Value = SettleResponse> {
    (
        any::<bool>(),
        prop::option::of(reason()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        network(),
        prop::option::of(amount()),
        (prop::option::of(object()), unknown_fields()),
    )
        .prop_map(
            |(
                success,
                error_reason,
                error_message,
                payer,
                transaction,
                network,
                amount,
                (extensions, other),
            )| {
                SettleResponse {
                    success,
                    error_reason,
                    error_message,
                    payer,
                    transaction,
                    network,
                    amount,
                    extensions,
                    other,
                }
            },
        )
}

fn requirements_v1() -> impl Strategy<Value = PaymentRequirementsV1> {
    (
        ("[a-z]{1,8}", "[a-z-]{1,16}", amount(), text()),
        (text(), text(), prop::option::of(json_value())),
        (text(), any::<u64>(), text(), prop::option::of(object())),
    )
        .prop_map(
            |(
                (scheme, network, amount, resource),
                (description, mime_type, output_schema),
                (pay_to, timeout, asset, extra),
            )| {
                PaymentRequirementsV1 {
                    scheme,
                    network,
                    max_amount_required: amount,
                    resource,
                    description,
                    mime_type,
                    output_schema,
                    pay_to,
                    max_timeout_seconds: timeout,
                    asset,
                    extra,
                }
            },
        )
}

/// A JSON number as some encoder might write it: integers plain, with an exponent, with a
/// fraction; floats shortest, in exponent form, or padded with zeros.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("{n}")),
        (0u32..20).prop_map(|e| format!("1e{e}")),
        (1u64..1000, 0u32..30).prop_map(|(m, e)| format!("{m}E+{e}")),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        (-1e6f64..1e6).prop_map(|f| format!("{f}")),
        (0u32..1000).prop_map(|n| format!("{n}.000")),
        Just("-0".to_owned()),
        Just("-0.0".to_owned()),
    ]
}

/// JSON and header round trips, and encoding is deterministic.
fn check_round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(value).unwrap();
    prop_assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), value);
    let encoded = header::encode(value).unwrap();
    let decoded: T = header::decode(&encoded).unwrap();
    prop_assert_eq!(&decoded, value);
    prop_assert_eq!(header::encode(&decoded).unwrap(), encoded);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn payment_required_round_trips(v in payment_required()) { check_round_trip(&v)?; }

    #[test]
    fn payment_payload_round_trips(v in payment_payload()) { check_round_trip(&v)?; }

    #[test]
    fn requirements_round_trip_and_match_themselves(v in requirements(), others in prop::collection::vec(requirements(), 0..3)) {
        check_round_trip(&v)?;
        let mut offered = others;
        offered.push(v.clone());
        // The echo of an offer, through JSON, is found again.
        let echoed: PaymentRequirements = header::decode(header::encode(&v).unwrap()).unwrap();
        prop_assert_eq!(find_matching_requirements(&offered, &echoed), offered.iter().find(|o| **o == v));
    }

    #[test]
    fn matching_ignores_key_order_of_extra(v in requirements(), extra in object()) {
        let mut forward = v.clone();
        forward.extra = Some(extra.clone());
        let mut reversed = v;
        reversed.extra = Some(extra.into_iter().rev().collect());
        prop_assert!(find_matching_requirements(std::slice::from_ref(&forward), &reversed).is_some());
    }

    #[test]
    fn verify_response_round_trips(v in verify_response()) { check_round_trip(&v)?; }

    #[test]
    fn settle_response_round_trips(v in settle_response()) { check_round_trip(&v)?; }

    #[test]
    fn v1_types_round_trip(r in requirements_v1(), error in prop::option::of(text()), payload in object(), ok in any::<bool>(), reason in prop::option::of(reason())) {
        check_round_trip(&r)?;
        check_round_trip(&PaymentRequiredV1 { x402_version: V1::default(), error, accepts: vec![r.clone()] })?;
        check_round_trip(&PaymentPayloadV1 { x402_version: V1::default(), scheme: r.scheme.clone(), network: r.network.clone(), payload })?;
        check_round_trip(&SettleResponseV1 { success: ok, error_reason: reason, transaction: Some(String::new()), network: r.network, payer: None })?;
    }

    #[test]
    fn verify_request_round_trips(p in payment_payload(), r in requirements(), p1 in object(), r1 in requirements_v1()) {
        check_round_trip(&VerifyRequest::v2(p, r))?;
        let v1 = VerifyRequest::V1 {
            payment_payload: PaymentPayloadV1 { x402_version: V1::default(), scheme: r1.scheme.clone(), network: r1.network.clone(), payload: p1 },
            payment_requirements: r1,
        };
        check_round_trip(&v1)?;
    }

    #[test]
    fn v1_v2_requirement_conversion_is_lossless_for_known_networks(
        v in requirements(),
        res in resource(),
        name in prop::sample::select(vec!["base", "base-sepolia", "polygon", "ethereum", "solana-devnet"]),
    ) {
        let mut v = v;
        v.network = Network::from_v1_name(name).unwrap();
        v.other = JsonObject::new();
        let res = ResourceInfo { description: Some(res.description.unwrap_or_default()), mime_type: Some(res.mime_type.unwrap_or_default()), other: JsonObject::new(), ..res };
        let v1 = PaymentRequirementsV1::from_v2(&v, &res).unwrap();
        prop_assert_eq!(v1.to_v2().unwrap(), (v, res));
    }

    #[test]
    fn any_bytes_round_trip_through_base64(bytes in prop::collection::vec(any::<u8>(), 1..512)) {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        prop_assert_eq!(header::decode_base64(encoded.as_bytes(), header::MAX_HEADER_LEN).unwrap(), bytes);
    }

    #[test]
    fn a_decoded_payment_never_re_encodes_longer(numbers in prop::collection::vec(number_text(), 1..8), spaces in 0usize..3) {
        let pad = " ".repeat(spaces);
        let list = numbers.join(&format!(",{pad}"));
        let json = format!(
            r#"{{ "x402Version":{pad}2, "accepted": {{"scheme":"exact","network":"eip155:8453","amount":"1","asset":"a","payTo":"b","maxTimeoutSeconds":60}},{pad}"payload": {{"n": [{list}]}} }}"#
        );
        if let Ok(payment) = header::decode_json::<PaymentPayload>(json.as_bytes()) {
            // What a server forwards to its facilitator is never larger than what it took in.
            prop_assert!(serde_json::to_vec(&payment).unwrap().len() <= json.len());
        }
    }

    #[test]
    fn arbitrary_header_values_never_panic(value in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = header::decode::<PaymentPayload>(&value);
        let _ = header::decode::<PaymentRequired>(&value);
        let _ = header::decode::<SettleResponse>(&value);
    }

    #[test]
    fn networks_round_trip(n in network()) {
        prop_assert_eq!(&Network::parse(n.as_str()).unwrap(), &n);
        prop_assert_eq!(&serde_json::from_value::<Network>(serde_json::to_value(&n).unwrap()).unwrap(), &n);
        prop_assert!(NetworkPattern::namespace(n.namespace()).unwrap().matches(&n));
        prop_assert!(NetworkPattern::from(n.clone()).matches(&n));
        let list = NetworkPattern::parse(&format!("{}:{{{},zz}}", n.namespace(), n.reference())).unwrap();
        prop_assert!(list.matches(&n));
    }

    #[test]
    fn eip155_chain_ids_round_trip(id in any::<u64>()) {
        prop_assert_eq!(Network::eip155(id).eip155_chain_id(), Some(id));
    }

    #[test]
    fn amounts_round_trip(a in amount()) {
        prop_assert_eq!(TokenAmount::parse(&a.to_string()).unwrap(), a);
        prop_assert_eq!(serde_json::from_value::<TokenAmount>(serde_json::to_value(a).unwrap()).unwrap(), a);
    }

    #[test]
    fn decimal_strings_scale_back_exactly(a in amount(), decimals in 0u8..=77) {
        let text = a.to_decimal_string(decimals);
        prop_assert_eq!(Price::parse(&text).unwrap().to_atomic(decimals).unwrap(), a);
        prop_assert_eq!(Price::parse(&format!("${text}")).unwrap().to_atomic(decimals).unwrap(), a);
    }

    #[test]
    fn reasons_round_trip(r in reason()) {
        prop_assert_eq!(&ErrorReason::parse(r.as_str()), &r);
        prop_assert_eq!(serde_json::from_value::<ErrorReason>(serde_json::to_value(&r).unwrap()).unwrap(), r);
    }
}
