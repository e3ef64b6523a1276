//! The upstream's answer to a simulated request, written as the trace
//! line's `response` (trace-format.md): what the model would have sent had
//! the request been served. The replay reads it only for requests it
//! forwards, so `evaluate` can count the output tokens each campaign got.
//!
//! The answer is in the called API's own format (OpenAI chat, Anthropic
//! Messages, Gemini), as JSON or, for a streaming client, as SSE, with the
//! API's usage object carrying the token counts; its text is a short
//! stand-in (the counts, not the words, are what the replay measures).
//! Streamed OpenAI answers carry the final usage chunk that
//! `stream_options.include_usage` asks for. A reasoning model's answer (a
//! model name starting `o1`/`o3`/`o4` or containing `reason` or `thinking`)
//! also carries reasoning, in the API's reasoning fields, and reasoning
//! tokens in its usage.
//!
//! How long an answer is: a seeded share (30–100%) of the request's
//! `max_tokens` (`maxOutputTokens`), as models often stop before the limit;
//! deterministic per request, so the same trace comes out byte for byte.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::client::{set, Wire};

/// A trace line's `response`.
#[derive(Serialize)]
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<&'static str, &'static str>,
    pub body: String,
}

/// The stand-in text of every answer.
const TEXT: &str = "Here is the answer.";
const THOUGHT: &str = "Working through it.";

fn is_reasoning(model: &str) -> bool {
    model.starts_with("o1")
        || model.starts_with("o3")
        || model.starts_with("o4")
        || model.contains("reason")
        || model.contains("thinking")
}

/// Output tokens for a request asking for at most `max_tokens`, from the
/// request's `noise` (any well-mixed 64 bits).
pub fn output_tokens(max_tokens: u64, noise: u64) -> u64 {
    let share = 0.3 + 0.7 * ((noise >> 11) as f64 / (1u64 << 53) as f64);
    ((max_tokens.max(1) as f64 * share).round() as u64).max(1)
}

fn sse(events: &[(Option<&str>, Value)]) -> String {
    let mut out = String::new();
    for (name, data) in events {
        if let Some(n) = name {
            out.push_str("event: ");
            out.push_str(n);
            out.push('\n');
        }
        out.push_str("data: ");
        out.push_str(&data.to_string());
        out.push_str("\n\n");
    }
    out
}

