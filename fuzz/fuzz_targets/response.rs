//! The response side (`response`): the SSE splitter and the usage meter on
//! upstream bytes in chunks of any size. Checks that every byte fed comes
//! out exactly once and in order, that no event past the bound is held,
//! that the events do not depend on where the chunks were cut, and that
//! the meter (SSE and JSON) gives the same counts however the answer is cut.
//! Input: one byte for the event bound, one for the chunk sizes, one for the
//! content type, then the answer.
#![no_main]

use distill_guard::response::sse::{Piece, SseSplitter};
use distill_guard::response::ResponseMeter;
use libfuzzer_sys::fuzz_target;

fn split(body: &[u8], max: usize, mut step: usize) -> (Vec<(Option<String>, String)>, Vec<u8>) {
    let mut sse = SseSplitter::new(max);
    let mut events = Vec::new();
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(step.min(rest.len()));
        rest = after;
        step = step.saturating_mul(5) % 8191 + 1;
        sse.feed(chunk, &mut |p| match p {
            Piece::Event(e) => {
                assert!(e.raw.len() <= max, "event past the bound");
                out.extend_from_slice(&e.raw);
                events.push((e.name.clone(), e.data.clone()));
            }
            Piece::Overlong(b) => out.extend_from_slice(b),
        });
    }
    out.extend(sse.finish());
    (events, out)
}

fn meter(body: &[u8], content_type: &str, step: usize) -> distill_guard::response::Tally {
    let mut m = ResponseMeter::new(Some(content_type), None, 256);
    for c in body.chunks(step.max(1)) {
        m.feed(c);
    }
    m.finish()
}

fuzz_target!(|data: &[u8]| {
    let [max, chunking, kind, body @ ..] = data else {
        return;
    };
    let max = 8 + usize::from(*max) * 4;
    let (events, out) = split(body, max, 1 + usize::from(*chunking));
    assert_eq!(out, body, "bytes lost, added or reordered");
    let (whole, _) = split(body, body.len() + 1, body.len().max(1));
    if body.len() < max {
        assert_eq!(events, whole, "events depend on the chunking");
    }
    let ct = if kind % 2 == 0 { "text/event-stream" } else { "application/json" };
    let a = meter(body, ct, body.len());
    let b = meter(body, ct, 1 + usize::from(*chunking));
    assert_eq!(a, b, "counts depend on the chunking");
    assert!(a.output_tokens >= a.reasoning_tokens, "more reasoning than output");
});
