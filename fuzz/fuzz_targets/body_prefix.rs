//! The inspected body prefix (`api::BodyPrefix`): chunks as Envoy hands
//! them over, whitespace compaction and gzip/deflate decompression of
//! attacker bytes (a zip bomb must end at the bound, never in memory or
//! time). Input: one byte choosing the content-encoding, one the cap, one
//! the chunk sizes, then the raw body. The plain strings the compactor
//! records must be plain strings of the prefix, and reading the prefix with
//! them must give the view its bytes alone give.
#![no_main]

use distill_guard::api::inflate::Coding;
use distill_guard::api::{self, BodyPrefix};
use libfuzzer_sys::fuzz_target;

const CODINGS: [Coding; 4] = [Coding::Identity, Coding::Gzip, Coding::Deflate, Coding::Unsupported];

fuzz_target!(|data: &[u8]| {
    let [coding, cap, chunking, body @ ..] = data else {
        return;
    };
    let cap = 1024 + usize::from(*cap) * 64;
    let raw_limit = cap * 4;
    let mut prefix = BodyPrefix::new(cap, raw_limit, CODINGS[usize::from(*coding) % CODINGS.len()]);
    let mut step = 1 + usize::from(*chunking);
    let mut rest = body;
    while !rest.is_empty() && !prefix.done() {
        let (chunk, after) = rest.split_at(step.min(rest.len()));
        rest = after;
        step = step * 5 % 8191 + 1;
        let want = prefix.wants(chunk.len());
        assert!(want <= chunk.len(), "wants more than arrived");
        prefix.push(chunk.len(), &chunk[..want]);
        assert!(prefix.bytes().len() <= cap, "prefix past the cap");
    }
    let _ = (prefix.undecodable(rest.is_empty()), prefix.complete(rest.is_empty()));
    let bytes = prefix.bytes();
    for s in prefix.plain_strings().spans() {
        let (start, end) = (s.start as usize, s.end as usize);
        assert!(start >= 1 && bytes[start - 1] == b'"' && bytes[end] == b'"', "{start}..{end}");
        let text = &bytes[start..end];
        assert!(!text.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20), "{start}..{end}");
    }
    let path = "/v1/chat/completions";
    let Some(route) = api::route("POST", path) else {
        panic!("{path} is an LLM API path")
    };
    let chat = route.api;
    let truncated = !prefix.complete(rest.is_empty());
    assert_eq!(
        api::parse_prefix(chat, route.model.as_deref(), None, &prefix, truncated),
        api::parse(chat, path, None, bytes, truncated),
        "plain strings changed the view"
    );
});
