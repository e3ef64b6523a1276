//! The reasoning strippers (`response::reasoning`) on upstream answers: an
//! SSE stream cut into chunks as Envoy hands them over, and the same bytes
//! as one JSON answer. Input: one byte choosing the wire format, one the
//! bound, one the chunk sizes, then the answer.
//!
//! Checks: never more held than the bound; the stream comes out the same
//! however it is cut (framing across chunks, `\r\n` split included); a
//! rewritten JSON answer is JSON.
#![no_main]

use distill_guard::response::reasoning::{Format, JsonAnswer, JsonOutcome, StreamStripper};
use libfuzzer_sys::fuzz_target;

const FORMATS: [Format; 4] = [Format::Chat, Format::Responses, Format::Messages, Format::Gemini];

fuzz_target!(|data: &[u8]| {
    let [format, max, chunking, answer @ ..] = data else {
        return;
    };
    let format = FORMATS[usize::from(*format) % FORMATS.len()];
    let max = 16 + usize::from(*max) * 64;

    let mut whole = StreamStripper::new(format, max);
    let mut expected = Vec::new();
    whole.push(answer, &mut expected);
    assert!(whole.held() <= max, "held past the bound");
    whole.finish(&mut expected);

    let mut cut = StreamStripper::new(format, max);
    let mut out = Vec::new();
    let mut step = 1 + usize::from(*chunking);
    let mut rest = answer;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(step.min(rest.len()));
        rest = after;
        step = step * 5 % 257 + 1;
        cut.push(chunk, &mut out);
        assert!(cut.held() <= max, "held past the bound");
    }
    cut.finish(&mut out);
    assert_eq!(out, expected, "the stream depends on how it was cut");
    assert_eq!((cut.withheld, cut.oversize), (whole.withheld, whole.oversize));

    let mut json = JsonAnswer::new(format, max);
    for chunk in answer.chunks(1 + usize::from(*chunking)) {
        json.push(chunk);
    }
    match json.finish() {
        JsonOutcome::Withheld(bytes) => {
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("rewritten JSON is JSON");
        }
        JsonOutcome::Unchanged(bytes) | JsonOutcome::Unreadable(bytes) => assert_eq!(bytes, answer),
        JsonOutcome::Oversize => assert!(answer.len() > max),
    }
});
