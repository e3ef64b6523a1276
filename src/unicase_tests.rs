//! `unicase` against `core`'s lower-casing, its oracle.

use super::*;

#[test]
fn every_char_lowers_as_core_lowers_it() {
    for c in (0..=0x10_ffffu32).filter_map(char::from_u32) {
        assert!(lower(c).eq(c.to_lowercase()), "{c:?}");
    }
}

/// The sigma rule around the chars at every edge of the two tables'
/// ranges and every 31st char, against `core`.
#[test]
fn the_final_sigma_rule_reads_chars_as_core_does() {
    let mut chars: Vec<u32> = (0..=0x10_ffffu32).step_by(31).collect();
    for table in [&CASE_IGNORABLE[..], &CASED[..]] {
        for (start, end) in ranges(table) {
            chars.extend([start.saturating_sub(1), start, end, end + 1]);
        }
    }
    for c in chars.into_iter().filter_map(char::from_u32) {
        for text in [
            format!("{c}Σ"),
            format!("A{c}Σ"),
            format!("AΣ{c}"),
            format!("AΣ{c}a"),
            format!("Σ{c}"),
        ] {
            assert_eq!(lower_str(&text), text.to_lowercase(), "{text:?}");
        }
    }
}

/// A table's ranges, decoded.
fn ranges(table: &[u8]) -> Vec<(u32, u32)> {
    let mut values = vec![];
    let (mut value, mut shift) = (0u32, 0);
    for &b in table {
        value |= u32::from(b & 0x7f) << shift;
        shift += 7;
        if b < 0x80 {
            values.push(value);
            (value, shift) = (0, 0);
        }
    }
    let mut end = 0;
    values
        .chunks(2)
        .map(|pair| {
            let start = end + pair[0];
            end = start + pair[1] + 1;
            (start, start + pair[1])
        })
        .collect()
}

#[test]
fn strings_lower_as_core_lowers_them() {
    let texts = [
        "",
        "ΣΑΣ",
        "ὈΔΥΣΣΕΎΣ",
        "Σ",
        "aΣ",
        "aΣ.",
        "aΣ'b",
        "a'Σ",
        "a\u{301}Σ b",
        "İSTANBUL",
        "ǅ",
        "ΑΣ Σ",
        "Ꭰ",
        "ẞ",
        "Hello, WORLD — ÄÖÜ",
        "ПРИВЕТ мир",
        "ǲΣ",
        "𐐀𐐁",
        "A\u{345}Σ",
    ];
    for text in texts {
        assert_eq!(lower_str(text), text.to_lowercase(), "{text:?}");
    }
}

/// The tables as `gen` builds them from `core`; on a mismatch (a toolchain
/// with a newer Unicode) the new ones are printed to paste in.
#[test]
fn tables_are_cores() {
    let (lower_runs, ignorable, cased) = build_tables();
    let pages: Vec<u8> = (0..=256u32)
        .map(|p| lower_runs.iter().filter(|(key, _)| key & 0x1f_ffff < p << 8).count() as u8)
        .collect();
    let ok = lower_runs == LOWER && pages == PAGES && ignorable == CASE_IGNORABLE && cased == CASED;
    if !ok {
        println!("{lower_runs:?}\n{pages:?}\n{ignorable:?}\n{cased:?}");
    }
    assert!(
        ok,
        "unicase's tables differ from core's mappings: rebuild them (printed above)"
    );
}

fn build_tables() -> (Vec<(u32, i32)>, Vec<u8>, Vec<u8>) {
    // (start, length, offset, stride)
    let mut runs: Vec<(u32, u32, i64, u32)> = vec![];
    for u in 0..=0x10_ffffu32 {
        let Some(c) = char::from_u32(u) else { continue };
        let l: Vec<char> = c.to_lowercase().collect();
        if l.len() != 1 || l[0] == c {
            continue;
        }
        let d = i64::from(u32::from(l[0])) - i64::from(u);
        if let Some(r) = runs.last_mut() {
            if r.2 == d && r.1 == 1 && (u == r.0 + 1 || u == r.0 + 2) {
                r.3 = u - r.0;
                r.1 = 2;
                continue;
            }
            if r.2 == d && u == r.0 + r.1 * r.3 && r.1 < 127 {
                r.1 += 1;
                continue;
            }
        }
        runs.push((u, 1, d, 1));
    }
    let lower_runs = runs
        .iter()
        .map(|r| (r.0 | (r.1 << 21) | (u32::from(r.3 == 2) << 28), r.2 as i32))
        .collect();
    let (mut ignorable, mut cased) = (vec![], vec![]);
    for x in (0..=0x10_ffffu32).filter_map(char::from_u32) {
        // "xΣ" ends in ς iff x is cased and not ignorable; "AxΣ" iff x is
        // either.
        let alone = format!("{x}Σ").to_lowercase().ends_with('ς');
        let after_a = format!("A{x}Σ").to_lowercase().ends_with('ς');
        if after_a && !alone {
            ignorable.push(u32::from(x));
        }
        if alone {
            cased.push(u32::from(x));
        }
    }
    (lower_runs, encode(&ignorable), encode(&cased))
}

fn encode(chars: &[u32]) -> Vec<u8> {
    let mut ranges: Vec<(u32, u32)> = vec![];
    for &u in chars {
        match ranges.last_mut() {
            Some(last) if last.1 + 1 == u => last.1 = u,
            _ => ranges.push((u, u)),
        }
    }
    let mut bytes = vec![];
    let mut end = 0;
    for (a, b) in ranges {
        for mut x in [a - end, b - a] {
            loop {
                let b = (x & 0x7f) as u8;
                x >>= 7;
                if x == 0 {
                    bytes.push(b);
                    break;
                }
                bytes.push(b | 0x80);
            }
        }
        end = b + 1;
    }
    bytes
}
