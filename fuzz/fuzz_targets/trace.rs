//! The replay's trace reader (trace-format.md) and the replay loop over it:
//! any bytes are either replayed or refused with a line number.
#![no_main]

use distill_guard::engine::Engine;
use distill_guard::replay;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    let engine = ENGINE
        .get_or_init(|| Engine::from_config(br#"{"mode": "enforce", "identity": {"secret": "fuzz"}}"#).expect("valid"));
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            let _ = replay::trace::parse_line(line);
        }
    }
    let mut input = data;
    let _ = replay::run(engine, &mut input, &mut std::io::sink());
});
