//! A streaming JSON compactor: drops the bytes of a body that carry no
//! prompt, chunk by chunk, so that padding cannot push the prompt past the
//! inspection cap.
//!
//! Two kinds of bytes go:
//! - whitespace outside strings (JSON's insignificant whitespace: space,
//!   tab, line feed, carriage return). One space is kept where dropping all
//!   of it would join two scalars (`1 2` stays `1 2`), so a body the
//!   upstream would refuse is never turned into one it would accept;
//! - inside a string, a run of base64 characters (`A-Za-z0-9+/=`) longer
//!   than [`MAX_BASE64_RUN`]: only its first [`MAX_BASE64_RUN`] bytes are
//!   kept. Inline images and documents are such runs; the upstream bills
//!   an image by its pixels, not by its base64 length, so a large blob
//!   ahead of the text would otherwise be cheap padding. Text has spaces,
//!   punctuation or non-ASCII letters long before that.
//!
//! State carried across chunks: inside a string, after a backslash, the
//! length of the current base64 run, whether whitespace is pending after a
//! scalar, and where the open string starts and whether it is plain. The
//! output, and what is recorded, is the same however the input is split (a
//! test feeds every split point).
//!
//! On the way, it records where the long plain strings of its output are
//! ([`super::plain_strings`]), which the JSON reader then takes whole: it
//! already stops at every quote and backslash, and tests for control bytes
//! in the same words.

use super::bytescan::{bytes_equal, quote_flags, word};
use super::plain_strings::PlainStrings;

/// Longest run of base64 characters kept inside a string.
pub const MAX_BASE64_RUN: usize = 256;

#[derive(Clone, Debug, Default)]
pub struct Compactor {
    in_string: bool,
    after_backslash: bool,
    /// Base64 characters in a row so far in the current string.
    run: usize,
    /// Whitespace was dropped after a scalar byte (outside strings).
    pending_space: bool,
    /// The last byte written outside a string was part of a scalar
    /// (number, `true`, `false`, `null`, or anything else unquoted).
    last_scalar: bool,
    /// The long plain strings written so far, and the open string's state.
    strings: PlainStrings,
}

fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// The base64 run at the end of `kept`, which followed a run of `before`.
fn exact_run(kept: &[u8], before: usize) -> usize {
    let tail = kept.iter().rev().take_while(|&&b| is_base64(b)).count();
    if tail == kept.len() {
        before + tail
    } else {
        tail
    }
}

/// [`BYTE_CLASS`] values: a string's end or escape, a base64 byte, a
/// control byte (below 0x20), any other.
const STOP: u8 = 2;
const BASE64: u8 = 1;
const CONTROL: u8 = 3;

/// The class of every byte, for the string fast path.
// Indexing in a const block is checked when the module is compiled: it
// cannot panic at run time.
#[allow(clippy::indexing_slicing)]
const BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c == b'"' || c == b'\\' {
            STOP
        } else if c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=' {
            BASE64
        } else if c < 0x20 {
            CONTROL
        } else {
            0
        };
        b += 1;
    }
    t
};

