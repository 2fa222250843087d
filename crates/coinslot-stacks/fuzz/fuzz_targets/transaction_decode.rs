//! Transaction decoding never panics; whatever decodes re-encodes to the same bytes, and
//! checking its signatures never panics either.

#![no_main]

use coinslot_stacks::{HighS, Transaction};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::from_bytes(data) {
        assert_eq!(tx.to_bytes(), data, "decoding is canonical");
        let _ = tx.txid();
        let _ = tx.verify(HighS::Allow);
    }
});
