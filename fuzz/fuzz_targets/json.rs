//! The module's JSON reader and writer (src/json/) against serde_json, the
//! reader they replace: the same documents refused, and what the tree
//! writes reads back (with serde_json) as exactly the document serde_json
//! read. Floats are written as they came, so serde_json reads the same
//! values again; serde_json's own output is written back byte for byte.
#![no_main]

use distill_guard::json::Value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours = Value::parse(data);
    let theirs = serde_json::from_slice::<serde_json::Value>(data).ok();
    assert_eq!(ours.is_some(), theirs.is_some(), "refusals differ");
    let (Some(ours), Some(theirs)) = (ours, theirs) else { return };
    let written = ours.to_json();
    let reread: serde_json::Value = serde_json::from_str(&written).expect("written JSON is JSON");
    assert_eq!(reread, theirs, "{written}");
    // serde_json's own bytes (floats in its shortest form) are written
    // back unchanged: the writer's bytes are serde_json's.
    let canonical = serde_json::to_string(&theirs).unwrap();
    assert_eq!(Value::parse(canonical.as_bytes()).map(|v| v.to_json()), Some(canonical));
});
