//! `distill-guard import` (HAR files and Envoy tap traces an operator
//! hands in): any text is converted or refused with an error, and every
//! line it converts is one the replay's trace reader accepts.
#![no_main]

use distill_guard::import::{convert_text, Stats};
use distill_guard::replay::trace::parse_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(lines) = convert_text(text, &mut Stats::default()) else {
        return;
    };
    for line in lines {
        let json = serde_json::to_string(&line).expect("a trace line serialises");
        if let Err(e) = parse_line(&json) {
            panic!("import wrote a line replay refuses ({e}): {json}");
        }
    }
});
