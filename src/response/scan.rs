//! A streaming scan of a JSON answer: never holds the document, only a
//! small stack and, at most, one usage object (`MAX_USAGE` bytes).
//!
//! It finds every `usage` / `usageMetadata` object at any depth (OpenAI,
//! Azure, Anthropic, Responses, Gemini) and reads it once it closes, the
//! last one winning where it speaks ([`Usage::then`]); and it counts the
//! bytes of the answer's text: string values under the keys providers put
//! generated text in (`content`, `text`, `delta`, `arguments`, `refusal`;
//! reasoning: `reasoning_content`, `reasoning`, `thinking`). Those bytes
//! are the estimate of output tokens when an answer carries no usage.
//!
//! Malformed or truncated input never fails: the scan reads what it can.

use super::usage::Usage;
use crate::api::bytescan::find_quote_or_backslash;

/// Largest usage object read (real ones are a few hundred bytes).
pub const MAX_USAGE: usize = 4096;
/// A captured usage object's first allocation.
const USAGE_CAPACITY: usize = 512;
/// Nesting tracked; deeper containers are scanned without key context.
const MAX_DEPTH: usize = 64;
/// Longest key remembered (longer keys classify as `Other`).
const MAX_KEY: usize = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Other,
    Text,
    Reasoning,
    Usage,
}

/// The bytes that change the scan's state outside a string.
fn is_structural(b: u8) -> bool {
    matches!(b, b'"' | b'{' | b'}' | b'[' | b']' | b':' | b',')
}

fn classify(key: &[u8]) -> Kind {
    match key {
        b"content" | b"text" | b"delta" | b"arguments" | b"refusal" => Kind::Text,
        b"reasoning_content" | b"reasoning" | b"thinking" => Kind::Reasoning,
        b"usage" | b"usageMetadata" => Kind::Usage,
        _ => Kind::Other,
    }
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    object: bool,
    /// Arrays: the kind of the key the array is the value of.
    kind: Kind,
}

/// The scan of one JSON document (or one SSE event's data).
#[derive(Debug)]
pub struct JsonScan {
    stack: Vec<Frame>,
    /// Depth beyond `MAX_DEPTH`.
    overflow: usize,
    expect_key: bool,
    in_string: bool,
    escape: bool,
    string_is_key: bool,
    string_kind: Kind,
    key: [u8; MAX_KEY],
    key_len: usize,
    key_kind: Kind,
    /// The usage object being read and the depth it opened at.
    capture: Option<(Vec<u8>, usize)>,
    usage: Usage,
    usages: u32,
    usage_too_long: u32,
    text_bytes: u64,
    reasoning_bytes: u64,
}

impl Default for JsonScan {
    fn default() -> Self {
        JsonScan::new()
    }
}

impl JsonScan {
    pub fn new() -> JsonScan {
        JsonScan {
            stack: Vec::new(),
            overflow: 0,
            expect_key: false,
            in_string: false,
            escape: false,
            string_is_key: false,
            string_kind: Kind::Other,
            key: [0; MAX_KEY],
            key_len: 0,
            key_kind: Kind::Other,
            capture: None,
            usage: Usage::default(),
            usages: 0,
            usage_too_long: 0,
            text_bytes: 0,
            reasoning_bytes: 0,
        }
    }

    /// What the usage objects seen say.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// Usage objects read, and those too long to read.
    pub fn usages(&self) -> (u32, u32) {
        (self.usages, self.usage_too_long)
    }

    /// Bytes of generated text and of reasoning text seen.
    pub fn text_bytes(&self) -> (u64, u64) {
        (self.text_bytes, self.reasoning_bytes)
    }

