//! `float_parse::parse` against `str::parse::<f64>`, its oracle.

use super::{fits_f64, parse};
use crate::json::tests::Rng;

/// The same float (bits; any NaN of the same sign) or the same refusal.
fn check(text: &str) {
    let ours = parse(text);
    let core = text.parse::<f64>().ok();
    match (ours, core) {
        (Some(a), Some(b)) if a.is_nan() && b.is_nan() => {
            assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{text:?}");
        }
        (Some(a), Some(b)) => assert_eq!(a.to_bits(), b.to_bits(), "{text:?}: {a:e} against {b:e}"),
        (a, b) => assert_eq!(a.is_some(), b.is_some(), "{text:?}: {a:?} against {b:?}"),
    }
    // The range check without the value, on every text of the float
    // grammar it is given (the reader's lexed JSON floats).
    let grammar = !text.starts_with('+') && text.bytes().all(|c| c.is_ascii_digit() || b"-.eE+".contains(&c));
    if let (true, Some(b)) = (grammar, core) {
        assert_eq!(fits_f64(text.as_bytes()), b.is_finite(), "fits_f64({text:?})");
    }
}

/// 2^1024 - 2^970, the least value that rounds to infinity, in decimal.
const OVERFLOW_DIGITS: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Around 2^1024 - 2^970, the least value that rounds to infinity: the
/// one decimal order at which `fits_f64` reads the value.
#[test]
fn the_overflow_edge_is_where_core_puts_it() {
    let t = OVERFLOW_DIGITS;
    let below = {
        let mut d = t.as_bytes().to_vec();
        let last = d.len() - 1;
        d[last] -= 1; // it ends in 2: one less
        String::from_utf8(d).unwrap()
    };
    let above = format!("{t}1");
    for text in [
        t.to_owned(),
        below.clone(),
        format!("{t}.0"),
        format!("{t}.0000001"),
        format!("{below}.9999999999"),
        format!("0.{t}e309"),
        format!("0.{below}e309"),
        format!("0.{above}e309"),
        format!("{}.{}e1", &t[..308], &t[308..]),
        format!("0.000{t}e312"),
        format!("-{t}"),
        "1.7976931348623157e308".to_owned(),
        "1.7976931348623158e308".to_owned(),
        "1.797693134862315807937e308".to_owned(),
        "1.797693134862315808e308".to_owned(),
        "1e308".to_owned(),
        "9.999999e308".to_owned(),
        "1e309".to_owned(),
        "0.1e310".to_owned(),
        "0.01e310".to_owned(),
        "1e99999999999999999999".to_owned(),
        "1e-99999999999999999999".to_owned(),
        "0e99999".to_owned(),
        "0.000e400".to_owned(),
        "-0.0".to_owned(),
    ] {
        check(&text);
    }
    assert!(!fits_f64(t.as_bytes()), "2^1024 - 2^970 rounds to infinity");
    assert!(fits_f64(below.as_bytes()));
}

#[test]
fn edges_read_as_core_reads_them() {
    let zeros_then_one = format!("0.{}1", "0".repeat(2000));
    let many_digits = "1234567890".repeat(90);
    let many_nines = format!("9.{}", "9".repeat(900));
    let long_tail = format!("1.{}1e-5", "0".repeat(850));
    let exp_saturated = format!("0.{}1e70001", "0".repeat(70_000));
    let cases = [
        "0",
        "-0",
        "+0",
        "0.0",
        "-0.0e5",
        "00000",
        "1",
        "-1",
        "+1",
        "1.",
        ".5",
        "+.5",
        "-.5",
        "1.e5",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        "0.7",
        "0.1",
        "0.2",
        "0.3",
        "3.14159",
        "1e22",
        "1e23",
        "9007199254740992",
        "9007199254740993",
        "9007199254740994",
        "9007199254740995",
        "9007199254740992.5",
        "18014398509481985",
        "123456789012345678",
        "1234567890123456789",
        "12345678901234567890",
        "123456789012345678901234567890",
        "1e308",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "1e309",
        "2.2250738585072014e-308",
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "4.9e-324",
        "5e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "2.47032822920623272e-324",
        "1e-324",
        "1e-400",
        "1e400",
        "-1e400",
        "1e-27",
        "1e-28",
        "-0.0012345678901234567",
        "0.30000000000000004",
        "0.1000000000000000055511151231257827",
        "0.1000000000000000055511151231257828",
        "1e65535",
        "1e65536",
        "1e99999999999999999999",
        "0e99999999999",
        "1e-99999999999999",
        "inf",
        "-inf",
        "+inf",
        "INF",
        "Infinity",
        "-infinity",
        "InFiNiTy",
        "nan",
        "NaN",
        "-nan",
        "+NAN",
        "infin",
        "nan(1)",
        "",
        ".",
        "-",
        "+",
        "e",
        "e5",
        ".e5",
        "1e",
        "1e+",
        "1e-",
        "1e+-5",
        "--1",
        "+-1",
        "-+1",
        "1..2",
        "1.2.3",
        "0x10",
        " 1",
        "1 ",
        "1_0",
        "1,5",
        "١",
        "1e5.5",
        "1.5e",
        "9.999999999999999e22",
        "8.98846567431158e307",
        &zeros_then_one,
        &many_digits,
        &many_nines,
        &long_tail,
        &exp_saturated,
    ];
    for text in cases {
        check(text);
    }
}

