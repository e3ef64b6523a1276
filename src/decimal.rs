//! Floats as decimal text without `core`'s float printing (Grisu, Dragon
//! and their tables: ~13 KB of the Envoy module, issue 8), with output
//! identical to `format!("{x:.N}")` ([`fixed`]) and `format!("{x:?}")`
//! ([`debug`]); the tests compare them over many values.
//!
//! A finite float is `m × 2^e` exactly, so its decimal expansion is finite:
//! `m × 2^e` for `e ≥ 0`, `m × 5^k / 10^k` for `e = -k`. [`exact`] computes
//! those digits with a small base-10⁹ integer; rounding is then done on the
//! digits (half to even, as `core` rounds), and the shortest form tries
//! each length until the text reads back as the same float.
//!
//! Integers too ([`push_u64`], [`push_hex16`]): shared-data keys,
//! addresses and identity keys are written by hand on the request path
//! rather than through `format!`.

use std::cmp::Ordering;

/// Appends `n` in decimal, as `{n}` formats it.
pub fn push_u64(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut rest = n;
    let mut start = digits.len();
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
        start -= 1;
        if rest == 0 {
            break;
        }
    }
    push_ascii(out, digits.get(start..).unwrap_or_default());
}

/// Appends ASCII bytes: one copy, where a `String::push` per char inlines
/// its UTF-8 encoding at every call (issue 8: module size).
fn push_ascii(out: &mut String, ascii: &[u8]) {
    out.push_str(std::str::from_utf8(ascii).unwrap_or_default());
}

/// Appends `n` as sixteen lower-case hex digits, as `{n:016x}` formats it
/// (identity keys, on every request).
pub fn push_hex16(out: &mut String, n: u64) {
    let mut hex = [0u8; 16];
    for (i, h) in hex.iter_mut().enumerate() {
        let nibble = (n >> ((15 - i) * 4)) & 0xf;
        *h = b"0123456789abcdef".get(nibble as usize).copied().unwrap_or(b'0');
    }
    push_ascii(out, &hex);
}

/// Decimal digits (no leading zeros) and where the point goes: the value
/// is `0.d₁d₂… × 10^point`. Zero is no digits.
struct Digits {
    digits: Vec<u8>,
    point: i32,
}

/// Limbs of a big integer in base 10⁹, least significant first.
fn mul_small(limbs: &mut Vec<u32>, factor: u64) {
    let mut carry = 0u64;
    for limb in limbs.iter_mut() {
        let v = u64::from(*limb) * factor + carry;
        *limb = (v % 1_000_000_000) as u32;
        carry = v / 1_000_000_000;
    }
    while carry > 0 {
        limbs.push((carry % 1_000_000_000) as u32);
        carry /= 1_000_000_000;
    }
}

/// The exact decimal expansion of a finite, non-negative float.
fn exact(x: f64) -> Digits {
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp_bits - 1075)
    };
    if m == 0 {
        return Digits {
            digits: Vec::new(),
            point: 0,
        };
    }
    // m < 2^53 < 10^18: two limbs at most.
    let mut limbs = vec![(m % 1_000_000_000) as u32];
    if m >= 1_000_000_000 {
        limbs.push((m / 1_000_000_000) as u32);
    }
    // ×2^e or ×5^k, in the largest steps a limb product allows.
    let (mut left, base, step, step_factor) = if e >= 0 {
        (e, 2u64, 29, 1u64 << 29)
    } else {
        (-e, 5u64, 13, 1_220_703_125u64)
    };
    while left >= step {
        mul_small(&mut limbs, step_factor);
        left -= step;
    }
    mul_small(&mut limbs, base.pow(left.unsigned_abs()));
    // Nine digits a limb, the first limb's leading zeros too (dropped just
    // below): no `to_string` (an allocation and core's integer formatting)
    // per limb; a score's 3-decimal text took six of them.
    let mut digits = vec![0u8; limbs.len() * 9];
    for (nine, limb) in digits.chunks_exact_mut(9).zip(limbs.iter().rev()) {
        let mut rest = *limb;
        for d in nine.iter_mut().rev() {
            *d = (rest % 10) as u8;
            rest /= 10;
        }
    }
    let first = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
    digits.drain(..first);
    let len = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let point = if e >= 0 { len } else { len + e };
    while digits.last() == Some(&0) {
        digits.pop();
    }
    Digits { digits, point }
}

