//! The OpenAPI document as served: the handlers' annotations, plus what every paid operation
//! shares and no handler states: the `{ok: true, tokenType}` envelope that `routes::reply` adds
//! to each success, the refusals that come from the layers around the handlers (a body that
//! does not read, an unknown API key, the 402, an oversized body), and the API-key scheme.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

use crate::caller::TokenType;

/// The schema of what `routes::reply` adds to a success.
fn envelope() -> Value {
    let tokens: Vec<&str> = TokenType::ALL.iter().map(|t| t.as_str()).collect();
    json!({
        "type": "object",
        "required": ["ok", "tokenType"],
        "properties": {
            "ok": {"const": true},
            "tokenType": {"type": "string", "enum": tokens,
                          "description": "How the call was paid, or how it got in"},
        },
    })
}

fn refusal(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    })
}

/// The x402 challenge: the offers in the `PAYMENT-REQUIRED` header, and in the body for v1
/// clients.
fn payment_required() -> Value {
    json!({
        "description": "Payment required: the offers are in the PAYMENT-REQUIRED header (x402 v2)",
        "headers": {"PAYMENT-REQUIRED": {"schema": {"type": "string"},
                    "description": "base64 of the x402 v2 PaymentRequired object"}},
        "content": {"application/json": {"schema": {"type": "object"}}},
    })
}

/// `api` as served, in JSON: `paid` lists the paid operations' `(method, path)`.
pub fn document(api: &OpenApi, paid: &[(String, String)]) -> Result<String, String> {
    let mut doc: Value = serde_json::from_str(&api.to_json().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    doc["components"]["schemas"]["Paid"] = envelope();
    doc["components"]["securitySchemes"]["apiKey"] = json!({
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "A prepaid key, served without a payment while its credit lasts",
    });
    name_operations(&mut doc);
    for (method, path) in paid {
        let Some(operation) = doc["paths"][path.as_str()].get_mut(method.as_str()) else {
            return Err(format!("{method} {path} is not in the document"));
        };
        let takes_body = operation.get("requestBody").is_some();
        let responses = &mut operation["responses"];
        if let Some(success) = responses["200"]["content"]["application/json"].get_mut("schema") {
            *success = json!({"allOf": [success.take(), {"$ref": "#/components/schemas/Paid"}]});
        }
        let mut shared = vec![
            (
                "400",
                refusal("Bad input: a parameter or body that does not read"),
            ),
            ("401", refusal("An unknown API key")),
            ("402", payment_required()),
            (
                "413",
                refusal("A value past its limit, or a body over 1 MiB"),
            ),
        ];
        if takes_body {
            shared.push(("415", refusal("A body that is not application/json")));
        }
        for (status, answer) in shared {
            // The handler's own words for a status win over the shared ones.
            if responses
                .get(status)
                .is_none_or(|r| r.get("content").is_none())
            {
                responses[status] = answer;
            }
        }
        operation["security"] = json!([{}, {"apiKey": []}]);
    }
    serde_json::to_string(&doc).map_err(|e| e.to_string())
}

/// Gives every operation an id made of its method and path (`post_storage_memory_delete`):
/// the handlers' function names, utoipa's ids, repeat across modules (`delete`, `list`).
fn name_operations(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in operations {
            let words: Vec<&str> = path
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|word| !word.is_empty())
                .collect();
            let id = format!("{method}_{}", words.join("_"));
            operation["operationId"] = Value::from(if words.is_empty() {
                format!("{method}_index")
            } else {
                id
            });
        }
    }
}
