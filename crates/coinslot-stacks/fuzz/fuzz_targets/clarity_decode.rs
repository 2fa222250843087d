//! Clarity value decoding never panics, and whatever decodes re-encodes to the same bytes.

#![no_main]

use coinslot_stacks::ClarityValue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = ClarityValue::from_bytes(data) {
        assert_eq!(value.to_bytes(), data, "decoding is canonical");
    }
});