impl Digits {
    /// Cut to the first `keep` digits (`keep` may be ≤ 0 or past the end),
    /// rounding up where `round` says so, given the cut part against half a
    /// unit of the last digit kept and whether that digit is odd. `dyn`:
    /// one copy for the four ways it is called (issue 8: module size); the
    /// rule is asked once per call.
    fn round(&self, keep: i32, round: &dyn Fn(Ordering, bool) -> bool) -> Digits {
        let n = usize::try_from(keep.max(0)).unwrap_or(0);
        if n >= self.digits.len() {
            return Digits {
                digits: self.digits.clone(),
                point: self.point,
            };
        }
        let mut kept: Vec<u8> = self.digits.get(..n).unwrap_or_default().to_vec();
        let cut = self.digits.get(n..).unwrap_or_default();
        // The cut part against half a unit of the last kept digit: a cut
        // starting before the first digit (keep < 0) is below half.
        let half = if keep < 0 {
            Ordering::Less
        } else {
            match cut.first().copied().unwrap_or(0).cmp(&5) {
                Ordering::Equal if cut.len() > 1 => Ordering::Greater,
                other => other,
            }
        };
        let odd = kept.last().is_some_and(|d| d % 2 == 1);
        let mut point = self.point;
        if round(half, odd) {
            let mut i = kept.len();
            loop {
                if i == 0 {
                    kept.insert(0, 1);
                    point += 1;
                    break;
                }
                i -= 1;
                if let Some(d) = kept.get_mut(i) {
                    if *d == 9 {
                        *d = 0;
                    } else {
                        *d += 1;
                        break;
                    }
                }
            }
        }
        while kept.last() == Some(&0) {
            kept.pop();
        }
        if kept.is_empty() {
            point = 0;
        }
        Digits { digits: kept, point }
    }

    /// The digit at position `i` from the start (0 past either end).
    fn at(&self, i: i32) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Reads back as a float (`d₁d₂…e(point - len)`).
    fn value(&self) -> Option<f64> {
        let ascii: Vec<u8> = self.digits.iter().map(|&d| b'0' + d).collect();
        let exp = i64::from(self.point) - i64::try_from(self.digits.len()).unwrap_or(0);
        Some(crate::float_parse::digits_value(&ascii, exp))
    }
}

