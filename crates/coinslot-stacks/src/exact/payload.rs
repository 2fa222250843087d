//! The `payload` of an `exact` Stacks payment: `{"transaction": "<hex>"}`, a signed and
//! unbroadcast transaction (with or without `0x`; the draft spec's `signedTransaction` is read
//! too).

use coinslot_core::JsonObject;
use serde::{Deserialize, Serialize};

/// The `payload` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExactStacksPayload {
    /// The signed transaction, hex.
    #[serde(alias = "signedTransaction")]
    pub transaction: String,
}

impl ExactStacksPayload {
    /// The payload as the JSON object that goes under `"payload"`.
    pub fn to_object(&self) -> JsonObject {
        let mut object = JsonObject::new();
        object.insert("transaction".into(), self.transaction.clone().into());
        object
    }

    /// Reads the payload object; `None` if it has no transaction string.
    pub fn from_object(object: &JsonObject) -> Option<Self> {
        object
            .get("transaction")
            .or_else(|| object.get("signedTransaction"))
            .and_then(|v| v.as_str())
            .map(|transaction| Self {
                transaction: transaction.to_owned(),
            })
    }
}
