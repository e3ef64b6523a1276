//! What the fuzz targets share: the text form of a request that seeds and
//! inputs use, and the checks every decision must pass.
//!
//! A request input is HTTP-like text, so seeds made from the simulator's
//! traces (scripts/fuzz-seeds.py) stay readable and the fuzzer mutates
//! headers and body alike:
//!
//! ```text
//! POST /v1/chat/completions
//! authorization: Bearer sk-1
//! :source: 203.0.113.7
//!
//! {"model": "gpt-4o", "messages": [...]}
//! ```
//!
//! The first line is `METHOD PATH`; then `name: value` header lines (names
//! lower-cased; the pseudo-header `:source` is the downstream peer address);
//! a blank line; then the body, taken as raw bytes. Anything that does not
//! fit is still a request: a missing blank line means no body, a line
//! without a colon is skipped, an address that does not parse is none.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use distill_guard::engine::Decision;
use distill_guard::request::RequestMeta;
use distill_guard::verdict::Action;

/// Splits an input into request metadata and body.
pub fn request(data: &[u8]) -> (RequestMeta, &[u8]) {
    let (head, body) = match find(data, b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &data[data.len()..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n');
    let first = lines.next().unwrap_or("");
    let (method, path) = first.split_once(' ').unwrap_or((first, "/"));
    let mut meta = RequestMeta {
        method: method.to_owned(),
        path: path.to_owned(),
        ..RequestMeta::default()
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':').and_then(|(n, v)| {
            if n.is_empty() {
                // `:source: addr` and other pseudo-headers.
                v.split_once(':').map(|(n2, v2)| (format!(":{n2}"), v2))
            } else {
                Some((n.to_ascii_lowercase(), v))
            }
        }) else {
            continue;
        };
        let value = value.trim_start();
        match name.as_str() {
            ":source" => meta.source_ip = value.parse().ok(),
            ":authority" => meta.authority = Some(value.to_owned()),
            _ => meta.headers.push((name, value.to_owned())),
        }
    }
    (meta, body)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What every decision must satisfy, whatever the input.
pub fn check_decision(d: &Decision) {
    let score = d.verdict.score;
    assert!((0.0..=1.0).contains(&score), "score {score} outside [0, 1]");
    assert_eq!(
        d.reply.is_some(),
        d.verdict.action.denies(),
        "a denial has a reply and nothing else has one"
    );
    if d.verdict.action != Action::Tag {
        assert!(d.tag_headers.is_empty(), "only a tag adds headers");
    }
    let hex = d
        .identity
        .strip_prefix("k:")
        .or_else(|| d.identity.strip_prefix("anon:"))
        .unwrap_or_else(|| panic!("identity key {:?} is neither k: nor anon:", d.identity));
    assert!(
        hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "identity key {:?}",
        d.identity
    );
}