/// Well-mixed bits for one request (its arrival and body), so its answer's
/// length is reproducible without a random stream of its own.
pub fn noise(ts_ms: u64, body: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ ts_ms;
    for b in body.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64 finaliser.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The answer to `wire` (whose body is the request's JSON).
pub fn answer(wire: &Wire, noise: u64) -> Answer {
    let req: Value = serde_json::from_str(&wire.body).unwrap_or(Value::Null);
    let max = req
        .get("max_tokens")
        .or_else(|| req.pointer("/generationConfig/maxOutputTokens"))
        .and_then(Value::as_u64)
        .unwrap_or(1024);
    let stream =
        req.get("stream").and_then(Value::as_bool).unwrap_or(false) || wire.path.contains("streamGenerateContent");
    // Gemini names the model in the path (`/models/<name>:<method>`).
    let in_path = wire.path.split("/models/").nth(1).and_then(|m| m.split(':').next());
    let model = req.get("model").and_then(Value::as_str).or(in_path).unwrap_or("");
    let out = output_tokens(max, noise);
    let reasoning = if is_reasoning(model) { out / 2 } else { 0 };
    let body = if wire.path.ends_with("/messages") {
        anthropic(out, reasoning, stream)
    } else if wire.path.contains(":generateContent") || wire.path.contains(":streamGenerateContent") {
        gemini(out, reasoning, stream)
    } else {
        openai_chat(out, reasoning, stream)
    };
    let content_type = if stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    Answer {
        status: 200,
        headers: BTreeMap::from([("content-type", content_type)]),
        body,
    }
}

fn openai_chat(out: u64, reasoning: u64, stream: bool) -> String {
    let mut usage = json!({"prompt_tokens": 0, "completion_tokens": out});
    if reasoning > 0 {
        set(
            &mut usage,
            "completion_tokens_details",
            json!({"reasoning_tokens": reasoning}),
        );
    }
    let mut message = json!({"role": "assistant", "content": TEXT});
    if reasoning > 0 {
        set(&mut message, "reasoning_content", json!(THOUGHT));
    }
    if !stream {
        return json!({"object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage}).to_string();
    }
    let chunk = |delta: Value| json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]});
    let mut events = Vec::new();
    if reasoning > 0 {
        events.push((None, chunk(json!({"reasoning_content": THOUGHT}))));
    }
    events.push((None, chunk(json!({"content": TEXT}))));
    events.push((
        None,
        json!({"object": "chat.completion.chunk", "choices": [], "usage": usage}),
    ));
    let mut s = sse(&events);
    s.push_str("data: [DONE]\n\n");
    s
}

fn anthropic(out: u64, reasoning: u64, stream: bool) -> String {
    let mut content = Vec::new();
    if reasoning > 0 {
        content.push(json!({"type": "thinking", "thinking": THOUGHT, "signature": "c2ln"}));
    }
    content.push(json!({"type": "text", "text": TEXT}));
    if !stream {
        return json!({"type": "message", "role": "assistant", "content": content, "stop_reason": "end_turn", "usage": {"input_tokens": 0, "output_tokens": out}}).to_string();
    }
    let mut events = vec![(
        Some("message_start"),
        json!({"type": "message_start", "message": {"type": "message", "role": "assistant", "content": [], "usage": {"input_tokens": 0, "output_tokens": 1}}}),
    )];
    let mut index = 0;
    if reasoning > 0 {
        events.push((Some("content_block_start"), json!({"type": "content_block_start", "index": index, "content_block": {"type": "thinking", "thinking": ""}})));
        events.push((Some("content_block_delta"), json!({"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": THOUGHT}})));
        events.push((
            Some("content_block_stop"),
            json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    events.push((
        Some("content_block_start"),
        json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
    ));
    events.push((
        Some("content_block_delta"),
        json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": TEXT}}),
    ));
    events.push((
        Some("content_block_stop"),
        json!({"type": "content_block_stop", "index": index}),
    ));
    events.push((
        Some("message_delta"),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": out}}),
    ));
    events.push((Some("message_stop"), json!({"type": "message_stop"})));
    sse(&events)
}

fn gemini(out: u64, reasoning: u64, stream: bool) -> String {
    let mut parts = Vec::new();
    if reasoning > 0 {
        parts.push(json!({"text": THOUGHT, "thought": true}));
    }
    parts.push(json!({"text": TEXT}));
    let mut usage = json!({"promptTokenCount": 0, "candidatesTokenCount": out - reasoning});
    if reasoning > 0 {
        set(&mut usage, "thoughtsTokenCount", json!(reasoning));
    }
    let doc = json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}], "usageMetadata": usage});
    if stream {
        sse(&[(None, doc)])
    } else {
        doc.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::ResponseMeter;

    fn wire(path: &str, body: Value) -> Wire {
        Wire {
            path: path.to_owned(),
            authority: "api",
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    fn metered(a: &Answer) -> (u64, u64) {
        let mut m = ResponseMeter::new(a.headers.get("content-type").copied(), None, 65536);
        m.feed(a.body.as_bytes());
        let t = m.finish();
        (t.output_tokens, t.reasoning_tokens)
    }

    #[test]
    fn every_format_meters_to_its_usage() {
        let noise = 0x9e37_79b9_7f4a_7c15;
        let want = output_tokens(2000, noise);
        for stream in [false, true] {
            for (path, body) in [
                (
                    "/v1/chat/completions",
                    json!({"model": "o3-mini", "max_tokens": 2000, "stream": stream}),
                ),
                (
                    "/v1/messages",
                    json!({"model": "claude-thinking", "max_tokens": 2000, "stream": stream}),
                ),
                (
                    if stream {
                        "/v1beta/models/gemini-2.5-reason:streamGenerateContent?alt=sse"
                    } else {
                        "/v1beta/models/gemini-2.5-reason:generateContent"
                    },
                    json!({"generationConfig": {"maxOutputTokens": 2000}}),
                ),
            ] {
                let a = answer(&wire(path, body), noise);
                assert_eq!(
                    a.headers["content-type"].starts_with("text/event-stream"),
                    stream,
                    "{path}"
                );
                let (out, reasoning) = metered(&a);
                assert_eq!(out, want, "{path} stream={stream}");
                // Anthropic's usage has no reasoning count: the meter's
                // estimate from the thinking text, at most the output.
                assert!(reasoning > 0, "{path}");
            }
        }
        let plain = answer(
            &wire("/v1/chat/completions", json!({"model": "gpt-4o", "max_tokens": 100})),
            noise,
        );
        assert_eq!(metered(&plain), (output_tokens(100, noise), 0));
    }

    #[test]
    fn output_is_a_share_of_the_limit() {
        for noise in [0, u64::MAX, 12345, 1 << 63] {
            let n = output_tokens(1000, noise);
            assert!((300..=1000).contains(&n), "{n}");
        }
        assert_eq!(output_tokens(0, 0), 1);
    }
}
