//! The sample headers of the x402 HTTP transport specs (v1 and v2): each decodes to the JSON the
//! spec documents and re-encodes to the same bytes.

use coinslot_core::v1::{PaymentPayloadV1, PaymentRequiredV1, SettleResponseV1};
use coinslot_core::{
    ErrorReason, PaymentPayload, PaymentRequired, SettleResponse, header, match_payload,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const V2_PAYMENT_REQUIRED: &str = "eyJ4NDAyVmVyc2lvbiI6MiwiZXJyb3IiOiJQQVlNRU5ULVNJR05BVFVSRSBoZWFkZXIgaXMgcmVxdWlyZWQiLCJyZXNvdXJjZSI6eyJ1cmwiOiJodHRwczovL2FwaS5leGFtcGxlLmNvbS9wcmVtaXVtLWRhdGEiLCJkZXNjcmlwdGlvbiI6IkFjY2VzcyB0byBwcmVtaXVtIG1hcmtldCBkYXRhIiwibWltZVR5cGUiOiJhcHBsaWNhdGlvbi9qc29uIn0sImFjY2VwdHMiOlt7InNjaGVtZSI6ImV4YWN0IiwibmV0d29yayI6ImVpcDE1NTo4NDUzMiIsImFtb3VudCI6IjEwMDAwIiwiYXNzZXQiOiIweDAzNkNiRDUzODQyYzU0MjY2MzRlNzkyOTU0MWVDMjMxOGYzZENGN2UiLCJwYXlUbyI6IjB4MjA5NjkzQmM2YWZjMEM1MzI4YkEzNkZhRjAzQzUxNEVGMzEyMjg3QyIsIm1heFRpbWVvdXRTZWNvbmRzIjo2MCwiZXh0cmEiOnsibmFtZSI6IlVTREMiLCJ2ZXJzaW9uIjoiMiJ9fV19";
const V2_PAYMENT_SIGNATURE: &str = "eyJ4NDAyVmVyc2lvbiI6MiwicmVzb3VyY2UiOnsidXJsIjoiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vcHJlbWl1bS1kYXRhIiwiZGVzY3JpcHRpb24iOiJBY2Nlc3MgdG8gcHJlbWl1bSBtYXJrZXQgZGF0YSIsIm1pbWVUeXBlIjoiYXBwbGljYXRpb24vanNvbiJ9LCJhY2NlcHRlZCI6eyJzY2hlbWUiOiJleGFjdCIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJhbW91bnQiOiIxMDAwMCIsImFzc2V0IjoiMHgwMzZDYkQ1Mzg0MmM1NDI2NjM0ZTc5Mjk1NDFlQzIzMThmM2RDRjdlIiwicGF5VG8iOiIweDIwOTY5M0JjNmFmYzBDNTMyOGJBMzZGYUYwM0M1MTRFRjMxMjI4N0MiLCJtYXhUaW1lb3V0U2Vjb25kcyI6NjAsImV4dHJhIjp7Im5hbWUiOiJVU0RDIiwidmVyc2lvbiI6IjIifX0sInBheWxvYWQiOnsic2lnbmF0dXJlIjoiMHgyZDZhNzU4OGQ2YWNjYTUwNWNiZjBkOWE0YTIyN2UwYzUyYzZjMzQwMDhjOGU4OTg2YTEyODMyNTk3NjQxNzM2MDhhMmNlNjQ5NjY0MmUzNzdkNmRhOGRiYmY1ODM2ZTliZDE1MDkyZjllY2FiMDVkZWQzZDYyOTNhZjE0OGI1NzFjIiwiYXV0aG9yaXphdGlvbiI6eyJmcm9tIjoiMHg4NTdiMDY1MTlFOTFlM0E1NDUzODc5MWJEYmIwRTIyMzczZTM2YjY2IiwidG8iOiIweDIwOTY5M0JjNmFmYzBDNTMyOGJBMzZGYUYwM0M1MTRFRjMxMjI4N0MiLCJ2YWx1ZSI6IjEwMDAwIiwidmFsaWRBZnRlciI6IjE3NDA2NzIwODkiLCJ2YWxpZEJlZm9yZSI6IjE3NDA2NzIxNTQiLCJub25jZSI6IjB4ZjM3NDY2MTNjMmQ5MjBiNWZkYWJjMDg1NmYyYWViMmQ0Zjg4ZWU2MDM3YjhjYzVkMDRhNzFhNDQ2MmYxMzQ4MCJ9fX0=";
const V2_PAYMENT_RESPONSE_SUCCESS: &str = "eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NTY3ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9";
const V2_PAYMENT_RESPONSE_FAILURE: &str = "eyJzdWNjZXNzIjpmYWxzZSwiZXJyb3JSZWFzb24iOiJpbnN1ZmZpY2llbnRfZnVuZHMiLCJuZXR3b3JrIjoiZWlwMTU1Ojg0NTMyIn0=";
const V1_X_PAYMENT: &str = "eyJ4NDAyVmVyc2lvbiI6MSwic2NoZW1lIjoiZXhhY3QiLCJuZXR3b3JrIjoiYmFzZS1zZXBvbGlhIiwicGF5bG9hZCI6eyJzaWduYXR1cmUiOiIweDJkNmE3NTg4ZDZhY2NhNTA1Y2JmMGQ5YTRhMjI3ZTBjNTJjNmMzNDAwOGM4ZTg5ODZhMTI4MzI1OTc2NDE3MzYwOGEyY2U2NDk2NjQyZTM3N2Q2ZGE4ZGJiZjU4MzZlOWJkMTUwOTJmOWVjYWIwNWRlZDNkNjI5M2FmMTQ4YjU3MWMiLCJhdXRob3JpemF0aW9uIjp7ImZyb20iOiIweDg1N2IwNjUxOUU5MWUzQTU0NTM4NzkxYkRiYjBFMjIzNzNlMzZiNjYiLCJ0byI6IjB4MjA5NjkzQmM2YWZjMEM1MzI4YkEzNkZhRjAzQzUxNEVGMzEyMjg3QyIsInZhbHVlIjoiMTAwMDAiLCJ2YWxpZEFmdGVyIjoiMTc0MDY3MjA4OSIsInZhbGlkQmVmb3JlIjoiMTc0MDY3MjE1NCIsIm5vbmNlIjoiMHhmMzc0NjYxM2MyZDkyMGI1ZmRhYmMwODU2ZjJhZWIyZDRmODhlZTYwMzdiOGNjNWQwNGE3MWE0NDYyZjEzNDgwIn19fQ==";
const V1_X_PAYMENT_RESPONSE_SUCCESS: &str = "eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NTY3ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJiYXNlLXNlcG9saWEiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9";
const V1_X_PAYMENT_RESPONSE_FAILURE: &str = "eyJzdWNjZXNzIjpmYWxzZSwiZXJyb3JSZWFzb24iOiJpbnN1ZmZpY2llbnRfZnVuZHMiLCJ0cmFuc2FjdGlvbiI6IiIsIm5ldHdvcmsiOiJiYXNlLXNlcG9saWEiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9";

fn requirement() -> Value {
    json!({
        "scheme": "exact",
        "network": "eip155:84532",
        "amount": "10000",
        "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        "maxTimeoutSeconds": 60,
        "extra": {"name": "USDC", "version": "2"}
    })
}

fn resource() -> Value {
    json!({
        "url": "https://api.example.com/premium-data",
        "description": "Access to premium market data",
        "mimeType": "application/json"
    })
}

fn exact_payload() -> Value {
    json!({
        "signature": "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c",
        "authorization": {
            "from": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
            "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "value": "10000",
            "validAfter": "1740672089",
            "validBefore": "1740672154",
            "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"
        }
    })
}

/// Decodes `header` as `T`, checks it equals `documented` as JSON, and re-encodes it to the
/// same bytes.
#[track_caller]
fn check_vector<T: Serialize + DeserializeOwned>(header_value: &str, documented: Value) -> T {
    let decoded: T = header::decode(header_value).expect("sample header decodes");
    assert_eq!(serde_json::to_value(&decoded).unwrap(), documented);
    assert_eq!(
        header::encode(&decoded).unwrap(),
        header_value,
        "re-encodes to the same bytes"
    );
    decoded
}

#[test]
fn v2_payment_required() {
    let required: PaymentRequired = check_vector(
        V2_PAYMENT_REQUIRED,
        json!({
            "x402Version": 2,
            "error": "PAYMENT-SIGNATURE header is required",
            "resource": resource(),
            "accepts": [requirement()]
        }),
    );
    assert_eq!(required.accepts[0].amount.to_string(), "10000");
    assert_eq!(required.accepts[0].network.eip155_chain_id(), Some(84532));
}

#[test]
fn v2_payment_signature_is_padded_and_matches_the_offer() {
    assert!(V2_PAYMENT_SIGNATURE.ends_with('='));
    let payment: PaymentPayload = check_vector(
        V2_PAYMENT_SIGNATURE,
        json!({
            "x402Version": 2,
            "resource": resource(),
            "accepted": requirement(),
            "payload": exact_payload()
        }),
    );
    let required = PaymentRequired::from_header(V2_PAYMENT_REQUIRED).unwrap();
    assert_eq!(
        match_payload(&required.accepts, &payment),
        Some(&required.accepts[0])
    );
}

#[test]
fn v2_payment_response_success() {
    let response: SettleResponse = check_vector(
        V2_PAYMENT_RESPONSE_SUCCESS,
        json!({
            "success": true,
            "transaction": "0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
            "network": "eip155:84532",
            "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66"
        }),
    );
    assert!(response.success);
}

#[test]
fn v2_payment_response_failure() {
    let response: SettleResponse = check_vector(
        V2_PAYMENT_RESPONSE_FAILURE,
        json!({"success": false, "errorReason": "insufficient_funds", "network": "eip155:84532"}),
    );
    assert_eq!(response.error_reason, Some(ErrorReason::InsufficientFunds));
    assert_eq!(response.transaction(), "");
}

#[test]
fn v1_x_payment() {
    // The v1 spec's prose shows `kairos-testnet`, but the sample header itself carries
    // `base-sepolia`: the bytes are the vector.
    let payment: PaymentPayloadV1 = check_vector(
        V1_X_PAYMENT,
        json!({
            "x402Version": 1,
            "scheme": "exact",
            "network": "base-sepolia",
            "payload": exact_payload()
        }),
    );
    assert!(V1_X_PAYMENT.ends_with("=="));
    let v2 = payment.to_v2(serde_json::from_value(requirement()).unwrap(), None);
    assert_eq!(PaymentPayloadV1::from_v2(&v2).unwrap(), payment);
}

#[test]
fn v1_x_payment_response_success_and_failure() {
    let ok: SettleResponseV1 = check_vector(
        V1_X_PAYMENT_RESPONSE_SUCCESS,
        json!({
            "success": true,
            "transaction": "0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
            "network": "base-sepolia",
            "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66"
        }),
    );
    let failed: SettleResponseV1 = check_vector(
        V1_X_PAYMENT_RESPONSE_FAILURE,
        json!({
            "success": false,
            "errorReason": "insufficient_funds",
            "transaction": "",
            "network": "base-sepolia",
            "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66"
        }),
    );
    // v1 and v2 receipts say the same thing.
    let v2 = ok.to_v2().unwrap();
    assert_eq!(v2.network.as_str(), "eip155:84532");
    assert_eq!(SettleResponseV1::from_v2(&v2).unwrap(), ok);
    assert_eq!(
        SettleResponseV1::from_v2(&failed.to_v2().unwrap()).unwrap(),
        failed
    );
}

#[test]
fn v1_payment_required_body_keeps_null_output_schema() {
    let body = json!({
        "x402Version": 1,
        "error": "Payment required to access this resource",
        "accepts": [{
            "scheme": "exact",
            "network": "kairos-testnet",
            "maxAmountRequired": "10000",
            "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "resource": "https://api.example.com/premium-data",
            "description": "Access to premium market data",
            "mimeType": "application/json",
            "outputSchema": null,
            "maxTimeoutSeconds": 60,
            "extra": {"name": "USDC", "version": "2"}
        }]
    });
    let parsed: PaymentRequiredV1 = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(parsed.accepts[0].output_schema, Some(Value::Null));
    assert_eq!(serde_json::to_value(&parsed).unwrap(), body);
    // `kairos-testnet` has no CAIP-2 identifier we know: the conversion says so.
    assert!(matches!(
        parsed.accepts[0].to_v2(),
        Err(coinslot_core::Error::UnknownNetworkName { .. })
    ));
}

#[test]
fn v2_402_becomes_the_v1_body() {
    let required = PaymentRequired::from_header(V2_PAYMENT_REQUIRED).unwrap();
    let v1 = PaymentRequiredV1::from_v2(&required);
    let offer = &v1.accepts[0];
    assert_eq!(offer.network, "base-sepolia");
    assert_eq!(offer.max_amount_required.to_string(), "10000");
    assert_eq!(offer.resource, "https://api.example.com/premium-data");
    let (back, resource) = offer.to_v2().unwrap();
    assert_eq!(back, required.accepts[0]);
    assert_eq!(resource, required.resource);
}
