//! A structural scan of JSON text: how deep it nests, and where a prefix of
//! it can be cut so that closing what is open gives valid JSON.
//!
//! Two jobs share the scan. `check_depth` tells nesting past a limit from
//! other malformed text; a complete body is read by the JSON reader first,
//! which refuses nesting past the limit itself (it recurses once per level
//! and a wasm VM has a small stack), and is scanned only when the reader
//! refuses it ([`parse_checked`]). `repair` turns a body cut at the
//! inspection cap into the JSON of everything that was complete: it drops a
//! partial key, number or literal and any dangling `,` or `:`, keeps a value
//! string cut in the middle (its prefix is the most useful part of a long
//! prompt), and closes the open string, arrays and objects. The scan is
//! lenient: it does not validate, so repaired text that is still not JSON is
//! left for the reader to refuse.

use super::plain_strings::Records;
use super::ParseFailure;
use crate::json::Value;

/// Nesting went past the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooDeep;

/// A place where the prefix before `at` can be closed into valid JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cut {
    at: usize,
    /// `at` lies inside a value string, which needs a closing quote.
    in_string: bool,
}

/// What a scan learned.
struct Scan {
    /// The closer of every container still open at the end, outermost first.
    closers: Vec<u8>,
    last_cut: Option<Cut>,
}

/// Errors when brackets outside strings nest deeper than `max_depth`.
pub fn check_depth(text: &str, max_depth: usize) -> Result<(), TooDeep> {
    scan(text.as_bytes(), max_depth, Records::default()).map(|_| ())
}

/// The tree of complete JSON `text`, with [`check_depth`]'s answer as if
/// it had run first, but without its scan when the text parses: the reader
/// refuses nesting past `max_depth` itself, and a text it reads whole is
/// valid JSON, whose containers the scan counts exactly as the reader does.
/// Only a text the reader refuses is scanned, to tell too deep (which wins,
/// as when the scan came first) from malformed. (Issue 8: the scan was a
/// second walk over every byte of every body.) The strings at `plain` are
/// taken whole ([`Value::parse_str_plain`]).
pub fn parse_checked(text: &str, max_depth: usize, plain: Records<'_>) -> Result<Value, ParseFailure> {
    if let Some(root) = Value::parse_str_plain(text, max_depth, plain) {
        return Ok(root);
    }
    check_depth(text, max_depth).map_err(|_| ParseFailure::TooDeep)?;
    Err(ParseFailure::Malformed)
}

/// A prefix closed into JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repaired {
    pub text: String,
    /// `text` starts with this many bytes of the prefix, unchanged (what
    /// follows them is a closing quote and the closers).
    pub kept: usize,
}

/// The longest complete-able prefix of `text`, closed into JSON text, or
/// `None` when no value had started. Output is at most `max_depth + 1`
/// bytes longer than the input. The strings at `plain` (recorded plain
/// strings of `text`, the last possibly cut by its end:
/// [`super::plain_strings`]) are stepped over whole instead of searched
/// for their end: the same answer.
pub fn repair(text: &str, max_depth: usize, plain: Records<'_>) -> Result<Option<Repaired>, TooDeep> {
    let Scan { closers, last_cut } = scan(text.as_bytes(), max_depth, plain)?;
    let Some(cut) = last_cut else {
        return Ok(None);
    };
    // Cuts are only ever placed on character boundaries; `get` keeps that
    // promise from becoming a panic if it were ever broken.
    let Some(kept) = text.get(..cut.at) else {
        return Ok(None);
    };
    // What is open at the last cut is what is open at the end: every push
    // and every pop places a cut just after itself, so none comes after the
    // last cut. (Issue 8: the kept text was scanned a second time for it.)
    let mut out = String::with_capacity(kept.len() + closers.len() + 1);
    out.push_str(kept);
    if cut.in_string {
        out.push('"');
    }
    out.extend(closers.iter().rev().map(|&c| char::from(c)));
    Ok(Some(Repaired {
        text: out,
        kept: cut.at,
    }))
}

#[derive(Default)]
struct StringState {
    is_key: bool,
    after_backslash: bool,
    /// Hex digits still to read in a `\uXXXX` escape.
    hex_left: u8,
    hex: u32,
    /// The last escape was a UTF-16 high surrogate: cutting now would leave
    /// it lone, which serde_json refuses.
    high_surrogate: bool,
}

impl StringState {
    fn cuttable(&self) -> bool {
        !self.is_key && !self.after_backslash && self.hex_left == 0 && !self.high_surrogate
    }
}

