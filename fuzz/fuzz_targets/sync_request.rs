//! The hub's sync request decoder: whatever bytes arrive, unpacking and decoding end in a value
//! or an error, never a panic or an unbounded allocation.
#![no_main]

use doorstep_protocol::{DocSyncRequest, SyncRequest, decode, decompress};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode::<SyncRequest>(data);
    let _ = decode::<DocSyncRequest>(data);
    if let Ok(unpacked) = decompress(data, 1 << 20) {
        assert!(unpacked.len() <= 1 << 20, "decompress must respect its limit");
        let _ = decode::<SyncRequest>(&unpacked);
    }
});