    /// Scans the next bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while let Some(&b) = bytes.get(at) {
            // Runs of bytes that change nothing but the counts, the key or
            // the captured usage object are taken at once: inside a string,
            // up to its next quote or backslash (most of an answer is its
            // text; found eight bytes at a time); outside, up to the next
            // byte of JSON's structure (numbers, literals, whitespace).
            // Bytes one at a time through the state machine cost ~9 ns
            // each under V8, and a short answer is mostly such runs.
            let rest = bytes.get(at..).unwrap_or_default();
            let run = match (self.in_string, self.escape) {
                (true, false) => find_quote_or_backslash(rest).unwrap_or(rest.len()),
                (true, true) => 0,
                (false, _) => rest.iter().position(|&c| is_structural(c)).unwrap_or(rest.len()),
            };
            if run > 0 {
                let run = rest.get(..run).unwrap_or_default();
                self.capture_run(run);
                if self.in_string {
                    self.plain_run(run);
                }
                at += run.len();
                continue;
            }
            self.step(b);
            at += 1;
        }
    }

    /// What [`Self::step`] does to the captured usage object for each byte
    /// of `run`, at once: kept while the object stays within `MAX_USAGE`,
    /// else the capture is given up (as at the first byte past it).
    fn capture_run(&mut self, run: &[u8]) {
        if let Some((buf, _)) = self.capture.as_mut() {
            if buf.len().saturating_add(run.len()) <= MAX_USAGE {
                buf.extend_from_slice(run);
            } else {
                self.capture = None;
                self.usage_too_long = self.usage_too_long.saturating_add(1);
            }
        }
    }

    /// String bytes with no quote or backslash, and no escape pending: what
    /// [`Self::string_byte`] does to each, at once.
    fn plain_run(&mut self, run: &[u8]) {
        if self.string_is_key {
            // Bytes past MAX_KEY are counted, not kept (the key is then
            // too long to classify).
            let kept = run.len().min(MAX_KEY.saturating_sub(self.key_len));
            if let (Some(dst), Some(src)) = (self.key.get_mut(self.key_len..self.key_len + kept), run.get(..kept)) {
                dst.copy_from_slice(src);
            }
            self.key_len = self.key_len.saturating_add(run.len());
        } else {
            let n = run.len() as u64;
            match self.string_kind {
                Kind::Text => self.text_bytes += n,
                Kind::Reasoning => self.reasoning_bytes += n,
                _ => {}
            }
        }
    }

    /// [`Self::feed`] a byte at a time: the definition the runs are tested
    /// against.
    #[cfg(test)]
    fn feed_bytewise(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.step(b);
        }
    }

    fn value_kind(&self) -> Kind {
        match self.stack.last() {
            Some(f) if f.object => self.key_kind,
            Some(f) => f.kind,
            None => Kind::Other,
        }
    }

    fn depth(&self) -> usize {
        self.stack.len() + self.overflow
    }

    fn step(&mut self, b: u8) {
        if let Some((buf, _)) = self.capture.as_mut() {
            if buf.len() < MAX_USAGE {
                buf.push(b);
            } else {
                self.capture = None;
                self.usage_too_long = self.usage_too_long.saturating_add(1);
            }
        }
        if self.in_string {
            self.string_byte(b);
            return;
        }
        match b {
            b'"' => {
                self.in_string = true;
                self.string_is_key = self.expect_key && self.overflow == 0;
                if self.string_is_key {
                    self.key_len = 0;
                } else {
                    self.string_kind = self.value_kind();
                }
            }
            b'{' | b'[' => {
                let kind = self.value_kind();
                if b == b'{' && kind == Kind::Usage && self.capture.is_none() {
                    // Sized for a usage object with its details (a few
                    // hundred bytes), not grown byte by byte.
                    let mut buf = Vec::with_capacity(USAGE_CAPACITY);
                    buf.push(b'{');
                    self.capture = Some((buf, self.depth()));
                }
                if self.stack.len() < MAX_DEPTH && self.overflow == 0 {
                    self.stack.push(Frame {
                        object: b == b'{',
                        kind,
                    });
                } else {
                    self.overflow += 1;
                }
                self.expect_key = b == b'{';
            }
            b'}' | b']' => {
                if self.overflow > 0 {
                    self.overflow -= 1;
                } else {
                    self.stack.pop();
                }
                self.expect_key = false;
                self.close_capture();
            }
            b':' => self.expect_key = false,
            b',' => self.expect_key = matches!(self.stack.last(), Some(f) if f.object) && self.overflow == 0,
            _ => {}
        }
    }

    fn string_byte(&mut self, b: u8) {
        if self.escape {
            self.escape = false;
        } else if b == b'\\' {
            self.escape = true;
            return;
        } else if b == b'"' {
            self.in_string = false;
            if self.string_is_key {
                self.key_kind = match self.key.get(..self.key_len) {
                    Some(k) if self.key_len < MAX_KEY => classify(k),
                    _ => Kind::Other,
                };
            }
            return;
        }
        if self.string_is_key {
            if let Some(slot) = self.key.get_mut(self.key_len) {
                *slot = b;
            }
            self.key_len = self.key_len.saturating_add(1);
        } else {
            match self.string_kind {
                Kind::Text => self.text_bytes += 1,
                Kind::Reasoning => self.reasoning_bytes += 1,
                _ => {}
            }
        }
    }

    fn close_capture(&mut self) {
        let closes = matches!(&self.capture, Some((_, depth)) if *depth == self.depth());
        if closes {
            if let Some((buf, _)) = self.capture.take() {
                self.usages = self.usages.saturating_add(1);
                self.usage = self.usage.then(Usage::parse(&buf));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(chunks: &[&[u8]]) -> JsonScan {
        let mut s = JsonScan::new();
        for c in chunks {
            s.feed(c);
        }
        s
    }

    const CHAT: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"o3","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there","reasoning_content":"think"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":120,"completion_tokens_details":{"reasoning_tokens":64}}}"#;

    #[test]
    fn openai_chat_usage_and_text() {
        let s = scan(&[CHAT.as_bytes()]);
        assert_eq!(s.usage().output, Some(120));
        assert_eq!(s.usage().reasoning, Some(64));
        assert_eq!(s.text_bytes(), (11, 5));
    }

    /// The scan's whole state, for comparing two scans.
    fn state(s: &JsonScan) -> String {
        format!("{s:?}")
    }

    #[test]
    fn runs_scan_as_bytes_do() {
        // Answers of every shape the scan meets: keys past MAX_KEY, escapes
        // (an escaped quote, a backslash at a chunk's end), usage objects
        // (captured byte by byte), text and reasoning runs, nesting, and
        // bytes that are no JSON at all; fed whole and split at every point.
        let long_key = format!(r#"{{"{}":"x","content":"a\"b\\c\u00e9d"}}"#, "k".repeat(40));
        let docs = [
            CHAT.to_owned(),
            long_key,
            r#"{"candidates":[{"content":{"parts":[{"text":"Hi \"there\"","thought":true}]}}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":7,"thoughtsTokenCount":2}}"#.to_owned(),
            r#"{"type":"message","content":[{"type":"thinking","thinking":"let me see"},{"type":"text","text":"ok"}],"usage":{"input_tokens":5,"output_tokens":9,"note":"a\"}"}}"#.to_owned(),
            "\"\\\"{not json\u{1}\"\n".to_owned(),
            format!(r#"{{"reasoning":"{}","content":"{}"}}"#, "r".repeat(300), "t\\".repeat(100)),
            // Numbers, literals and whitespace between the structure, in
            // and out of a usage object (taken as runs).
            "{ \"id\" : 12345678901234 ,\n  \"ok\": true, \"n\": null,\t\"usage\" : {\n \"completion_tokens\" : 42 , \"x\": [ 1.5e3, false ] }\n}".to_owned(),
            // Usage objects of exactly MAX_USAGE bytes (read) and of one
            // more (given up), the last byte in a string and in a number.
            format!(r#"{{"usage":{{"output_tokens":3,"pad":"{}"}},"usage":{{"output_tokens":4,"pad":"{}"}}}}"#, "p".repeat(MAX_USAGE - 28), "p".repeat(MAX_USAGE - 27)),
            format!(r#"{{"usage":{{"output_tokens":5,"pad":{}}},"usage":{{"output_tokens":6,"pad":{}}}}}"#, "7".repeat(MAX_USAGE - 26), "7".repeat(MAX_USAGE - 25)),
            // Cut off where a run fills the capture exactly, and one past.
            format!(r#"{{"usage":{{"pad":{}"#, "7".repeat(MAX_USAGE - 7)),
            format!(r#"{{"usage":{{"pad":{}"#, "7".repeat(MAX_USAGE - 6)),
        ];
        for doc in &docs {
            let bytes = doc.as_bytes();
            let mut oracle = JsonScan::new();
            oracle.feed_bytewise(bytes);
            let mut whole = JsonScan::new();
            whole.feed(bytes);
            assert_eq!(state(&whole), state(&oracle), "{doc}");
            if doc.len() > MAX_USAGE * 2 && doc.ends_with('}') {
                assert_eq!(oracle.usages(), (1, 1), "the bound is met: {}", &doc[..40]);
            }
            for cut in 0..=bytes.len() {
                let (a, b) = bytes.split_at(cut);
                let mut s = JsonScan::new();
                s.feed(a);
                s.feed(b);
                assert_eq!(state(&s), state(&oracle), "{doc} cut at {cut}");
            }
        }
    }

    #[test]
    fn split_anywhere_gives_the_same_scan() {
        let whole = scan(&[CHAT.as_bytes()]);
        for cut in 0..=CHAT.len() {
            let (a, b) = CHAT.as_bytes().split_at(cut);
            let s = scan(&[a, b]);
            assert_eq!(s.usage(), whole.usage(), "cut {cut}");
            assert_eq!(s.text_bytes(), whole.text_bytes());
        }
    }

    #[test]
    fn anthropic_gemini_responses_and_legacy() {
        let anthropic = r#"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"thinking","thinking":"abc","signature":"zz"},{"type":"text","text":"four"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":77}}"#;
        let s = scan(&[anthropic.as_bytes()]);
        assert_eq!((s.usage().output, s.text_bytes()), (Some(77), (4, 3)));
        let gemini = r#"{"candidates":[{"content":{"parts":[{"text":"hi","thought":true},{"text":"yo!"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":10,"thoughtsTokenCount":5}}"#;
        let s = scan(&[gemini.as_bytes()]);
        assert_eq!((s.usage().output, s.usage().reasoning), (Some(15), Some(5)));
        let responses = r#"{"id":"resp_1","object":"response","output":[{"type":"reasoning","summary":[]},{"type":"message","content":[{"type":"output_text","text":"done"}]}],"usage":{"input_tokens":1,"output_tokens":33,"output_tokens_details":{"reasoning_tokens":8}}}"#;
        let s = scan(&[responses.as_bytes()]);
        assert_eq!((s.usage().output, s.usage().reasoning), (Some(33), Some(8)));
        let legacy = r#"{"choices":[{"text":"abc","index":0}],"usage":{"prompt_tokens":1,"completion_tokens":3}}"#;
        assert_eq!(scan(&[legacy.as_bytes()]).usage().output, Some(3));
    }

    #[test]
    fn null_usage_and_no_usage() {
        let s = scan(&[br#"{"choices":[{"delta":{"content":"ab\"c"}}],"usage":null}"#]);
        assert_eq!(s.usage(), Usage::default());
        assert_eq!(s.text_bytes(), (4, 0));
        assert_eq!(s.usages(), (0, 0));
    }

    #[test]
    fn huge_answer_is_not_held() {
        let mut s = JsonScan::new();
        s.feed(br#"{"choices":[{"message":{"content":""#);
        let filler = vec![b'a'; 1 << 16];
        for _ in 0..64 {
            s.feed(&filler);
        }
        s.feed(br#""}}],"usage":{"completion_tokens":1000000}}"#);
        assert_eq!(s.usage().output, Some(1_000_000));
        assert_eq!(s.text_bytes().0, 64 << 16);
        assert!(s.stack.capacity() <= MAX_DEPTH);
    }

    #[test]
    fn oversized_usage_and_deep_nesting_are_safe() {
        let mut big = String::from(r#"{"usage":{"completion_tokens":5,"pad":""#);
        big.push_str(&"x".repeat(MAX_USAGE * 2));
        big.push_str("\"}}");
        let s = scan(&[big.as_bytes()]);
        assert_eq!(s.usages(), (0, 1));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let s = scan(&[deep.as_bytes(), br#"{"usage":{"output_tokens":2}}"#]);
        assert_eq!(s.usage().output, Some(2));
    }
}
