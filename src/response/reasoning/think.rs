//! Reasoning inline in the answer's text: `<think>…</think>` at the start
//! of a chat message's `content`, as open-weight reasoning models (DeepSeek
//! R1, QwQ, Qwen3) answer when served through an OpenAI-compatible server
//! without a reasoning parser. Only a block that opens the content counts
//! (after leading whitespace): `<think>` anywhere else is the answer's own
//! text. A block never closed (the answer cut at `max_tokens` while
//! thinking) is reasoning to the end.
//!
//! [`strip_text`] for a whole message; [`InlineThink`] for a stream, one per
//! choice, fed each delta's text as it arrives: the opening tag may come
//! split over deltas, so the first few bytes are held until they can be
//! told apart (at most [`HOLD_MAX`]), and inside the block only the last
//! bytes that could start `</think>` are kept.

use crate::api::bytescan::find_bytes;

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// Leading bytes held before the content is known not to open with
/// `<think>` (whitespace before the tag included); past it, it passes.
pub const HOLD_MAX: usize = 64;

/// The content without its opening think block (and the whitespace after
/// it), or `None` when it has none.
pub fn strip_text(content: &str) -> Option<String> {
    let rest = content.trim_start().strip_prefix(OPEN)?;
    Some(match find_bytes(rest.as_bytes(), CLOSE.as_bytes()) {
        Some(end) => rest.get(end + CLOSE.len()..).unwrap_or("").trim_start().to_string(),
        None => String::new(),
    })
}

/// Where a streamed choice's content stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum InlineThink {
    /// Nothing told yet: the bytes so far could still open a think block.
    #[default]
    Undecided,
    /// The text read so far (held, not yet forwarded).
    Holding(String),
    /// Inside the block: the last bytes, which may begin the closing tag.
    Inside(String),
    /// Just after the block: leading whitespace of the answer is dropped.
    After,
    /// The content had no think block, or it is over: text passes.
    Passing,
}

impl InlineThink {
    /// One delta's text in; the text to forward in its place out (empty:
    /// nothing of it goes on yet).
    pub fn delta(&mut self, text: &str) -> String {
        match std::mem::take(self) {
            InlineThink::Undecided => self.start(text.to_string()),
            InlineThink::Holding(mut held) => {
                held.push_str(text);
                self.start(held)
            }
            InlineThink::Inside(mut tail) => {
                tail.push_str(text);
                self.inside(tail)
            }
            InlineThink::After => self.after(text),
            InlineThink::Passing => {
                *self = InlineThink::Passing;
                text.to_string()
            }
        }
    }

    /// The choice finished: what was held and must still go out (text that
    /// only looked like the start of a think block).
    pub fn finish(&mut self) -> String {
        match std::mem::replace(self, InlineThink::Passing) {
            InlineThink::Holding(held) => held,
            _ => String::new(),
        }
    }

    fn start(&mut self, held: String) -> String {
        let trimmed = held.trim_start();
        if let Some(rest) = trimmed.strip_prefix(OPEN) {
            let rest = rest.to_string();
            return self.inside(rest);
        }
        if held.len() < HOLD_MAX && OPEN.starts_with(trimmed) {
            *self = InlineThink::Holding(held);
            return String::new();
        }
        *self = InlineThink::Passing;
        held
    }

    fn inside(&mut self, buf: String) -> String {
        if let Some(end) = find_bytes(buf.as_bytes(), CLOSE.as_bytes()) {
            let rest = buf.get(end + CLOSE.len()..).unwrap_or("").to_string();
            return self.after(&rest);
        }
        // Keep only what could begin the closing tag, cut on a character
        // boundary, so the state stays a few bytes whatever the block's size.
        let mut cut = buf.len().saturating_sub(CLOSE.len() - 1);
        while !buf.is_char_boundary(cut) {
            cut -= 1;
        }
        *self = InlineThink::Inside(buf.get(cut..).unwrap_or("").to_string());
        String::new()
    }

    fn after(&mut self, text: &str) -> String {
        let rest = text.trim_start();
        if rest.is_empty() {
            *self = InlineThink::After;
            return String::new();
        }
        *self = InlineThink::Passing;
        rest.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn a_message_loses_its_opening_think_block_only() {
        assert_eq!(strip_text("<think>2+2, so 4</think>\n\n4").as_deref(), Some("4"));
        assert_eq!(strip_text("\n <think>cut off while thinking").as_deref(), Some(""));
        assert_eq!(strip_text("4"), None);
        assert_eq!(strip_text("Use <think>…</think> tags like this"), None);
    }

    /// The stream's deltas in, what goes out joined.
    fn run(deltas: &[&str]) -> String {
        let mut s = InlineThink::default();
        let mut out: String = deltas.iter().map(|d| s.delta(d)).collect();
        out.push_str(&s.finish());
        out
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_streamed_block_is_dropped_however_its_tags_are_split() {
        let whole = "<think>Let me work out 17*3 carefully.</think>\n\nThe answer is 51.";
        for cut in 1..whole.len() {
            for cut2 in cut..whole.len() {
                let (a, rest) = whole.split_at(cut);
                let (b, c) = rest.split_at(cut2 - cut);
                assert_eq!(run(&[a, b, c]), "The answer is 51.", "{a:?} {b:?} {c:?}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn content_without_a_block_passes_whole_even_when_it_starts_alike() {
        assert_eq!(run(&["<th", "ings we know>"]), "<things we know>");
        assert_eq!(run(&["<", "thi"]), "<thi");
        assert_eq!(run(&["Hello", " <think>x</think>"]), "Hello <think>x</think>");
        assert_eq!(run(&["  ", "\n", "Hi"]), "  \nHi");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn memory_stays_a_few_bytes_inside_a_long_block() {
        let mut s = InlineThink::default();
        s.delta("<think>");
        for _ in 0..10_000 {
            assert_eq!(s.delta("thinking é and more "), "");
        }
        match &s {
            InlineThink::Inside(tail) => assert!(tail.len() < CLOSE.len() + 4),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.delta("</think>ok"), "ok");
    }
}
