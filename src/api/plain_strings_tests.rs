//! A prefix read with the plain strings its compactor recorded
//! ([`super::parse_prefix`]) against its bytes read alone, every string
//! scanned (the oracle, [`super::parse`]): the same repairs, trees, views
//! and refusals, for whole bodies and bodies cut at the cap anywhere, in
//! any chunking.

use super::inflate::Coding;
use super::parse::{body_text, root};
use super::plain_strings::{PlainStrings, Records, Span};
use super::truncated::repair;
use super::{classify, model_from_path, parse, parse_prefix, BodyPrefix};
use crate::json::tests::Rng;
use crate::json::Value;
use wasm_bindgen_test::wasm_bindgen_test;

const PATH: &str = "/v1/chat/completions";

/// The text of a JSON string (escaped as written): long plain runs, escapes,
/// non-ASCII, base64 runs the compactor cuts down, now and then a raw
/// control byte (which JSON refuses).
fn string_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(6) {
        match rng.below(20) {
            0..=6 => s.push_str(&"The log says the request timed out, again. ".repeat(1 + rng.below(6) as usize)),
            7 => s.push_str("caf\u{e9} \u{4e2d}\u{6587} \u{1f600}"),
            8 => s.push_str("\\n"),
            9 => s.push_str("\\\"quoted\\\" \\\\ \\/"),
            10 => s.push_str("\\u00e9\\ud83d\\ude00"),
            11 => s.push_str(&"Q".repeat(200 + rng.below(200) as usize)),
            12 if rng.below(8) == 0 => s.push(if rng.below(2) == 0 { '\n' } else { '\u{1}' }),
            13 => s.push_str(&"x".repeat(120 + rng.below(16) as usize)),
            _ => s.push_str("word "),
        }
    }
    s
}

/// Whitespace the compactor drops.
fn space(rng: &mut Rng) -> &'static str {
    [" ", "", "", "\n  ", "\t"][rng.below(5) as usize]
}

/// A chat request with long and short strings in values and keys.
fn chat_body(rng: &mut Rng) -> Vec<u8> {
    let mut doc = String::new();
    if rng.below(30) == 0 {
        doc.push('\u{feff}');
    }
    doc.push_str(&format!("{{{}\"model\":{}\"gpt-4o\",", space(rng), space(rng)));
    doc.push_str("\"messages\":[");
    for k in 0..1 + rng.below(6) {
        if k > 0 {
            doc.push(',');
        }
        let role = ["system", "user", "assistant", "user"][rng.below(4) as usize];
        let content = string_text(rng);
        doc.push_str(&format!(
            "{{\"role\":{}\"{role}\",{}\"content\":\"{content}\"}}{}",
            space(rng),
            space(rng),
            space(rng)
        ));
    }
    doc.push_str("],");
    doc.push_str(&format!(
        "\"metadata\":{{\"{}\":\"{}\"}},",
        string_text(rng),
        string_text(rng)
    ));
    doc.push_str(&format!(
        "\"n\":{}1, \"tags\":[\"{}\", 2.5e3, null]}}",
        space(rng),
        string_text(rng)
    ));
    let mut bytes = doc.into_bytes();
    if rng.below(40) == 0 {
        let at = rng.below(bytes.len() as u64) as usize;
        bytes.insert(at, 0xff);
    }
    bytes
}

/// The prefix fed in random chunks.
fn chunked(body: &[u8], cap: usize, rng: &mut Rng) -> BodyPrefix {
    let mut p = BodyPrefix::new(cap, 1 << 20, Coding::Identity);
    let mut rest = body;
    while !rest.is_empty() {
        let (chunk, next) = rest.split_at((1 + rng.below(700) as usize).min(rest.len()));
        let n = p.wants(chunk.len());
        p.push(chunk.len(), &chunk[..n]);
        rest = next;
    }
    p
}

#[wasm_bindgen_test(unsupported = test)]
fn plain_strings_give_the_tree_and_view_a_scan_gives() {
    let api = classify("POST", PATH).unwrap();
    let mut rng = Rng(0x5eed_0f5c_a1d5);
    let (mut trees, mut cut_trees, mut cut_open, mut taken) = (0, 0, 0, 0);
    for doc in 0..250 {
        let body = chat_body(&mut rng);
        let mut caps: Vec<usize> = (0..8).map(|_| rng.below(body.len() as u64 + 1) as usize).collect();
        caps.push(1 << 20);
        if doc < 4 {
            caps.extend(0..body.len());
        }
        for cap in caps {
            let whole = BodyPrefix::of(&body, cap, 1 << 20, Coding::Identity);
            let pieces = chunked(&body, cap, &mut rng);
            assert_eq!(pieces.bytes(), whole.bytes(), "doc {doc} cap {cap}");
            assert_eq!(pieces.plain_strings(), whole.plain_strings(), "doc {doc} cap {cap}");
            let truncated = !whole.complete(true);
            if let Some(text) = body_text(whole.bytes(), truncated) {
                let plain = whole.plain_strings();
                let cut = plain.open_plain().map(|start| Span {
                    start: start as u32,
                    end: text.len() as u32,
                });
                let records = Records::new(plain.spans(), cut);
                let repaired = repair(text, 64, records);
                assert_eq!(repaired, repair(text, 64, Records::default()), "doc {doc} cap {cap}");
                let fast = root(text, whole.plain_strings(), truncated);
                assert_eq!(
                    fast,
                    root(text, &PlainStrings::default(), truncated),
                    "doc {doc} cap {cap}"
                );
                if fast.is_ok() {
                    trees += 1;
                    cut_trees += usize::from(truncated);
                    cut_open += usize::from(truncated && cut.is_some());
                    taken += whole.plain_strings().spans().len();
                }
            }
            assert_eq!(
                parse_prefix(api, model_from_path(PATH).as_deref(), None, &whole, truncated),
                parse(api, PATH, None, whole.bytes(), truncated),
                "doc {doc} cap {cap}"
            );
        }
    }
    // The cases are not vacuous: trees read, some from cut bodies (some
    // cut inside a plain string), with plain strings recorded.
    assert!(
        trees > 500 && cut_trees > 300 && cut_open > 100 && taken > 1000,
        "{trees} {cut_trees} {cut_open} {taken}"
    );
}

/// The reader takes a recorded string whole: a record (false here, to show
/// it) over an escape gives the escape's bytes, not its value; a record
/// that does not end at a quote is ignored and the string scanned.
#[wasm_bindgen_test(unsupported = test)]
fn a_recorded_string_is_taken_whole_and_checked_for_its_quote() {
    let text = r#"["ab\ncd", 1]"#;
    let read = |spans: &[Span]| Value::parse_str_plain(text, 64, Records::new(spans, None)).unwrap();
    let first = |v: Value| v.as_array().unwrap()[0].as_str().unwrap().to_owned();
    assert_eq!(first(read(&[Span { start: 2, end: 8 }])), "ab\\ncd");
    assert_eq!(first(read(&[Span { start: 2, end: 7 }])), "ab\ncd");
    assert_eq!(first(read(&[])), "ab\ncd");
    // A cut record, as for the string a cap cut and the repair closed.
    let cut = Records::new(&[], Some(Span { start: 2, end: 8 }));
    let v = Value::parse_str_plain(text, 64, cut).unwrap();
    assert_eq!(first(v), "ab\\ncd");
}
