//! The strippers over whole answers and streams as the providers send them,
//! cut into chunks at every byte.

use serde_json::{json, Value};
use wasm_bindgen_test::wasm_bindgen_test;

use super::*;
use crate::config::Mode;

fn sse(events: &[(Option<&str>, Value)]) -> Vec<u8> {
    let mut out = String::new();
    for (name, data) in events {
        if let Some(name) = name {
            out.push_str(&format!("event: {name}\n"));
        }
        out.push_str(&format!("data: {data}\n\n"));
    }
    out.into_bytes()
}

/// The stream through a stripper, fed in chunks of `size` bytes.
fn run(format: Format, input: &[u8], size: usize, max: usize) -> (Vec<u8>, StreamStripper) {
    let mut s = StreamStripper::new(format, max);
    let mut out = Vec::new();
    for chunk in input.chunks(size.max(1)) {
        s.push(chunk, &mut out);
        assert!(s.held() <= max);
    }
    s.finish(&mut out);
    (out, s)
}

/// Every event's data of an SSE byte stream, parsed.
fn datas(stream: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(stream).unwrap().replace("\r\n", "\n");
    text.split("\n\n")
        .map(|ev| crate::response::sse::parse(ev.as_bytes().to_vec()).data)
        .filter(|d| !d.is_empty() && d != "[DONE]")
        .map(|d| serde_json::from_str(&d).unwrap())
        .collect()
}

fn anthropic_stream() -> Vec<u8> {
    sse(&[
        (
            Some("message_start"),
            json!({"type": "message_start", "message": {"id": "m", "type": "message",
            "role": "assistant", "content": [], "model": "claude", "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        ),
        (
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "SECRET step one"}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "signature_delta", "signature": "EqQB"}}),
        ),
        (
            Some("content_block_stop"),
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "text", "text": ""}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "text_delta", "text": "The answer is 4."}}),
        ),
        (
            Some("content_block_stop"),
            json!({"type": "content_block_stop", "index": 1}),
        ),
        (
            Some("message_delta"),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 30}}),
        ),
        (Some("message_stop"), json!({"type": "message_stop"})),
    ])
}

#[wasm_bindgen_test(unsupported = test)]
fn anthropic_stream_split_anywhere_comes_out_the_same() {
    let input = anthropic_stream();
    let (whole, s) = run(Format::Messages, &input, input.len(), 1 << 20);
    assert_eq!(s.withheld, 7, "4 dropped, 3 renumbered");
    let text = String::from_utf8(whole.clone()).unwrap();
    assert!(
        !text.contains("SECRET") && !text.contains("thinking") && !text.contains("EqQB"),
        "{text}"
    );
    let events = datas(&whole);
    assert_eq!(events.len(), 6);
    assert_eq!(events[1]["index"], 0);
    assert_eq!(events[1]["content_block"]["type"], "text");
    // Events without reasoning are forwarded byte for byte.
    let first_event = input.split(|&b| b == b'\n').take(3).collect::<Vec<_>>().join(&b'\n');
    assert!(whole.starts_with(&first_event));
    assert!(text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
    for size in 1..64 {
        assert_eq!(
            run(Format::Messages, &input, size, 1 << 20).0,
            whole,
            "chunks of {size}"
        );
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn crlf_streams_are_framed_and_rewritten_in_crlf() {
    let input = String::from_utf8(anthropic_stream())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let (whole, _) = run(Format::Messages, &input, input.len(), 1 << 20);
    let text = String::from_utf8(whole.clone()).unwrap();
    assert!(!text.contains("SECRET"));
    assert!(!text.replace("\r\n", "").contains('\n'), "only CRLF line ends");
    assert_eq!(datas(&whole).len(), 6);
    for size in 1..40 {
        assert_eq!(
            run(Format::Messages, &input, size, 1 << 20).0,
            whole,
            "chunks of {size}"
        );
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_stream_without_reasoning_comes_out_byte_for_byte() {
    let input = sse(&[
        (
            None,
            json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0,
            "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": null}]}),
        ),
        (
            None,
            json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0,
            "delta": {}, "finish_reason": "stop"}]}),
        ),
    ]);
    let mut input = input;
    input.extend_from_slice(b": keep-alive\n\ndata: [DONE]\n\n");
    for size in [1, 3, 7, input.len()] {
        let (out, s) = run(Format::Chat, &input, size, 1 << 20);
        assert_eq!(out, input);
        assert_eq!(s.withheld, 0);
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn chat_stream_loses_reasoning_chunks() {
    let input = sse(&[
        (
            None,
            json!({"object": "chat.completion.chunk", "choices": [{"index": 0,
            "delta": {"role": "assistant", "content": null, "reasoning_content": "SECRET"}}]}),
        ),
        (
            None,
            json!({"object": "chat.completion.chunk", "choices": [{"index": 0,
            "delta": {"content": null, "reasoning_content": "SECRET more"}}]}),
        ),
        (
            None,
            json!({"object": "chat.completion.chunk", "choices": [{"index": 0,
            "delta": {"content": "4", "reasoning_content": null}}]}),
        ),
    ]);
    let (out, s) = run(Format::Chat, &input, 5, 1 << 20);
    let events = datas(&out);
    assert_eq!(s.withheld, 2);
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": null})
    );
    assert_eq!(events[1]["choices"][0]["delta"]["content"], "4");
}