/// Outside strings: a byte that is part of a bare token.
fn is_scalar(b: u8) -> bool {
    !matches!(b, b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"') && !is_json_space(b)
}

impl Compactor {
    pub fn new() -> Compactor {
        Compactor::default()
    }

    /// The long plain strings of what was written so far.
    pub fn plain_strings(&self) -> &PlainStrings {
        &self.strings
    }

    /// Compacts `input` onto `out`, never letting `out` grow past `cap`.
    /// Returns how many bytes of `input` were consumed: all of them, unless
    /// a byte had to be written when `out` was full (then the rest is
    /// left, and the compactor's state is that of the last consumed byte).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, cap: usize) -> usize {
        out.reserve(input.len().min(cap.saturating_sub(out.len())));
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            if self.in_string && !self.after_backslash && b != b'"' && b != b'\\' {
                // Fast path: plain string bytes up to the next quote or
                // backslash, copied a stretch at a time (most of a body).
                let n = self.copy_plain(input.get(i..).unwrap_or_default(), out, cap);
                if n == 0 {
                    // A byte to keep and no room.
                    return i;
                }
                i += n;
                continue;
            }
            if !self.step(b, out, cap) {
                return i;
            }
            i += 1;
        }
        input.len()
    }

    /// Copies the plain string bytes at the start of `input` (before any
    /// quote or backslash) onto `out`, dropping base64 bytes past the run
    /// limit, never past `cap`. Returns the input bytes consumed; the state
    /// is that of the last consumed byte.
    fn copy_plain(&mut self, input: &[u8], out: &mut Vec<u8>, cap: usize) -> usize {
        // What is surely kept goes in one copy: bytes that fit, up to the
        // first quote or backslash or a base64 byte past the run limit
        // (most of a body's text). The rest, if any, goes the general way
        // below.
        // Only the bytes that fit are read: at the cap, the rest of a long
        // string is not scanned (issue 8: a 1 MiB body past the cap).
        let room = cap.saturating_sub(out.len());
        let window = input.get(..room).unwrap_or(input);
        // Eight bytes at a time first; while the string is plain, a
        // control byte stops the words too, in the same comparison as the
        // quote (the string is then no longer plain, and the words go on
        // testing for the quote alone).
        let plain = self.strings.open_is_plain();
        let mut kept = if plain {
            self.plain_words::<true>(input, window)
        } else {
            self.plain_words::<false>(input, window)
        };
        // The exact run where the words stopped, then byte by byte through
        // a table, up to the quote or backslash that ends the stretch.
        let mut run = exact_run(input.get(..kept).unwrap_or_default(), self.run);
        for &b in window.iter().skip(kept) {
            match BYTE_CLASS.get(usize::from(b)).copied().unwrap_or(STOP) {
                STOP => break,
                BASE64 if run >= MAX_BASE64_RUN => break,
                BASE64 => run += 1,
                CONTROL if plain => {
                    // The first control byte of a plain string: kept, and
                    // the caller comes back for the rest, which the words
                    // then read without the control test (not byte by
                    // byte to the string's end).
                    kept += 1;
                    out.extend_from_slice(input.get(..kept).unwrap_or_default());
                    self.run = 0;
                    self.strings.spoil();
                    return kept;
                }
                _ => run = 0,
            }
            kept += 1;
        }
        out.extend_from_slice(input.get(..kept).unwrap_or_default());
        self.run = run;
        let rest = input.get(kept..).unwrap_or_default();
        if rest.first().is_none_or(|&b| b == b'"' || b == b'\\') {
            return kept;
        }
        kept + self.copy_plain_general(rest, out, cap)
    }

    /// How many bytes of `window` (the start of `input` that fits), a
    /// word at a time, surely hold no quote, backslash (nor, with
    /// `CONTROLS`, control byte) and keep the base64 run under the limit.
    /// One pass: `bound` is at least the run, exact at the start, and grows
    /// by a word per word; when it nears the limit it is bounded again from
    /// the last word (text has a space in most words): one test for spaces
    /// every ~31 words instead of one in every word.
    #[inline(always)]
    fn plain_words<const CONTROLS: bool>(&self, input: &[u8], window: &[u8]) -> usize {
        let mut bound = self.run;
        let mut kept = 0;
        while kept + 8 <= window.len() {
            if bound + 8 > MAX_BASE64_RUN {
                // The last word's last space ends the run (a `!` flagged
                // beside one is not base64 either); past a word without
                // one, the run is counted from the bytes.
                let spaces = kept.checked_sub(8).map_or(0, |k| bytes_equal(word(window, k), b' '));
                bound = if spaces == 0 {
                    exact_run(input.get(..kept).unwrap_or_default(), self.run)
                } else {
                    7 - (63 - spaces.leading_zeros() as usize) / 8
                };
                if bound + 8 > MAX_BASE64_RUN {
                    break;
                }
            }
            let w = word(window, kept);
            if quote_flags::<CONTROLS>(w) | bytes_equal(w, b'\\') != 0 {
                break;
            }
            bound += 8;
            kept += 8;
        }
        kept
    }

    /// [`Self::copy_plain`] byte by byte: the same result, also where base64
    /// bytes are dropped or `cap` is reached. Stops at the first byte that
    /// must be kept and has no room, so at the cap the rest of the input is
    /// not scanned.
    fn copy_plain_general(&mut self, input: &[u8], out: &mut Vec<u8>, cap: usize) -> usize {
        let plain = |b: u8| b != b'"' && b != b'\\';
        let mut i = 0;
        loop {
            // Base64 bytes past the run limit are dropped.
            while self.run >= MAX_BASE64_RUN && input.get(i).is_some_and(|&b| is_base64(b)) {
                i += 1;
            }
            // Bytes are kept until a run reaches the limit, the string ends
            // or one byte more than fits was seen.
            let (start, run_before) = (i, self.run);
            let room = cap.saturating_sub(out.len());
            while let Some(&b) = input.get(i) {
                if !plain(b) {
                    break;
                }
                if is_base64(b) {
                    if self.run >= MAX_BASE64_RUN {
                        break;
                    }
                    self.run += 1;
                } else {
                    self.run = 0;
                }
                i += 1;
                if i - start > room {
                    break;
                }
                if b < 0x20 {
                    // Kept (it fits): the string is not plain.
                    self.strings.spoil();
                }
            }
            let kept = input.get(start..i).unwrap_or_default();
            if kept.len() > room {
                // Out of room: keep what fits; the run state is recounted
                // at the cut.
                let fits = kept.get(..room).unwrap_or_default();
                out.extend_from_slice(fits);
                self.run = fits
                    .iter()
                    .fold(run_before, |run, &b| if is_base64(b) { run + 1 } else { 0 });
                return start + room;
            }
            out.extend_from_slice(kept);
            if !input.get(i).is_some_and(|&b| plain(b)) {
                // The input or the string's plain bytes ended.
                return i;
            }
        }
    }

    /// One byte; false when it must be written and `out` is full.
    fn step(&mut self, b: u8, out: &mut Vec<u8>, cap: usize) -> bool {
        if self.in_string {
            let base64 = !self.after_backslash && is_base64(b);
            if base64 && self.run >= MAX_BASE64_RUN {
                return true;
            }
            if out.len() >= cap {
                return false;
            }
            out.push(b);
            self.run = if base64 { self.run + 1 } else { 0 };
            if self.after_backslash {
                self.after_backslash = false;
            } else if b == b'\\' {
                self.after_backslash = true;
                self.strings.spoil();
            } else if b == b'"' {
                self.in_string = false;
                self.last_scalar = false;
                self.strings.close(out.len().saturating_sub(1));
            } else if b < 0x20 {
                self.strings.spoil();
            }
            return true;
        }
        if is_json_space(b) {
            self.pending_space |= self.last_scalar;
            return true;
        }
        let space = self.pending_space && is_scalar(b);
        let needed = if space { 2 } else { 1 };
        if out.len().saturating_add(needed) > cap {
            return false;
        }
        if space {
            out.push(b' ');
        }
        out.push(b);
        self.pending_space = false;
        self.last_scalar = is_scalar(b);
        if b == b'"' {
            self.in_string = true;
            self.run = 0;
            self.strings.open(out.len());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::plain_strings::{Span, MAX_PLAIN_STRINGS, MIN_PLAIN_LEN};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn compact(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let n = Compactor::new().feed(input, &mut out, usize::MAX);
        assert_eq!(n, input.len());
        out
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn drops_whitespace_outside_strings_only() {
        let input = b"{ \"a b\" :\t[1 ,\n 2 ,true ] ,\r\n\"c\":\"x\\\" y\" }";
        assert_eq!(compact(input), b"{\"a b\":[1,2,true],\"c\":\"x\\\" y\"}".to_vec());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn keeps_one_space_between_scalars() {
        assert_eq!(compact(b"[1   2, true\n\nfalse]"), b"[1 2,true false]".to_vec());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn valid_json_compacts_to_the_same_value() {
        let text = r#"{ "model" : "gpt-4o", "messages": [ { "role": "user", "content": "a  b\n c \"q\" \\" } ], "n": 2, "x": null }"#;
        let out = compact(text.as_bytes());
        let a: serde_json::Value = serde_json::from_str(text).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(a, b);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn long_base64_runs_keep_their_start() {
        let blob = "A".repeat(5000);
        let input = format!(r#"{{"data":"{blob}","t":"hello world"}}"#);
        let out = compact(input.as_bytes());
        let expected = format!(r#"{{"data":"{}","t":"hello world"}}"#, "A".repeat(MAX_BASE64_RUN));
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        // An escape breaks a run; so does any other byte.
        let words = format!("\"{} {}\"", "b".repeat(300), "c".repeat(300));
        let out = compact(words.as_bytes());
        assert_eq!(out.len(), 2 + 2 * MAX_BASE64_RUN + 1);
    }

    /// Output, bytes consumed and plain strings recorded, one
    /// [`Compactor::step`] at a time.
    fn byte_by_byte(input: &[u8], cap: usize) -> (Vec<u8>, usize, Vec<Span>) {
        let mut c = Compactor::new();
        let mut out = Vec::new();
        for (i, &b) in input.iter().enumerate() {
            if !c.step(b, &mut out, cap) {
                return (out, i, c.plain_strings().spans().to_vec());
            }
        }
        (out, input.len(), c.plain_strings().spans().to_vec())
    }

    /// Output, bytes consumed and plain strings recorded by
    /// [`Compactor::feed`], the input split in two at `split`.
    fn fed_in_two(input: &[u8], split: usize, cap: usize) -> (Vec<u8>, usize, Vec<Span>) {
        let (a, b) = input.split_at(split.min(input.len()));
        let mut c = Compactor::new();
        let mut out = Vec::new();
        let mut n = c.feed(a, &mut out, cap);
        if n == a.len() {
            n += c.feed(b, &mut out, cap);
        }
        (out, n, c.plain_strings().spans().to_vec())
    }

    /// The long plain strings of compacted `out`, found from its bytes
    /// alone: what the compactor must have recorded (up to the bound).
    fn plain_strings_of(out: &[u8]) -> Vec<Span> {
        let mut spans = Vec::new();
        let mut i = 0;
        while i < out.len() {
            if out[i] != b'"' {
                i += 1;
                continue;
            }
            let start = i + 1;
            let mut plain = true;
            let mut j = start;
            while j < out.len() && out[j] != b'"' {
                if out[j] == b'\\' {
                    plain = false;
                    j += 1;
                } else if out[j] < 0x20 {
                    plain = false;
                }
                j += 1;
            }
            if j < out.len() && plain && j - start >= MIN_PLAIN_LEN && spans.len() < MAX_PLAIN_STRINGS {
                spans.push(Span {
                    start: start as u32,
                    end: j as u32,
                });
            }
            i = j + 1;
        }
        spans
    }

    /// The stretch-at-a-time fast path gives exactly what one byte at a time
    /// gives, at every cap and split.
    #[wasm_bindgen_test(unsupported = test)]
    fn fast_path_matches_byte_by_byte() {
        let inputs = [
            format!(
                "{{\"a\" : \"{}x y{}\\\"z\" , \"b\":[1 , 2]}}",
                "Q".repeat(300),
                "R".repeat(260)
            ),
            format!("\"{}+/={} tail\"", "a".repeat(255), "b".repeat(10)),
            format!("{{ \"t\": \"\\u00e9t\\u00e9 {} \"}}", "é".repeat(50)),
        ];
        for input in &inputs {
            let input = input.as_bytes();
            for cap in 0..input.len() + 2 {
                let slow = byte_by_byte(input, cap);
                for split in [0, 1, 7, input.len() / 2] {
                    assert_eq!(fed_in_two(input, split, cap), slow, "cap {cap} split {split}");
                }
            }
        }
    }

    /// Random strings of spaces, `!`, punctuation, long and short base64
    /// runs, escapes and non-ASCII: the word-at-a-time path keeps exactly
    /// what one byte at a time keeps, at random caps and splits.
    #[wasm_bindgen_test(unsupported = test)]
    fn word_path_matches_byte_by_byte_on_random_text() {
        let pieces: [&[u8]; 12] = [
            b" ",
            b"!",
            b"a b",
            b".,;",
            b"\\\"",
            b"\\n",
            "é".as_bytes(),
            b"Zz09+/=",
            b"\"",
            b"\n",
            b"\x01\x1f",
            b"Some words of a long plain string, longer than a word or two. ",
        ];
        let mut seed = 11u64;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n.max(1)
        };
        let mut recorded = 0;
        for _ in 0..300 {
            let mut input = b"{\"t\":\"".to_vec();
            while input.len() < 1500 {
                match next(4) {
                    // A base64 run around the limit.
                    0 => input.extend(std::iter::repeat_n(b'Q', 200 + next(120))),
                    _ => input.extend_from_slice(pieces[next(pieces.len())]),
                }
            }
            let cap = if next(3) == 0 {
                usize::MAX
            } else {
                next(input.len() + 8)
            };
            let split = next(input.len());
            let slow = byte_by_byte(&input, cap);
            assert_eq!(fed_in_two(&input, split, cap), slow, "cap {cap}");
            assert_eq!(slow.2, plain_strings_of(&slow.0), "cap {cap}");
            recorded += slow.2.len();
        }
        assert!(recorded > 10, "{recorded}");
    }

    /// A base64 run that starts in the last word before the word pass
    /// bounds the run again (about every 31 words) and runs to the limit:
    /// every lead-in length, so every place of the run's start against the
    /// words and the recounts, runs just under, at and past the limit.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_run_starting_where_the_bound_is_recounted_matches_byte_by_byte() {
        for lead in 0..300 {
            for len in [
                MAX_BASE64_RUN - 9,
                MAX_BASE64_RUN - 1,
                MAX_BASE64_RUN,
                MAX_BASE64_RUN + 1,
                MAX_BASE64_RUN + 9,
            ] {
                let mut input = b"{\"t\":\"".to_vec();
                input.extend((0..lead).map(|i| if i % 5 == 4 { b' ' } else { b'x' }));
                input.push(b' ');
                input.extend(std::iter::repeat_n(b'Q', len));
                input.extend_from_slice(b" end\"}");
                let slow = byte_by_byte(&input, usize::MAX);
                assert_eq!(fed_in_two(&input, input.len(), usize::MAX), slow, "{lead} {len}");
            }
        }
    }

    /// A cap deep inside a long string with much more after it (a 1 MiB
    /// body cut at 256 KiB: the scan stops at the cap): the same output and
    /// bytes consumed as one byte at a time, whether the cap falls in text,
    /// in a kept base64 run or in a dropped one.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_cap_inside_a_long_string_matches_byte_by_byte() {
        let mut input = b"{\"t\":\"".to_vec();
        while input.len() < 40_000 {
            input.extend_from_slice(b"Here is more of the log, id 0f3a9c: ");
            if input.len() % 7 == 0 {
                input.extend(std::iter::repeat_n(b'Q', 900));
            }
        }
        input.extend_from_slice(b"\"}");
        for cap in [0, 1, 255, 256, 257, 5_000, 12_345, 30_000, input.len()] {
            let slow = byte_by_byte(&input, cap);
            for split in [0, 3, 4_096, 20_000] {
                assert_eq!(fed_in_two(&input, split, cap), slow, "cap {cap} split {split}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn every_split_gives_the_same_output() {
        let input = format!(
            "{{ \"a\" : [ 1 ,  2 ] , \"s\" : \"x\\\\\\\" {} y\" ,\n\"t\":true   false }}",
            "Q".repeat(300)
        );
        let input = input.as_bytes();
        let whole = compact(input);
        for at in 0..=input.len() {
            let (a, b) = input.split_at(at);
            let mut c = Compactor::new();
            let mut out = Vec::new();
            assert_eq!(c.feed(a, &mut out, usize::MAX), a.len());
            assert_eq!(c.feed(b, &mut out, usize::MAX), b.len());
            assert_eq!(out, whole, "split at {at}");
        }
    }

    /// Long strings plain and not (a raw control byte, an escape, one in
    /// the words and one past them), 127 and 128 bytes, a key, a base64
    /// run cut down: split anywhere and cut anywhere, the compactor records
    /// the long plain strings of its output, no more and no fewer.
    #[wasm_bindgen_test(unsupported = test)]
    fn plain_strings_are_recorded_however_split_or_cut() {
        let text = "Plain words, and more of them. ".repeat(7);
        let input = format!(
            "{{ \"{text}\": [\"{text}\" , \"{a}\u{1}{text}\", \"{text}\\n\", \"{text}\\\"\\\\{text}\", \"{b}\", \"{c}\",\n \"{q} {text}\", \"{text}\x1f\", \"é{text}\", \"ab\"] }}",
            a = "x".repeat(9),
            b = "y".repeat(MIN_PLAIN_LEN - 1),
            c = "z".repeat(MIN_PLAIN_LEN),
            q = "Q".repeat(3 * MAX_BASE64_RUN),
        );
        let input = input.as_bytes();
        let whole = byte_by_byte(input, usize::MAX);
        assert_eq!(whole.2, plain_strings_of(&whole.0));
        assert_eq!(whole.2.len(), 5, "{:?}", whole.2);
        for at in 0..=input.len() {
            assert_eq!(fed_in_two(input, at, usize::MAX), whole, "split at {at}");
        }
        for cap in 0..whole.0.len() + 2 {
            let slow = byte_by_byte(input, cap);
            assert_eq!(slow.2, plain_strings_of(&slow.0), "cap {cap}");
            for split in [0, 1, 9, 200, input.len() / 2] {
                assert_eq!(fed_in_two(input, split, cap), slow, "cap {cap} split {split}");
            }
        }
    }

    /// Past [`MAX_PLAIN_STRINGS`] nothing more is recorded (and the
    /// compactor's output is unchanged).
    #[wasm_bindgen_test(unsupported = test)]
    fn plain_strings_stop_at_the_bound() {
        let s = format!("\"{}\"", "w ".repeat(MIN_PLAIN_LEN));
        let input = format!("[{}]", vec![s; MAX_PLAIN_STRINGS + 20].join(","));
        let (out, n, spans) = fed_in_two(input.as_bytes(), 1000, usize::MAX);
        assert_eq!((out.as_slice(), n), (input.as_bytes(), input.len()));
        assert_eq!(spans.len(), MAX_PLAIN_STRINGS);
        assert_eq!(spans, plain_strings_of(&out));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn stops_at_the_cap_and_resumes_nothing_past_it() {
        let input = b"{\"a\":   \"bcdef\"}   ";
        let mut out = Vec::new();
        let mut c = Compactor::new();
        let n = c.feed(input, &mut out, 6);
        assert_eq!(out, b"{\"a\":\"b".to_vec()[..6].to_vec());
        assert!(n < input.len());
        // Whitespace after a full output is still consumed.
        let mut out = Vec::new();
        let whole = b"{\"a\":1}";
        let mut padded = whole.to_vec();
        padded.extend_from_slice(b"  \n ");
        assert_eq!(Compactor::new().feed(&padded, &mut out, whole.len()), padded.len());
        assert_eq!(out, whole.to_vec());
    }
}