fn sign_and_special(x: f64, out: &mut String) -> bool {
    if x.is_nan() {
        out.push_str("NaN");
        return true;
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    if x.is_infinite() {
        out.push_str("inf");
        return true;
    }
    false
}

/// `format!("{x:.decimals$}")`: rounded half to even on the exact value.
pub fn fixed(x: f64, decimals: usize) -> String {
    let mut out = String::new();
    if sign_and_special(x, &mut out) {
        return out;
    }
    let d = exact(x.abs());
    let places = i32::try_from(decimals).unwrap_or(i32::MAX);
    let r = d.round(d.point.saturating_add(places), &|half, odd| {
        half == Ordering::Greater || (half == Ordering::Equal && odd)
    });
    let mut text = out.into_bytes();
    if r.point <= 0 {
        text.push(b'0');
    }
    for i in 0..r.point {
        text.push(b'0' + r.at(i));
    }
    if decimals > 0 {
        text.push(b'.');
        for i in 0..places {
            text.push(b'0' + r.at(r.point + i));
        }
    }
    String::from_utf8(text).unwrap_or_default()
}

/// The shortest digits that read back as `x` (finite, non-negative); of
/// two candidates of that length, the nearer (up on a tie), as `core`'s
/// shortest mode chooses.
fn shortest(x: f64) -> Digits {
    let d = exact(x);
    if d.digits.is_empty() {
        return d;
    }
    for p in 1..=17 {
        let down = d.round(p, &|_, _| false);
        let up = d.round(p, &|_, _| true);
        let down_ok = down.value() == Some(x);
        let up_ok = up.value() == Some(x) && i32::try_from(d.digits.len()).unwrap_or(i32::MAX) > p;
        match (down_ok, up_ok) {
            (true, true) => return d.round(p, &|half, _| half != Ordering::Less),
            (true, false) => return down,
            (false, true) => return up,
            (false, false) => {}
        }
    }
    d
}

/// `format!("{x:?}")`: the shortest digits that read back as `x`, in
/// exponent form below 1e-4 and from 1e16 up (`1e16`, `1.5e-5`), otherwise
/// with at least one decimal (`100000.0`).
pub fn debug(x: f64) -> String {
    debug_with(x, "")
}

/// [`debug`] with `plus` written before a non-negative exponent (serde's
/// messages write `1e+16` where `{x:?}` writes `1e16`).
pub fn debug_with(x: f64, plus: &str) -> String {
    let mut out = String::new();
    if sign_and_special(x, &mut out) {
        return out;
    }
    let a = x.abs();
    let d = shortest(a);
    // Bytes, not `String::push` of chars (each inlines UTF-8 encoding;
    // issue 8: module size).
    let mut text = out.into_bytes();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        for (i, digit) in d.digits.iter().enumerate() {
            if i == 1 {
                text.push(b'.');
            }
            text.push(b'0' + digit);
        }
        text.push(b'e');
        let exp = d.point - 1;
        text.extend_from_slice(if exp < 0 { b"-" } else { plus.as_bytes() });
        let mut digits = String::new();
        push_u64(&mut digits, u64::from(exp.unsigned_abs()));
        text.extend_from_slice(digits.as_bytes());
    } else {
        if d.point <= 0 {
            text.push(b'0');
        }
        for i in 0..d.point {
            text.push(b'0' + d.at(i));
        }
        text.push(b'.');
        let frac = (i32::try_from(d.digits.len()).unwrap_or(0) - d.point).max(1);
        for i in 0..frac {
            text.push(b'0' + d.at(d.point + i));
        }
    }
    String::from_utf8(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn hex16_is_formats_016x() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut cases = vec![0, 1, 0xf, 0x10, u64::MAX, u64::MAX - 1, 1 << 63, 0xabcdef];
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(x);
            cases.push(x >> (x % 64));
        }
        for n in cases {
            let mut out = String::from("k:");
            push_hex16(&mut out, n);
            assert_eq!(out, format!("k:{n:016x}"));
        }
    }

    fn values() -> Vec<f64> {
        let mut v = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.25,
            0.0625,
            0.1875,
            0.0005,
            0.0015,
            0.9995,
            0.9999,
            1.0,
            1e-4,
            9.99e-5,
            1e16,
            9.999999999999998e15,
            1e300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.1,
            0.2,
            0.3,
            0.7,
            100000.0,
            4096.0,
            1.8446744073709552e19,
            0.30000000000000004,
            123456.789,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        // Every thousandth of [0, 2] and its neighbours, and the ties.
        for k in 0..=4000u32 {
            let t = f64::from(k) / 2000.0;
            v.extend([
                t,
                f64::from_bits(t.to_bits() + 1),
                f64::from_bits(t.to_bits().saturating_sub(1)),
            ]);
        }
        // Powers of two (uneven rounding intervals) and random bit patterns.
        for e in -1074..1024 {
            v.push(2f64.powi(e));
        }
        let mut s = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            v.push(f64::from_bits(s));
            // Scores and settings: mostly within [0, 10).
            v.push((s >> 11) as f64 / (1u64 << 53) as f64 * 10.0);
        }
        v
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn fixed_is_cores_formatting() {
        for x in values() {
            assert_eq!(fixed(x, 3), format!("{x:.3}"), "{x:e}");
        }
        for x in [0.5, 1.25, 2.5, -0.05, 1e21, 123.456] {
            for n in [0, 1, 2, 6] {
                assert_eq!(fixed(x, n), format!("{x:.n$}"), "{x} {n}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn debug_is_cores_formatting() {
        for x in values() {
            assert_eq!(debug(x), format!("{x:?}"), "{:#x}", x.to_bits());
            // serde_json's form in messages: `e+` before a non-negative
            // exponent (what the reader's float_text wrote with split_once).
            let plus = debug_with(x, "+");
            let core = format!("{x:?}");
            let serde = match core.split_once('e') {
                Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
                _ => core,
            };
            assert_eq!(plus, serde, "{:#x}", x.to_bits());
        }
    }
}
