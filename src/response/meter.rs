//! The response observer: one upstream answer in, its token counts out.
//!
//! The glue (and the replay, with the trace's `response`) feeds every chunk
//! of a forwarded request's answer as it passes and calls
//! [`ResponseMeter::finish`] at the end of the stream. Nothing is held
//! back from the client: the meter only reads. Memory per answer is bounded
//! whatever its length: one SSE event (`max_event` bytes), one usage object
//! and a small scan state.
//!
//! An SSE answer (`content-type: text/event-stream`) is split into events
//! and each event's data scanned on its own (an event too long to hold is
//! scanned as its bytes pass); any other answer is scanned as one JSON
//! document (a Gemini stream without `alt=sse` is a JSON array, scanned
//! alike). A `gzip` or `deflate` answer (what upstreams send clients that
//! accept it, the official SDKs among them) is decompressed as it passes
//! (`api::inflate`: one inflater state per answer, output scanned and
//! dropped, at most `MAX_INFLATED` bytes); any other coding (`br`, `zstd`)
//! is not read: it counts as `compressed`, with no tokens. The glue asks
//! upstreams for readable codings only (`response::accept`), so such an
//! answer comes only from an upstream that ignores `accept-encoding`.

use super::scan::JsonScan;
use super::sse::{Piece, SseSplitter};
use super::usage::Usage;
use crate::api::inflate::{Coding, Inflater};

/// Default bound on one SSE event held by the meter.
pub const DEFAULT_MAX_EVENT: usize = 64 * 1024;
/// Decompressed bytes of one answer read at most (a zip bomb stops here).
pub const MAX_INFLATED: usize = 64 << 20;

/// Where a count came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The answer's own usage object.
    Usage,
    /// Estimated from the answer's text (about 4 bytes a token).
    Estimate,
    /// An answer in a coding the meter cannot decode: not read.
    Compressed,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Usage => "usage",
            Source::Estimate => "estimate",
            Source::Compressed => "compressed",
        }
    }
}

/// The token counts of one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Output tokens (reasoning included).
    pub output_tokens: u64,
    /// Of which reasoning.
    pub reasoning_tokens: u64,
    pub source: Source,
    /// SSE events read, and those too long to hold (scanned as they passed).
    pub events: u64,
    pub overlong_events: u64,
    /// Answer bytes seen.
    pub bytes: u64,
}

/// Bytes of text per estimated token.
const BYTES_PER_TOKEN: u64 = 4;

fn estimate(bytes: u64) -> u64 {
    bytes.div_ceil(BYTES_PER_TOKEN)
}

enum Mode {
    Json(JsonScan),
    Sse(SseCount),
    Compressed,
}

/// An SSE answer's counts so far.
struct SseCount {
    splitter: SseSplitter,
    usage: Usage,
    text: u64,
    reasoning: u64,
    /// The scan of an overlong event, fed as its bytes pass.
    overlong: Option<JsonScan>,
}

impl SseCount {
    fn feed(&mut self, chunk: &[u8]) {
        let SseCount {
            splitter,
            usage,
            text,
            reasoning,
            overlong,
        } = self;
        splitter.feed(chunk, &mut |piece| match piece {
            Piece::Event(ev) => {
                if let Some(scan) = overlong.take() {
                    add_event(&scan, false, usage, text, reasoning);
                }
                if !ev.has_data() {
                    return;
                }
                let mut scan = JsonScan::new();
                scan.feed(ev.data.as_bytes());
                add_event(&scan, repeats_text(ev.name.as_deref()), usage, text, reasoning);
            }
            Piece::Overlong(bytes) => overlong.get_or_insert_with(JsonScan::new).feed(bytes),
        });
    }

    /// (usage, text bytes, reasoning bytes, events, overlong events).
    fn finish(&mut self) -> (Usage, u64, u64, u64, u64) {
        if let Some(scan) = self.overlong.take() {
            add_event(&scan, false, &mut self.usage, &mut self.text, &mut self.reasoning);
        }
        // A truncated last event still counts what it holds.
        let tail = self.splitter.finish();
        if !tail.is_empty() {
            let mut scan = JsonScan::new();
            scan.feed(&tail);
            add_event(&scan, false, &mut self.usage, &mut self.text, &mut self.reasoning);
        }
        (
            self.usage,
            self.text,
            self.reasoning,
            self.splitter.events(),
            self.splitter.overlong(),
        )
    }
}

/// The observer of one answer.
pub struct ResponseMeter {
    mode: Mode,
    bytes: u64,
    /// A `gzip` or `deflate` answer's decoder.
    inflater: Option<Box<Inflater>>,
}

