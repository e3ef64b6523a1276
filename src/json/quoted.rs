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
/// the module's note). Written as bytes: a `String::push` of a char
/// inlines its UTF-8 encoding at every call (issue 8: module size).
pub fn quoted(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + 2);
    out.push(b'"');
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        // The C1 controls U+0080-U+009F are C2 80-9F in UTF-8.
        let control = match (b, bytes.get(i)) {
            (0xc2, Some(&next @ 0x80..=0x9f)) => {
                i += 1;
                next
            }
            (0x01..=0x1f | 0x7f, _) => b,
            _ => 0,
        };
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0 => b"\\0",
            _ if control != 0 => {
                out.extend_from_slice(b"\\u{");
                // One or two hex digits, without leading zeros.
                if control >= 0x10 {
                    out.push(hex_digit(control >> 4));
                }
                out.push(hex_digit(control & 0xf));
                out.push(b'}');
                continue;
            }
            _ => {
                out.push(b);
                continue;
            }
        };
        out.extend_from_slice(escaped);
    }
    out.push(b'"');
    // Whole chars copied or replaced by ASCII: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

fn hex_digit(d: u8) -> u8 {
    b"0123456789abcdef".get(usize::from(d)).copied().unwrap_or(b'0')
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
