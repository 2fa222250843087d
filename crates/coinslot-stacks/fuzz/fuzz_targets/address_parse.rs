//! Parsing any text as an address, a principal or an asset never panics, and a parsed
//! address prints to text that parses back to it.

#![no_main]

use coinslot_stacks::exact::AssetId;
use coinslot_stacks::{Principal, StacksAddress};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(address) = text.parse::<StacksAddress>() {
        assert_eq!(address.to_string().parse::<StacksAddress>(), Ok(address));
    }
    if let Ok(principal) = text.parse::<Principal>() {
        assert_eq!(principal.to_string().parse::<Principal>(), Ok(principal));
    }
    let _ = text.parse::<AssetId>();
});
