//! Helpers the per-provider parsers share: loosely typed field reads and
//! text collection under a budget.
//!
//! Clients send numbers as floats (`1024.0`) or, in Gemini's proto JSON,
//! as strings (`"1024"`); the readers accept all of them so a parameter is
//! not missed because of how one SDK spells it.

use crate::json::{Map, Value};

use super::{Api, GenParams, RequestView, Role, Turn};

/// Most text bytes one view keeps (system plus all turns). A view never
/// holds more than this whatever body the caller passes.
pub const MAX_VIEW_TEXT: usize = 1 << 20;
/// Most turns one view keeps. Older turns are dropped first: detection looks
/// at the latest ones.
pub const MAX_TURNS: usize = 256;
/// Longest model name or effort string kept from a body (bytes).
const MAX_SHORT: usize = 128;

/// The text bytes a view may still take.
pub struct Budget {
    left: usize,
    /// Some text was dropped for lack of budget or turn slots.
    pub exhausted: bool,
}

impl Budget {
    pub fn new(max: usize) -> Self {
        Budget {
            left: max,
            exhausted: false,
        }
    }

    /// Appends `text` to `out`, after a `"\n"` when `out` is not empty,
    /// cutting it at a character boundary when the budget runs out.
    pub fn push(&mut self, out: &mut String, text: &str) {
        if text.is_empty() {
            return;
        }
        let sep = usize::from(!out.is_empty());
        if self.left <= sep {
            self.exhausted = true;
            return;
        }
        self.left -= sep;
        if sep == 1 {
            out.push('\n');
        }
        let take = floor_boundary(text, self.left);
        if take < text.len() {
            self.exhausted = true;
        }
        out.push_str(text.get(..take).unwrap_or(""));
        self.left -= take;
    }

    /// [`Self::push`] of `text`, taking it (left empty) rather than
    /// copying it when it is all `out` will hold: `out` is empty and the
    /// budget takes `text` whole.
    pub fn take(&mut self, out: &mut String, text: &mut String) {
        if out.is_empty() && !text.is_empty() && text.len() <= self.left {
            self.left -= text.len();
            *out = std::mem::take(text);
        } else {
            self.push(out, text);
        }
    }

    /// The text bytes still to take.
    #[cfg(test)]
    pub fn left(&self) -> usize {
        self.left
    }

    /// Appends `v` if it is a string.
    pub fn push_value(&mut self, out: &mut String, v: Option<&Value>) {
        if let Some(s) = v.and_then(Value::as_str) {
            self.push(out, s);
        }
    }
}

/// The largest character boundary of `s` at or below `i`.
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A string cut to a bounded length.
pub fn short(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    Some(s.get(..floor_boundary(s, MAX_SHORT)).unwrap_or("").to_string())
}

/// A short string in lower case (reasoning effort levels).
pub fn lower(v: Option<&Value>) -> Option<String> {
    short(v).map(|s| s.to_ascii_lowercase())
}

/// A non-negative integer: `7`, `7.0` or `"7"`.
pub fn uint(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64();
            // Saturating cast is fine: anything near u64::MAX means "huge".
            (f >= 0.0 && f.fract() == 0.0).then_some(f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A signed integer: `-7`, `7.0` or `"-7"`.
pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64();
            (f.fract() == 0.0).then_some(f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A float: `0.7` or `"0.7"`; non-finite values are ignored.
pub fn float(v: Option<&Value>) -> Option<f64> {
    let f = match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => crate::float_parse::parse(s.trim())?,
        _ => return None,
    };
    f.is_finite().then_some(f)
}

pub fn boolean(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

/// The length of an array field, saturated to `u32`.
pub fn count(v: Option<&Value>) -> u32 {
    let n = v.and_then(Value::as_array).map_or(0, Vec::len);
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A field under its camelCase or snake_case name (proto JSON accepts both).
pub fn either<'a>(obj: &'a Map, camel: &str, snake: &str) -> Option<&'a Value> {
    obj.get(camel).or_else(|| obj.get(snake))
}

/// The conversation array under `key`; without it the body is not this
/// API's request.
pub fn required_array<'a>(root: &'a Map, key: &str) -> Result<&'a [Value], super::ParseFailure> {
    root.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or(super::ParseFailure::WrongShape)
}

