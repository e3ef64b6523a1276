//! A string as serde's messages quote it (`invalid type: string "ten",
//! expected u64`): `{:?}` of a `str`, written by hand.
//!
//! core's `<str as Debug>` escapes a char as `\u{…}` when Unicode calls it
//! unprintable or grapheme-extending, which links core's printable and
//! grapheme-extend tables and its string-slicing panic into the Envoy
//! module (~4 KB with `char::escape_debug`, issue 8); this is the only
//! `{:?}` of a string the module had. Here: the same text as core's for
//! every char but those (the tests check all of them), with the C0 and C1
//! controls and DEL escaped as core escapes them. Other chars core would
//! escape (unassigned code points, invisible format characters such as
//! U+200B, combining marks such as U+0301) are printed as they are: only a
//! configuration string refused for its type, and only in how the message
//! shows such a char, differs from serde's.

/// `s` in double quotes, escaped as `format!("{s:?}")` escapes it (but see
/// the module's note).
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '\u{1}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => {
                out.push_str("\\u{");
                let n = u32::from(c);
                // One or two hex digits, without leading zeros.
                if n >= 0x10 {
                    out.push(hex_digit(n >> 4));
                }
                out.push(hex_digit(n & 0xf));
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hex_digit(d: u32) -> char {
    char::from_digit(d, 16).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Every char alone (and every 61st between two letters): core's text,
    /// or, where core writes `\u{…}` for a char that is not a control, the
    /// char itself (the module's note); never any other difference.
    #[wasm_bindgen_test(unsupported = test)]
    fn every_char_as_core_prints_it_or_itself() {
        let mut differ = 0;
        for c in (0..=0x10_ffffu32).filter_map(char::from_u32) {
            let mut texts = vec![c.to_string()];
            if u32::from(c) % 61 == 0 {
                texts.push(format!("a{c}b"));
            }
            for s in texts {
                let core = format!("{s:?}");
                let ours = quoted(&s);
                if ours != core {
                    assert!(!c.is_control(), "{:x}", u32::from(c));
                    assert_eq!(
                        core.replace(&format!("\\u{{{:x}}}", u32::from(c)), &c.to_string()),
                        ours
                    );
                    differ += 1;
                }
            }
        }
        // Unassigned code points and the like: most of the planes.
        assert!(differ > 0);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn texts_as_core_prints_them() {
        for s in [
            "",
            "ten",
            "shad\u{1}ow",
            "a \"quoted\" \\ back\\slash",
            "tab\there\nline\rret\0nul\u{7f}\u{85}\u{9f}",
            "'single'",
            "é 中文 Ελληνικά русский 🦀",
        ] {
            assert_eq!(quoted(s), format!("{s:?}"));
        }
    }
}