fn scan(text: &[u8], max_depth: usize, mut plain: Records<'_>) -> Result<Scan, TooDeep> {
    let mut stack: Vec<u8> = Vec::new();
    // Inside an object, whether the next string is a key.
    let mut expect_key = false;
    let mut string: Option<StringState> = None;
    // Inside a number or literal, which ends at the next delimiter.
    let mut in_scalar = false;
    let mut last_cut = None;
    // Index of the next byte to read.
    let mut next = 0;
    while let Some(&b) = text.get(next) {
        let i = next;
        next += 1;
        if let Some(s) = string.as_mut() {
            if s.hex_left > 0 {
                s.hex = s.hex * 16 + char::from(b).to_digit(16).unwrap_or(0);
                s.hex_left -= 1;
                s.high_surrogate = s.hex_left == 0 && (0xD800..0xDC00).contains(&s.hex);
                continue;
            }
            if s.after_backslash {
                s.after_backslash = false;
                if b == b'u' {
                    s.hex_left = 4;
                    s.hex = 0;
                }
                continue;
            }
            // Plain string content up to the next quote or backslash needs
            // no per-byte state: skip it in one search (strings are most of
            // a prompt body), keeping the last cut a byte-by-byte scan would
            // have kept: the last character boundary before the stop byte.
            // A recorded plain string's text holds no quote or backslash:
            // the search would stop at its closing quote, or at the end of
            // the text that cuts it.
            let recorded = plain
                .take_at(i)
                .map(|span| span.end as usize)
                .filter(|&end| end == text.len() || text.get(end) == Some(&b'"'));
            let stop = match recorded {
                Some(end) => end,
                None => text
                    .get(i..)
                    .and_then(super::bytescan::find_quote_or_backslash)
                    .map_or(text.len(), |p| i + p),
            };
            if s.cuttable() {
                let boundary = (i..=stop).rev().find(|&k| text.get(k).is_none_or(|c| c & 0xC0 != 0x80));
                if let Some(at) = boundary.filter(|&k| k < text.len()) {
                    last_cut = Some(Cut { at, in_string: true });
                }
            }
            let Some(&b) = text.get(stop) else {
                // The text ends inside the string; the end-of-text rule
                // below places the final cut.
                break;
            };
            let i = stop;
            next = stop + 1;
            match b {
                b'\\' => s.after_backslash = true,
                b'"' => {
                    if s.is_key {
                        expect_key = false;
                    } else {
                        last_cut = Some(Cut {
                            at: i + 1,
                            in_string: false,
                        });
                    }
                    string = None;
                }
                _ => {}
            }
            continue;
        }
        if in_scalar {
            if !matches!(
                b,
                b',' | b'}' | b']' | b':' | b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'{' | b'['
            ) {
                continue;
            }
            in_scalar = false;
            last_cut = Some(Cut {
                at: i,
                in_string: false,
            });
        }
        match b {
            b'"' => {
                let is_key = expect_key && stack.last() == Some(&b'}');
                string = Some(StringState {
                    is_key,
                    ..StringState::default()
                });
            }
            b'{' | b'[' => {
                if stack.len() >= max_depth {
                    return Err(TooDeep);
                }
                stack.push(if b == b'{' { b'}' } else { b']' });
                expect_key = b == b'{';
                last_cut = Some(Cut {
                    at: i + 1,
                    in_string: false,
                });
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
                last_cut = Some(Cut {
                    at: i + 1,
                    in_string: false,
                });
            }
            b',' => expect_key = stack.last() == Some(&b'}'),
            b':' => expect_key = false,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => in_scalar = true,
        }
    }
    if string.as_ref().is_some_and(StringState::cuttable) {
        last_cut = Some(Cut {
            at: text.len(),
            in_string: true,
        });
    }
    Ok(Scan {
        closers: stack,
        last_cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn fix(s: &str) -> Option<serde_json::Value> {
        repair(s, 64, Records::default())
            .unwrap()
            .map(|r| serde_json::from_str(&r.text).unwrap())
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn complete_json_is_kept_as_is() {
        assert_eq!(fix(r#"{"a":[1,2,{"b":null}]}"#), Some(json!({"a":[1,2,{"b":null}]})));
        assert_eq!(fix("[] "), Some(json!([])));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn partial_keys_numbers_and_literals_are_dropped() {
        assert_eq!(fix(r#"{"a":1,"b"#), Some(json!({"a":1})));
        assert_eq!(fix(r#"{"a":1,"b":"#), Some(json!({"a":1})));
        assert_eq!(fix(r#"{"a":1,"b":12"#), Some(json!({"a":1})));
        assert_eq!(fix(r#"{"a":1,"b":tr"#), Some(json!({"a":1})));
        assert_eq!(fix(r#"{"a":1,"b":true"#), Some(json!({"a":1})));
        assert_eq!(fix(r#"{"a":1,"b":true}"#), Some(json!({"a":1,"b":true})));
        assert_eq!(fix("[1,"), Some(json!([1])));
        assert_eq!(fix(r#"{"a":{"#), Some(json!({"a":{}})));
        assert_eq!(fix(r#"{"a":[[1],["#), Some(json!({"a":[[1],[]]})));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn value_strings_keep_their_prefix() {
        assert_eq!(fix(r#"{"t":"hello wor"#), Some(json!({"t":"hello wor"})));
        assert_eq!(fix(r#"["a\"b"#), Some(json!(["a\"b"])));
        // A cut inside an escape drops the escape.
        assert_eq!(fix(r#"["ab\"#), Some(json!(["ab"])));
        assert_eq!(fix(r#"["ab\u00"#), Some(json!(["ab"])));
        assert_eq!(fix(r#"["ab\u00e9"#), Some(json!(["ab\u{e9}"])));
        // A high surrogate is never left lone.
        assert_eq!(fix(r#"["x\ud83d"#), Some(json!(["x"])));
        assert_eq!(fix(r#"["x\ud83d\ude00"#), Some(json!(["x\u{1f600}"])));
        assert_eq!(fix("[\"caf\u{e9}"), Some(json!(["caf\u{e9}"])));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn nothing_started_means_nothing_to_repair() {
        assert_eq!(fix(""), None);
        assert_eq!(fix("   "), None);
        assert_eq!(fix("12"), None);
        assert_eq!(fix("\"abc"), Some(json!("abc")));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn depth_is_limited_outside_strings_only() {
        assert_eq!(check_depth(&"[".repeat(10_000), 64), Err(TooDeep));
        assert_eq!(repair(&"[".repeat(10_000), 64, Records::default()), Err(TooDeep));
        assert_eq!(check_depth(&"[".repeat(64), 64), Ok(()));
        assert_eq!(check_depth(&"[".repeat(65), 64), Err(TooDeep));
        let in_string = format!("[\"{}\"]", "[{".repeat(5_000));
        assert_eq!(check_depth(&in_string, 64), Ok(()));
        // Closing brackets free depth again.
        assert_eq!(check_depth(&"[[]]".repeat(1_000), 2), Ok(()));
    }

    /// A random JSON document: strings hold brackets, quotes and escapes,
    /// objects repeat keys (the tree keeps one value of a repeated key, so
    /// a deeper one can be gone from the tree but not from the text).
    fn random_doc(rng: &mut crate::hash::TestDraws, depth: u32, out: &mut String) {
        let r = rng.next_u64();
        match if depth > 6 { r % 3 } else { r % 6 } {
            0 => out.push_str(
                ["1", "-2.5e3", "true", "null"]
                    .get((r >> 8) as usize % 4)
                    .copied()
                    .unwrap_or("1"),
            ),
            1 | 2 => out.push_str(
                ["\"a\"", "\"[{\"", "\"\\\"]\"", "\"\\u005b\"", "\"\\\\\"", "\"\""]
                    .get((r >> 8) as usize % 6)
                    .copied()
                    .unwrap_or("\"\""),
            ),
            3 => {
                out.push('[');
                for i in 0..(r >> 8) % 4 {
                    if i > 0 {
                        out.push(',');
                    }
                    random_doc(rng, depth + 1, out);
                }
                out.push(']');
            }
            _ => {
                out.push_str("{ ");
                for i in 0..(r >> 8) % 4 {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(if (r >> (16 + i)) & 1 == 0 { "\"a\":" } else { "\"b\":" });
                    random_doc(rng, depth + 1, out);
                }
                out.push('}');
            }
        }
    }

    /// [`parse_checked`] against what it replaces (the scan, then the
    /// reader): random documents and broken copies of them (a piece
    /// inserted anywhere: a bracket, a quote, a backslash, a bad escape),
    /// every limit from 0 to past their depth.
    #[wasm_bindgen_test(unsupported = test)]
    fn parse_checked_equals_the_scan_then_the_reader() {
        let before = |t: &str, d: usize| {
            check_depth(t, d)
                .map_err(|_| ParseFailure::TooDeep)
                .and_then(|()| Value::parse_str(t).ok_or(ParseFailure::Malformed))
        };
        let breaks = [
            "[", "]", "{", "}", "\"", "\\", "\\u", "\\u00", ",", ":", "x", "[[[[[[[[", "\"\\u\"",
        ];
        let mut rng = crate::hash::TestDraws(23);
        let (mut too_deep, mut malformed, mut read) = (0, 0, 0);
        for _ in 0..4000 {
            let mut doc = String::new();
            random_doc(&mut rng, 0, &mut doc);
            let r = rng.next_u64();
            let mut broken = doc.clone();
            let at = (r as usize % (doc.len() + 1)..=doc.len())
                .find(|&k| broken.is_char_boundary(k))
                .unwrap_or(0);
            broken.insert_str(
                at,
                breaks.get((r >> 32) as usize % breaks.len()).copied().unwrap_or("["),
            );
            for t in [&doc, &broken] {
                for d in 0..9 {
                    let (new, old) = (parse_checked(t, d, Records::default()), before(t, d));
                    assert_eq!(new, old, "{t:?} at {d}");
                    match new {
                        Err(ParseFailure::TooDeep) => too_deep += 1,
                        Err(_) => malformed += 1,
                        Ok(_) => read += 1,
                    }
                }
            }
        }
        // Each outcome was met often enough to mean something.
        assert!(
            too_deep > 1000 && malformed > 1000 && read > 1000,
            "{too_deep} {malformed} {read}"
        );
    }

    /// What [`repair`] replaces: the cut found by one scan, the closers by
    /// a second scan of the kept text.
    fn repair_scanning_twice(text: &str, max_depth: usize) -> Result<Option<String>, TooDeep> {
        let Some(cut) = scan(text.as_bytes(), max_depth, Records::default())?.last_cut else {
            return Ok(None);
        };
        let Some(kept) = text.get(..cut.at) else {
            return Ok(None);
        };
        let closers = scan(kept.as_bytes(), max_depth, Records::default())?.closers;
        let mut out = kept.to_owned();
        if cut.in_string {
            out.push('"');
        }
        out.extend(closers.iter().rev().map(|&c| char::from(c)));
        Ok(Some(out))
    }

    /// One scan repairs every prefix of random documents (and of broken
    /// copies, and of documents with scalars, escapes and multi-byte text
    /// at the end) exactly as the two scans did, at limits below and above
    /// their depth.
    #[wasm_bindgen_test(unsupported = test)]
    fn one_scan_repairs_as_two_did() {
        let mut rng = crate::hash::TestDraws(29);
        let tails = [
            "",
            "12",
            "tru",
            "\"x\\u00",
            "\"\u{e9}\u{1f600}",
            ",\"k\":",
            "]",
            "}}",
            " \n",
        ];
        let (mut repaired, mut none, mut deep) = (0, 0, 0);
        for round in 0..600 {
            let mut doc = String::new();
            random_doc(&mut rng, 0, &mut doc);
            doc.push_str(tails.get(round % tails.len()).copied().unwrap_or(""));
            for end in (0..=doc.len()).filter(|&e| doc.is_char_boundary(e)) {
                let prefix = &doc[..end];
                for depth in [2, 64] {
                    let new = repair(prefix, depth, Records::default()).map(|r| r.map(|r| r.text));
                    assert_eq!(new, repair_scanning_twice(prefix, depth), "{prefix:?} at {depth}");
                    match new {
                        Ok(Some(_)) => repaired += 1,
                        Ok(None) => none += 1,
                        Err(TooDeep) => deep += 1,
                    }
                }
            }
        }
        assert!(
            repaired > 10_000 && none > 100 && deep > 1_000,
            "{repaired} {none} {deep}"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn every_prefix_repairs_to_a_prefix_of_the_original() {
        let full = r#"{"k":"v\n\u00e9\ud83d\ude00 ok","n":[1,-2.5e3,true,null,{"x":"y"}],"e":{}}"#;
        for end in (0..=full.len()).filter(|&e| full.is_char_boundary(e)) {
            let prefix = &full[..end];
            if let Some(r) = repair(prefix, 64, Records::default()).unwrap().map(|r| r.text) {
                let v: serde_json::Value =
                    serde_json::from_str(&r).unwrap_or_else(|e| panic!("prefix {prefix:?} repaired to {r:?}: {e}"));
                assert!(v.is_object());
            } else {
                assert!(prefix.trim().is_empty(), "{prefix:?}");
            }
        }
    }
}