impl Mode {
    fn feed(&mut self, chunk: &[u8]) {
        match self {
            Mode::Json(scan) => scan.feed(chunk),
            Mode::Sse(sse) => sse.feed(chunk),
            Mode::Compressed => {}
        }
    }
}

impl ResponseMeter {
    /// For an answer with these headers (`content-type`,
    /// `content-encoding`); `max_event` bounds one SSE event held.
    pub fn new(content_type: Option<&str>, content_encoding: Option<&str>, max_event: usize) -> ResponseMeter {
        let coding = Coding::from_header(content_encoding);
        let compressed = coding == Coding::Unsupported;
        let inflater = match coding {
            Coding::Gzip => Some(Box::new(Inflater::new(true, MAX_INFLATED))),
            Coding::Deflate => Some(Box::new(Inflater::new(false, MAX_INFLATED))),
            Coding::Identity | Coding::Unsupported => None,
        };
        let sse = content_type.is_some_and(|t| {
            t.trim_start()
                .get(..17)
                .is_some_and(|p| p.eq_ignore_ascii_case("text/event-stream"))
        });
        let mode = if compressed {
            Mode::Compressed
        } else if sse {
            Mode::Sse(SseCount {
                splitter: SseSplitter::new(max_event),
                usage: Usage::default(),
                text: 0,
                reasoning: 0,
                overlong: None,
            })
        } else {
            Mode::Json(JsonScan::new())
        };
        ResponseMeter {
            mode,
            bytes: 0,
            inflater,
        }
    }

    /// Reads one chunk of the answer.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.bytes = self.bytes.saturating_add(chunk.len() as u64);
        match self.inflater.as_mut() {
            Some(inflater) => {
                let mode = &mut self.mode;
                inflater.feed(chunk, &mut |out| {
                    mode.feed(out);
                    true
                });
            }
            None => self.mode.feed(chunk),
        }
    }

    /// The answer ended (or was cut off): its counts.
    pub fn finish(mut self) -> Tally {
        let bytes = self.bytes;
        let (usage, text, reasoning, events, overlong_events) = match &mut self.mode {
            Mode::Compressed => {
                return Tally {
                    output_tokens: 0,
                    reasoning_tokens: 0,
                    source: Source::Compressed,
                    events: 0,
                    overlong_events: 0,
                    bytes,
                }
            }
            Mode::Json(scan) => {
                let (t, r) = scan.text_bytes();
                (scan.usage(), t, r, 0, 0)
            }
            Mode::Sse(sse) => sse.finish(),
        };
        let (output_tokens, reasoning_tokens, source) = match usage.output {
            Some(out) => {
                let r = usage.reasoning.unwrap_or_else(|| estimate(reasoning).min(out));
                (out, r.min(out), Source::Usage)
            }
            None => {
                let r = usage.reasoning.unwrap_or_else(|| estimate(reasoning));
                let out = estimate(text.saturating_add(reasoning)).max(r);
                (out, r, Source::Estimate)
            }
        };
        Tally {
            output_tokens,
            reasoning_tokens,
            source,
            events,
            overlong_events,
            bytes,
        }
    }
}

/// Events that repeat text already streamed in deltas (Responses
/// `response.output_text.done`, `response.completed`, …): their usage
/// counts, their text does not.
fn repeats_text(name: Option<&str>) -> bool {
    name.is_some_and(|n| n.ends_with(".done") || n.ends_with(".completed"))
}

