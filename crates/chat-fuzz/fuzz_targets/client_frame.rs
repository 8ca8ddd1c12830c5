//! Every client frame goes through `decode`: whatever the bytes, it returns
//! a frame or one of its three error codes, and never panics.

#![no_main]

use chat_transport::wire::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err((code, message)) = decode(&text) {
        assert!(matches!(
            code,
            "invalid_frame" | "unknown_type" | "invalid_payload"
        ));
        assert!(!message.is_empty());
    }
});
