//! Bodies the filter could not read but the upstream would (issue 10):
//! `content-encoding: gzip` and `deflate` are decompressed into the
//! inspected prefix, within a bound; other codings are not inspectable and
//! fall under `body.on_parse_error`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::Write;

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Decision, Engine, Host};
use distill_guard::metrics::{Counter, MemoryMetrics};
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;
use distill_guard::verdict::Action;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;

const CONFIG: &str = r#"{"mode": "enforce", "identity": {"secret": "s3cret"}, "rules": [{"phrases": ["pineapple"], "action": "block"}], "detection": {"enabled": false}}"#;
const CHAT: &str = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"pineapple facts"}]}"#;

fn evaluate(encoding: &str, body: &[u8], metrics: &MemoryMetrics) -> Decision {
    let engine = Engine::from_config(CONFIG.as_bytes()).unwrap();
    let (store, clock) = (MemoryStore::new(), ManualClock::new(1_767_225_600.0));
    let meta = RequestMeta {
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        authority: Some("llm.example".into()),
        headers: vec![
            ("authorization".into(), "Bearer sk-gz".into()),
            ("content-encoding".into(), encoding.into()),
        ],
        source_ip: Some("198.51.100.20".parse().unwrap()),
    };
    let host = Host {
        store: &store,
        clock: &clock,
        metrics,
    };
    engine.evaluate(meta, body, &host)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_deflate_bodies_are_read() {
    for (encoding, body) in [
        ("gzip", gzip(CHAT.as_bytes())),
        ("GZip", gzip(CHAT.as_bytes())),
        ("deflate", zlib(CHAT.as_bytes())),
        ("deflate", raw_deflate(CHAT.as_bytes())),
    ] {
        let m = MemoryMetrics::default();
        let d = evaluate(encoding, &body, &m);
        assert_eq!(d.verdict.action, Action::Block, "{encoding}: {:?}", d.verdict);
        assert_eq!(m.get(Counter::ParseFailure("compressed")), 0);
        assert_eq!(m.get(Counter::BodyTruncated), 0, "{encoding}");
    }
}

#[test]
fn padding_inside_gzip_is_compacted_too() {
    let mut padded = b"{".to_vec();
    padded.extend(vec![b' '; 600 * 1024]);
    padded.extend_from_slice(&CHAT.as_bytes()[1..]);
    let d = evaluate("gzip", &gzip(&padded), &MemoryMetrics::default());
    assert_eq!(d.verdict.action, Action::Block, "{:?}", d.verdict);
}

#[test]
fn a_zip_bomb_stays_bounded_and_is_denied() {
    // 64 MiB of whitespace ahead of the prompt, about 64 KiB compressed:
    // decompression stops at 4 x the 1 MiB buffer bound, before any prompt.
    let mut bomb = b"{".to_vec();
    bomb.extend(vec![b' '; 64 << 20]);
    bomb.extend_from_slice(&CHAT.as_bytes()[1..]);
    let body = gzip(&bomb);
    assert!(body.len() < 256 * 1024);
    let m = MemoryMetrics::default();
    let d = evaluate("gzip", &body, &m);
    assert_eq!(m.get(Counter::ParseFailure("no_prompt_in_prefix")), 1);
    assert_eq!(d.verdict.action, Action::Block);
}

#[test]
fn other_codings_and_corrupt_data_are_not_inspectable() {
    let cut_short = gzip(CHAT.as_bytes())[..20].to_vec();
    for (encoding, body) in [
        ("br", CHAT.as_bytes().to_vec()),
        ("gzip", b"not gzip at all".to_vec()),
        ("gzip", vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0]),
        ("gzip", cut_short),
    ] {
        let m = MemoryMetrics::default();
        let d = evaluate(encoding, &body, &m);
        assert_eq!(m.get(Counter::ParseFailure("compressed")), 1, "{encoding}");
        assert!(d.verdict.reasons.contains(&"parse_error"), "{encoding}");
    }
}
