//! Header decoding never panics, whatever decodes re-encodes to a value that decodes to the
//! same thing, and its JSON never re-encodes longer than it came in (what a server relies on
//! when it forwards a payment to its facilitator).

#![no_main]

use coinslot_core::v1::{PaymentPayloadV1, SettleResponseV1};
use coinslot_core::{PaymentPayload, PaymentRequired, SettleResponse, header};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(value) = header::decode::<T>(data) {
        let json = header::decode_base64(data, header::MAX_HEADER_LEN).expect("it decoded");
        let written = serde_json::to_vec(&value).expect("decoded values encode");
        assert!(written.len() <= json.len(), "re-encoded longer");
        let encoded = header::encode(&value).expect("decoded values encode");
        let again: T = header::decode(&encoded).expect("encoded values decode");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<PaymentPayload>(data);
    round_trip::<PaymentRequired>(data);
    round_trip::<SettleResponse>(data);
    round_trip::<PaymentPayloadV1>(data);
    round_trip::<SettleResponseV1>(data);
    // The JSON layer alone, for inputs that are not base64.
    let _ = header::decode_json::<PaymentPayload>(data);
});