fn add_event(scan: &JsonScan, repeats: bool, usage: &mut Usage, text: &mut u64, reasoning: &mut u64) {
    *usage = usage.then(scan.usage());
    if !repeats {
        let (t, r) = scan.text_bytes();
        *text = text.saturating_add(t);
        *reasoning = reasoning.saturating_add(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(ct: &str, body: &[u8], chunk: usize) -> Tally {
        let mut m = ResponseMeter::new(Some(ct), None, 256);
        for c in body.chunks(chunk.max(1)) {
            m.feed(c);
        }
        m.finish()
    }

    const OPENAI_SSE: &str = "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"hmm\"}}],\"usage\":null}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}],\"usage\":null}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":17,\"completion_tokens_details\":{\"reasoning_tokens\":9}}}\n\ndata: [DONE]\n\n";

    #[test]
    fn openai_stream_with_usage_any_chunking() {
        for chunk in [1, 7, 64, 4096] {
            let t = meter("text/event-stream; charset=utf-8", OPENAI_SSE.as_bytes(), chunk);
            assert_eq!((t.output_tokens, t.reasoning_tokens, t.source), (17, 9, Source::Usage));
            assert_eq!(t.events, 4);
        }
    }

    #[test]
    fn openai_stream_without_usage_is_estimated() {
        let body = "data: {\"choices\":[{\"delta\":{\"content\":\"12345678\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"1234\"}}]}\n\ndata: [DONE]\n\n";
        let t = meter("text/event-stream", body.as_bytes(), 5);
        assert_eq!((t.output_tokens, t.source), (3, Source::Estimate));
    }

    #[test]
    fn anthropic_stream_last_delta_wins() {
        let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":250}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        let t = meter("text/event-stream", body.as_bytes(), 3);
        assert_eq!((t.output_tokens, t.source), (250, Source::Usage));
    }

    #[test]
    fn responses_completed_event_longer_than_the_bound_still_gives_usage() {
        let text = "z".repeat(2000);
        let body = format!(
            "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"delta\":\"{text}\"}}\n\nevent: response.completed\ndata: {{\"type\":\"response.completed\",\"response\":{{\"output\":[{{\"content\":[{{\"text\":\"{text}\"}}]}}],\"usage\":{{\"input_tokens\":2,\"output_tokens\":500,\"output_tokens_details\":{{\"reasoning_tokens\":100}}}}}}}}\n\n"
        );
        let t = meter("text/event-stream", body.as_bytes(), 100);
        assert_eq!((t.output_tokens, t.reasoning_tokens), (500, 100));
        assert_eq!(t.overlong_events, 2);
    }

    #[test]
    fn gemini_json_array_stream_and_plain_json() {
        let body = r#"[{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"candidatesTokenCount":1}},{"candidates":[{"content":{"parts":[{"text":"bcd"}]}}],"usageMetadata":{"candidatesTokenCount":6,"thoughtsTokenCount":2}}]"#;
        let t = meter("application/json", body.as_bytes(), 9);
        assert_eq!((t.output_tokens, t.reasoning_tokens), (8, 2));
    }

    #[test]
    fn truncated_and_malformed_answers_are_counted_safely() {
        let cut = &OPENAI_SSE.as_bytes()[..120];
        let t = meter("text/event-stream", cut, 11);
        assert_eq!(t.source, Source::Estimate);
        assert!(t.output_tokens >= 1);
        let t = meter("text/event-stream", b"\x00\xff garbage {{{ \n\n data: }}}\n\n", 2);
        assert_eq!(t.output_tokens, 0);
        let t = meter("application/json", b"<html>502</html>", 4);
        assert_eq!((t.output_tokens, t.source), (0, Source::Estimate));
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
        out.extend_from_slice(&[0; 8]);
        out
    }

    /// The official SDKs accept gzip, and upstreams then compress their
    /// answers: they are read as they pass, in any chunking.
    #[test]
    fn gzip_and_deflate_answers_are_decoded_as_they_pass() {
        let json = br#"{"choices":[{"message":{"content":"hi"}}],"usage":{"completion_tokens":321}}"#;
        let sse = OPENAI_SSE.as_bytes();
        for chunk in [1, 5, 4096] {
            for (ct, ce, body, want) in [
                ("application/json", "gzip", gzip(json), 321),
                (
                    "application/json",
                    "deflate",
                    miniz_oxide::deflate::compress_to_vec_zlib(json, 6),
                    321,
                ),
                ("text/event-stream", "gzip", gzip(sse), 17),
            ] {
                let mut m = ResponseMeter::new(Some(ct), Some(ce), 256);
                for c in body.chunks(chunk) {
                    m.feed(c);
                }
                let t = m.finish();
                assert_eq!((t.output_tokens, t.source), (want, Source::Usage), "{ce} {ct} {chunk}");
            }
        }
        // Corrupt data counts what was decoded (here nothing), never panics.
        let mut m = ResponseMeter::new(Some("application/json"), Some("gzip"), 256);
        m.feed(b"\x1f\x8b\x08\x00garbage that is not deflate at all");
        assert_eq!(m.finish().output_tokens, 0);
    }

    #[test]
    fn other_codings_are_not_read() {
        let mut m = ResponseMeter::new(Some("application/json"), Some("br"), 256);
        m.feed(b"\x0b\x02\x80...");
        assert_eq!(m.finish().source, Source::Compressed);
        let m = ResponseMeter::new(Some("application/json"), Some("identity"), 256);
        assert_eq!(m.finish().source, Source::Estimate);
    }
}