#[test]
fn printed_floats_read_back_as_core_reads_them() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..20_000 {
        let x = f64::from_bits(rng.next());
        if !x.is_finite() {
            continue;
        }
        check(&format!("{x:e}"));
        check(&format!("{x:?}"));
        check(&format!("{x:.*e}", (i % 25) as usize));
        // Short, as JSON bodies carry them.
        let small = (rng.below(2_000_000) as f64) / 1000.0;
        check(&format!("{small}"));
        check(&format!("{:.*}", (i % 8) as usize, rng.below(1_000_000) as f64 / 7.0));
    }
}

#[test]
fn random_digits_and_exponents_read_as_core_reads_them() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..60_000 {
        let longest = if rng.below(4) == 0 { 60 } else { 22 };
        let n = 1 + rng.below(longest) as usize;
        let mut text = String::new();
        if rng.below(3) == 0 {
            text.push('-');
        }
        let point = rng.below(n as u64 + 2) as usize;
        for i in 0..n {
            if i == point {
                text.push('.');
            }
            let d = if rng.below(5) == 0 { 0 } else { rng.below(10) };
            text.push(char::from(b'0' + d as u8));
        }
        if rng.below(2) == 0 {
            let e = rng.below(760) as i64 - 380;
            text.push_str(&format!("e{e}"));
        }
        check(&text);
    }
}

/// Adds two decimal digit strings of the same length (no sign, no point).
fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len() + 1];
    let mut carry = 0;
    for i in (0..a.len()).rev() {
        let s = (a[i] - b'0') + (b[i] - b'0') + carry;
        out[i + 1] = s % 10;
        carry = s / 10;
    }
    out[0] = carry;
    out
}

/// The exact decimal point halfway between two consecutive positive
/// floats, `a` and the next one up, with 1,101 decimals.
fn halfway(a: f64) -> String {
    let b = f64::from_bits(a.to_bits() + 1);
    let (x, y) = (format!("{a:.1100}"), format!("{b:.1100}"));
    let width = x.len().max(y.len());
    let (x, y) = (
        format!("{x:0>width$}").replace('.', ""),
        format!("{y:0>width$}").replace('.', ""),
    );
    // (x + y) × 5 with one more decimal is (x + y) / 2 exactly.
    let sum = add_digits(x.as_bytes(), y.as_bytes());
    let mut carry = 0u32;
    let mut half: Vec<u8> = sum
        .iter()
        .rev()
        .map(|&d| {
            let v = u32::from(d) * 5 + carry;
            carry = v / 10;
            (v % 10) as u8
        })
        .collect();
    half.push(carry as u8);
    half.reverse();
    // half has the digits of (x + y) × 5; the last 1,101 are the decimals.
    let digits: String = half.iter().map(|&d| char::from(b'0' + d)).collect();
    let (int, frac) = digits.split_at(digits.len() - 1101);
    format!("{int}.{frac}")
}

#[test]
fn halfway_points_and_their_neighbours_round_as_core_rounds() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut floats: Vec<f64> = vec![
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::MAX / 2.0,
        1.0,
        0.1,
        9007199254740992.0,
        1e22,
        1e23,
        1e-27,
    ];
    for _ in 0..300 {
        // Exponents over the whole range, the mantissa's low bit both ways.
        let bits = rng.next() & 0x7fef_ffff_ffff_ffff;
        floats.push(f64::from_bits(bits));
        floats.push(f64::from_bits(rng.next() & 0x000f_ffff_ffff_ffff));
        let near_one = (1u64 << 62) - (1 << 52) * rng.below(200) + rng.below(1 << 52);
        floats.push(f64::from_bits(near_one));
    }
    for a in floats {
        if !a.is_finite() || a <= 0.0 || a.next_up() == f64::INFINITY {
            continue;
        }
        let mid = halfway(a);
        check(&mid);
        let trimmed = mid.trim_end_matches('0');
        check(trimmed);
        check(&format!("{trimmed}1"));
        check(&format!("{trimmed}000000001"));
        // Just below: the last non-zero digit one less, then nines.
        let mut below: Vec<u8> = trimmed.bytes().collect();
        if let Some(last) = below.iter().rposition(|d| d.is_ascii_digit() && *d != b'0') {
            below[last] -= 1;
            let mut below = String::from_utf8(below).unwrap();
            below.push_str("999999999");
            check(&below);
        }
        // The same point written with an exponent, most digits cut.
        check(&format!("{a:.17e}"));
        check(&format!("{a:.40e}"));
    }
}

#[test]
fn random_text_is_refused_as_core_refuses_it() {
    let alphabet = b"0123456789.eE+-infatyINFATY_ x";
    let mut rng = Rng(0x0bad_cafe_f00d_d00d);
    for _ in 0..100_000 {
        let n = rng.below(9) as usize;
        let text: String = (0..n)
            .map(|_| char::from(alphabet[rng.below(alphabet.len() as u64) as usize]))
            .collect();
        check(&text);
    }
}