/// Roles by the names the OpenAI and Anthropic APIs use.
pub fn role(name: Option<&Value>) -> Option<Role> {
    Some(match name?.as_str()? {
        "system" | "developer" => Role::System,
        "user" => Role::User,
        "assistant" | "model" => Role::Assistant,
        "tool" | "function" => Role::Tool,
        _ => Role::Other,
    })
}

/// Builds turns from `items`, latest first so that the turn cap and the
/// text budget drop the oldest, and returns them in order.
pub fn turns_latest_first<'a, F>(items: &'a [Value], budget: &mut Budget, mut turn: F) -> Vec<Turn>
where
    F: FnMut(&'a Value, &mut Budget) -> Option<Turn>,
{
    let mut out = Vec::new();
    for item in items.iter().rev() {
        if out.len() >= MAX_TURNS {
            budget.exhausted = true;
            break;
        }
        if let Some(t) = turn(item, budget) {
            out.push(t);
        }
    }
    out.reverse();
    out
}

/// Adds a `content` that is a string or an array of parts, reading each
/// part with `part` (OpenAI and Anthropic share this shape).
pub fn content_with(t: &mut Turn, content: Option<&Value>, budget: &mut Budget, part: PartReader) {
    match content {
        Some(Value::String(s)) => budget.push(&mut t.text, s),
        Some(Value::Array(parts)) => {
            for p in parts {
                part(t, p, budget);
            }
        }
        _ => {}
    }
}

/// Reads one content part into a turn.
pub type PartReader = fn(&mut Turn, &Value, &mut Budget);

/// An empty view of `api` with the body's `model`, if any.
pub fn view(api: Api, model: Option<&Value>) -> RequestView {
    RequestView {
        api,
        model: short(model),
        system: String::new(),
        turns: Vec::new(),
        params: GenParams::default(),
        truncated: false,
    }
}

/// Adds `n` to a part counter without overflow.
pub fn bump(counter: &mut u32, n: u32) {
    *counter = counter.saturating_add(n);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn budget_cuts_at_character_boundaries_and_says_so() {
        let mut b = Budget::new(7);
        let mut s = String::new();
        b.push(&mut s, "ab");
        b.push(&mut s, "");
        assert!(!b.exhausted);
        b.push(&mut s, "\u{e9}\u{e9}\u{e9}");
        // "ab" + "\n" + two 2-byte characters = 7; the third does not fit.
        assert_eq!(s, "ab\n\u{e9}\u{e9}");
        assert!(b.exhausted);
        b.push(&mut s, "more");
        assert_eq!(s.len(), 7);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn numbers_in_every_spelling() {
        assert_eq!(uint(Some(&json!(5))), Some(5));
        assert_eq!(uint(Some(&json!(5.0))), Some(5));
        assert_eq!(uint(Some(&json!(" 5 "))), Some(5));
        assert_eq!(uint(Some(&json!(5.5))), None);
        assert_eq!(uint(Some(&json!(-1))), None);
        assert_eq!(uint(Some(&json!(null))), None);
        assert_eq!(int(Some(&json!(-3))), Some(-3));
        assert_eq!(int(Some(&json!("-3"))), Some(-3));
        assert_eq!(float(Some(&json!(0.25))), Some(0.25));
        assert_eq!(float(Some(&json!("NaN"))), None);
        assert_eq!(count(Some(&json!([1, 2]))), 2);
        assert_eq!(count(Some(&json!({}))), 0);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn turn_cap_keeps_the_latest() {
        let items: Vec<Value> = (0..MAX_TURNS + 10).map(|i| json!(i.to_string())).collect();
        let mut b = Budget::new(MAX_VIEW_TEXT);
        let turns = turns_latest_first(&items, &mut b, |v, b| {
            let mut t = Turn::default();
            b.push_value(&mut t.text, Some(v));
            Some(t)
        });
        assert_eq!(turns.len(), MAX_TURNS);
        assert_eq!(turns.last().unwrap().text, (MAX_TURNS + 9).to_string());
        assert_eq!(turns.first().unwrap().text, "10");
        assert!(b.exhausted);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn short_strings_are_capped() {
        let long = "x".repeat(1000);
        assert_eq!(short(Some(&json!(long))).unwrap().len(), MAX_SHORT);
        assert_eq!(lower(Some(&json!("HIGH"))).as_deref(), Some("high"));
    }
}
