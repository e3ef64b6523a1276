//! Each API's body parser, on whole bodies and on truncated prefixes (what
//! the filter reads when a body runs past the inspection cap). Input: one
//! byte choosing the API path, one choosing where to cut, one choosing the
//! content-encoding header, then the body.
#![no_main]

use distill_guard::api::{self, parse};
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/completions",
    "/v1/messages",
    "/v1beta/models/gemini-2.5-pro:generateContent",
    "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
    "/openai/deployments/davinci/completions?api-version=2024-10-21",
    "/openai/responses?api-version=2025-03-01-preview",
];
const ENCODINGS: &[Option<&str>] = &[None, None, None, Some("identity"), Some(" "), Some("gzip")];

fuzz_target!(|data: &[u8]| {
    let [which, cut, enc, body @ ..] = data else { return };
    let path = PATHS[usize::from(*which) % PATHS.len()];
    let Some(api) = api::classify("POST", path) else {
        panic!("{path} is an LLM API path")
    };
    let encoding = ENCODINGS[usize::from(*enc) % ENCODINGS.len()];
    let _ = parse(api, path, encoding, body, false);
    // A prefix cut anywhere, even inside a UTF-8 sequence or an escape.
    let at = body.len() * usize::from(*cut) / 255;
    let _ = parse(api, path, encoding, &body[..at], true);
});
