//! The replay guard: one payment runs the handler once.
//!
//! A payment is known by its [`PaymentId`] when the facilitator gives one (an in-process
//! facilitator names an EIP-3009 payment by token, payer and nonce, so two encodings of one
//! signature are one payment), else by a digest of its canonical JSON (the version, scheme,
//! network and payload; object keys sorted), so the same payment re-encoded with other key order
//! or whitespace is the same payment. While a request holds a payment's claim, every other request
//! with it is refused; once done, the payment stays refused for the retention period. Past that,
//! the chain and the facilitator's settlement record refuse it (an EIP-3009 nonce is used once),
//! so the guard needs no disk: it stops what they cannot see, a payment that is verified but not
//! yet settled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use coinslot_core::{JsonObject, PaymentId};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// How long a used payment stays refused by the guard itself.
pub(crate) const DEFAULT_RETENTION: Duration = Duration::from_secs(60 * 60);

/// The fewest entries before the guard sweeps expired ones.
const MIN_SWEEP_AT: usize = 1024;

type Key = [u8; 32];

#[derive(Debug, Clone, Copy)]
enum Entry {
    InFlight,
    Used(Instant),
}

#[derive(Debug)]
struct Entries {
    map: HashMap<Key, Entry>,
    sweep_at: usize,
}

#[derive(Debug)]
pub(crate) struct ReplayGuard {
    entries: Mutex<Entries>,
    retention: Duration,
}

impl ReplayGuard {
    pub(crate) fn new(retention: Duration) -> Self {
        Self {
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                sweep_at: MIN_SWEEP_AT,
            }),
            retention,
        }
    }

    /// Takes the payment for this request, or `None` if another request has it or had it.
    pub(crate) fn claim(self: &Arc<Self>, key: Key) -> Option<Claim> {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.map.len() >= entries.sweep_at {
            let retention = self.retention;
            entries.map.retain(|_, entry| match entry {
                Entry::InFlight => true,
                Entry::Used(at) => now.duration_since(*at) < retention,
            });
            entries.sweep_at = (entries.map.len() * 2).max(MIN_SWEEP_AT);
        }
        match entries.map.get(&key) {
            Some(Entry::InFlight) => return None,
            Some(Entry::Used(at)) if now.duration_since(*at) < self.retention => return None,
            _ => {}
        }
        entries.map.insert(key, Entry::InFlight);
        Some(Claim {
            guard: Arc::clone(self),
            key,
            release: false,
        })
    }

    fn finish(&self, key: &Key, release: bool) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if release {
            entries.map.remove(key);
        } else {
            entries.map.insert(*key, Entry::Used(Instant::now()));
        }
    }
}

/// A request's hold on a payment. Dropped, it marks the payment used: whatever happened, the
/// payment is not run again. [`Claim::release`] gives it back when nothing ran and nothing moved.
#[derive(Debug)]
pub(crate) struct Claim {
    guard: Arc<ReplayGuard>,
    key: Key,
    release: bool,
}

impl Claim {
    /// The payment was refused before anything ran or moved: it may be tried again.
    pub(crate) fn release(mut self) {
        self.release = true;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.guard.finish(&self.key, self.release);
    }
}

/// The guard's key of a payment without a [`PaymentId`]: SHA-256 over its version, scheme,
/// network and a canonical form of its scheme payload.
pub(crate) fn payload_key(version: u8, scheme: &str, network: &str, payload: &JsonObject) -> Key {
    let mut hasher = Sha256::new();
    hasher.update([version]);
    string(scheme, &mut hasher);
    string(network, &mut hasher);
    object(payload, &mut hasher);
    hasher.finalize().into()
}

/// The guard's key of a payment with a [`PaymentId`]; tagged, so that it can never equal a
/// [`payload_key`].
pub(crate) fn id_key(id: &PaymentId) -> Key {
    let mut hasher = Sha256::new();
    hasher.update(b"facilitator:");
    string(id.as_str(), &mut hasher);
    hasher.finalize().into()
}

fn string(s: &str, hasher: &mut Sha256) {
    hasher.update((s.len() as u64).to_be_bytes());
    hasher.update(s.as_bytes());
}

fn object(map: &JsonObject, hasher: &mut Sha256) {
    hasher.update(b"{");
    hasher.update((map.len() as u64).to_be_bytes());
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for key in keys {
        string(key, hasher);
        canonical(&map[key], hasher);
    }
}

/// Feeds `value` to the hasher with object keys sorted; each value is tagged and each string
/// length-prefixed, so distinct values cannot feed the same bytes.
fn canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Null => hasher.update(b"n"),
        Value::Bool(b) => hasher.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            hasher.update(b"#");
            string(&n.to_string(), hasher);
        }
        Value::String(s) => {
            hasher.update(b"s");
            string(s, hasher);
        }
        Value::Array(items) => {
            hasher.update(b"[");
            hasher.update((items.len() as u64).to_be_bytes());
            for item in items {
                canonical(item, hasher);
            }
        }
        Value::Object(map) => object(map, hasher),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(payload: Value) -> Key {
        let Value::Object(payload) = payload else {
            panic!("not an object")
        };
        payload_key(2, "exact", "eip155:84532", &payload)
    }

    #[test]
    fn key_ignores_key_order_but_not_values() {
        let a = key(json!({"x": 1, "y": {"p": "q", "r": [1, 2]}}));
        let b = key(json!({"y": {"r": [1, 2], "p": "q"}, "x": 1}));
        let c = key(json!({"x": 1, "y": {"p": "q", "r": [2, 1]}}));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Strings and numbers with the same text are different values.
        assert_ne!(key(json!({"x": "1"})), key(json!({"x": 1})));
        // The same payload on another network is another payment.
        let Value::Object(payload) = json!({"x": 1}) else {
            unreachable!()
        };
        assert_ne!(
            payload_key(2, "exact", "eip155:8453", &payload),
            key(json!({"x": 1}))
        );
    }

    #[test]
    fn a_claim_refuses_others_until_released() {
        let guard = Arc::new(ReplayGuard::new(DEFAULT_RETENTION));
        let claim = guard.claim([1; 32]).unwrap();
        assert!(guard.claim([1; 32]).is_none());
        claim.release();
        let claim = guard.claim([1; 32]).unwrap();
        drop(claim);
        assert!(
            guard.claim([1; 32]).is_none(),
            "a used payment stays refused"
        );
    }

    #[test]
    fn used_payments_expire_after_the_retention() {
        let guard = Arc::new(ReplayGuard::new(Duration::ZERO));
        drop(guard.claim([2; 32]).unwrap());
        assert!(guard.claim([2; 32]).is_some());
    }
}
