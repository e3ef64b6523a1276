//! The compact writer: what serde_json's `to_string` wrote (no spaces,
//! object keys in order, strings escaped as serde_json escapes them), with
//! a float written as it was read.

use super::{Map, Num, Value};
use std::fmt::Write as _;

impl Value {
    /// The value as compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => n.write(out),
            Value::String(s) => write_string(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(map) => map.write(out),
        }
    }
}

impl Map {
    fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (key, value)) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(out, key);
            out.push(':');
            value.write(out);
        }
        out.push('}');
    }
}

impl Num {
    fn write(&self, out: &mut String) {
        let _ = match self {
            Num::Unsigned(n) => write!(out, "{n}"),
            Num::Signed(n) => write!(out, "{n}"),
            Num::Float(text) => {
                out.push_str(text);
                Ok(())
            }
        };
    }

    /// The number as text: integers in decimal, a float as it was written.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// `s` as a JSON string: `"` and `\` escaped, control characters as
/// `\b \t \n \f \r` or `\u00XX` (lower-case hex), everything else as it is.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(plain..i).unwrap_or_default());
        plain = i + 1;
        if escape.is_empty() {
            // A control byte: `\u000X` or `\u001X` (a str's bytes, not a
            // char pushed: issue 8, module size).
            out.push_str(if b < 0x10 { "\\u000" } else { "\\u001" });
            let low = usize::from(b & 0xf);
            out.push_str("0123456789abcdef".get(low..=low).unwrap_or("0"));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(s.get(plain..).unwrap_or_default());
    out.push('"');
}