#[wasm_bindgen_test(unsupported = test)]
fn gemini_stream_loses_thought_parts() {
    let input = sse(&[
        (
            None,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "SECRET", "thought": true}]}}],
            "usageMetadata": {"thoughtsTokenCount": 9}}),
        ),
        (
            None,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "4"}]},
            "finishReason": "STOP"}]}),
        ),
    ]);
    let (out, s) = run(Format::Gemini, &input, 11, 1 << 20);
    assert!(!String::from_utf8_lossy(&out).contains("SECRET"));
    assert_eq!(s.withheld, 1);
    assert_eq!(datas(&out).len(), 2);
}

#[wasm_bindgen_test(unsupported = test)]
fn an_over_long_event_is_dropped_and_memory_stays_bounded() {
    let big = "x".repeat(5000);
    let input = sse(&[
        (None, json!({"choices": [{"index": 0, "delta": {"content": "a"}}]})),
        (
            None,
            json!({"choices": [{"index": 0, "delta": {"reasoning_content": big}}]}),
        ),
        (None, json!({"choices": [{"index": 0, "delta": {"content": "b"}}]})),
    ]);
    for size in [1, 100, 4096, input.len()] {
        let (out, s) = run(Format::Chat, &input, size, 1024);
        assert_eq!(s.oversize, 1, "chunks of {size}");
        let events = datas(&out);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1]["choices"][0]["delta"]["content"], "b");
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_cut_last_event_is_forwarded_only_if_it_can_be_judged() {
    let cut = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"SECR";
    let (out, _) = run(Format::Chat, cut, 7, 1 << 20);
    assert!(out.is_empty());
    let whole_json = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"4\"}}]}\n";
    assert_eq!(run(Format::Chat, whole_json, 7, 1 << 20).0, whole_json);
    assert_eq!(run(Format::Chat, b"data: [DONE]", 3, 1 << 20).0, b"data: [DONE]");
}

#[wasm_bindgen_test(unsupported = test)]
fn json_answers_keep_their_bytes_unless_reasoning_is_removed() {
    let plain = br#"{"choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}}]}"#;
    let mut a = JsonAnswer::new(Format::Chat, 1 << 20);
    a.push(plain);
    assert_eq!(a.finish(), JsonOutcome::Unchanged(plain.to_vec()));

    let with = br#"{"choices": [{"index": 0, "message": {"role": "assistant", "content": "4", "reasoning_content": "SECRET"}}]}"#;
    let mut a = JsonAnswer::new(Format::Chat, 1 << 20);
    for chunk in with.chunks(9) {
        a.push(chunk);
    }
    let JsonOutcome::Withheld(out) = a.finish() else {
        panic!("not withheld")
    };
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        doc["choices"][0]["message"],
        json!({"role": "assistant", "content": "4"})
    );

    let mut a = JsonAnswer::new(Format::Chat, 1 << 20);
    a.push(b"<html>bad gateway</html>");
    assert_eq!(
        a.finish(),
        JsonOutcome::Unreadable(b"<html>bad gateway</html>".to_vec())
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn json_answers_over_the_bound_are_withheld_whole() {
    let mut a = JsonAnswer::new(Format::Messages, 64);
    a.push(&[b' '; 40]);
    assert!(!a.oversize());
    a.push(&[b' '; 40]);
    assert!(a.oversize());
    a.push(b"{}");
    assert_eq!(a.finish(), JsonOutcome::Oversize);
}

#[wasm_bindgen_test(unsupported = test)]
fn every_format_strips_its_whole_answer() {
    let cases = [
        (
            Format::Messages,
            json!({"content": [{"type": "thinking", "thinking": "SECRET", "signature": "s"},
            {"type": "text", "text": "4"}]}),
        ),
        (
            Format::Responses,
            json!({"output": [{"type": "reasoning", "summary": [{"type": "summary_text",
            "text": "SECRET"}]}, {"type": "message", "content": [{"type": "output_text", "text": "4"}]}]}),
        ),
        (
            Format::Gemini,
            json!({"candidates": [{"content": {"parts": [{"text": "SECRET", "thought": true},
            {"text": "4"}]}}]}),
        ),
        (
            Format::Chat,
            json!({"choices": [{"message": {"content": "4", "reasoning": "SECRET"}}]}),
        ),
    ];
    for (format, doc) in cases {
        let mut doc = crate::json::Value::from(doc);
        assert!(strip_document(format, &mut doc), "{format:?}");
        assert!(!doc.to_string().contains("SECRET"), "{format:?}");
        assert!(doc.to_string().contains('4'));
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn only_tagged_callers_outside_the_allowlist_are_stripped_and_only_in_enforce_mode() {
    let mut v = crate::verdict::Verdict::allow();
    assert!(!applies(true, Mode::Enforce, &v));
    v.action = Action::Tag;
    assert!(applies(true, Mode::Enforce, &v));
    assert!(!applies(true, Mode::Shadow, &v), "shadow mode never changes an answer");
    assert!(!applies(false, Mode::Enforce, &v));
    v.reasons = vec!["allowlisted", "template_shared"];
    assert!(!applies(true, Mode::Enforce, &v));
    v.reasons = vec!["template_shared"];
    v.action = Action::Throttle;
    assert!(!applies(true, Mode::Enforce, &v));
}
