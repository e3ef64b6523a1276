//! Decimal text to `f64` without `core`'s float parser (dec2flt: its
//! 10.4 KB table of 128-bit powers of five and ~5 KB of code in the Envoy
//! module, issue 8). [`parse`] accepts what `str::parse::<f64>` accepts and
//! returns the same float, bit for bit: the correctly rounded value of the
//! digits (round half to even), with `core`'s exponent saturation. The tests
//! (`float_parse_tests.rs`) compare the two on edge cases, every halfway
//! point they generate and random text.
//!
//! Three ways to the value, each exact:
//! - Clinger's fast path: up to 2⁵³ with a power of ten up to 10²² is one
//!   IEEE multiplication or division of exact operands (most JSON numbers:
//!   `0.7`, `1e-5`);
//! - up to 19 digits against at most 10²⁷ below the point (`-0.0012…` with
//!   17 digits, a log-probability): one `u128` division;
//! - anything else (more digits, far exponents): the digits as a big
//!   integer, divided by the power of ten bit by bit. More than 800
//!   significant digits are cut to 800 and a `1` standing for the rest, which
//!   cannot move the rounding: every point halfway between two floats has at
//!   most 767 significant digits.

use std::cmp::Ordering;

/// The decimal grammar of `str::parse::<f64>`: `[+-]`, then `inf`,
/// `infinity` or `nan` in any case, or digits with an optional point and an
/// optional exponent (`1`, `1.`, `.5`, `1e5`, `1E-5`).
pub fn parse(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, body) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    let magnitude = magnitude(body)?;
    Some(if negative { -magnitude } else { magnitude })
}

fn magnitude(body: &[u8]) -> Option<f64> {
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(f64::INFINITY);
    }
    if body.eq_ignore_ascii_case(b"nan") {
        return Some(f64::NAN);
    }
    let int_len = body.iter().take_while(|b| b.is_ascii_digit()).count();
    let (int, rest) = body.split_at_checked(int_len)?;
    let (frac, rest) = match rest.split_first() {
        Some((b'.', after)) => {
            let n = after.iter().take_while(|b| b.is_ascii_digit()).count();
            after.split_at_checked(n)?
        }
        _ => (&[][..], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest.split_first() {
        None => 0,
        Some((b'e' | b'E', after)) => exponent(after)?,
        Some(_) => return None,
    };
    let frac_len = i64::try_from(frac.len()).unwrap_or(i64::MAX);
    let exp = exp.saturating_sub(frac_len);
    // Most numbers: up to 19 significant digits, read in one pass.
    let mut w = 0u64;
    let mut significant = 0usize;
    for part in [int, frac] {
        for &d in part {
            if w > 0 || d != b'0' {
                w = w.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                significant += 1;
            }
        }
    }
    if significant == 0 {
        return Some(0.0);
    }
    if significant <= 19 {
        if let Some(x) = small(w, exp) {
            return Some(x);
        }
    }
    Some(value(int, frac, exp))
}

/// `[+-]digits`, saturating as `core` does (no more digits are taken once
/// the value reaches 0x10000).
fn exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut e = 0i64;
    for d in digits {
        if e < 0x10000 {
            e = 10 * e + i64::from(d - b'0');
        }
    }
    Some(if negative { -e } else { e })
}

/// Whether a JSON float's text (`-`, digits, an optional fraction and
/// exponent, as the reader lexed it) reads as a finite `f64`: what
/// [`parse`] would say, without reading the value. Linear in the text; the
/// request-body path uses it so that no number costs an exact conversion
/// until detection reads it.
pub fn fits_f64(text: &[u8]) -> bool {
    let body = text.strip_prefix(b"-").unwrap_or(text);
    let mantissa_end = body.iter().position(|b| matches!(b, b'e' | b'E')).unwrap_or(body.len());
    let (mantissa, exp_text) = body.split_at(mantissa_end);
    let exp = match exp_text.split_first() {
        Some((_, digits)) => match exponent(digits) {
            Some(e) => e,
            None => return false,
        },
        None => 0,
    };
    let point_at = mantissa.iter().position(|&b| b == b'.').unwrap_or(mantissa.len());
    let digits = || mantissa.iter().filter(|&&b| b != b'.');
    let leading = digits().take_while(|&&d| d == b'0').count();
    let total = mantissa.len() - usize::from(point_at < mantissa.len());
    if leading == total {
        return true; // zero
    }
    // The value is 0.d₁d₂… × 10^point with d₁ the first non-zero digit.
    let int_digits = i64::try_from(point_at).unwrap_or(i64::MAX);
    let point = int_digits
        .saturating_sub(i64::try_from(leading).unwrap_or(i64::MAX))
        .saturating_add(exp);
    match point.cmp(&309) {
        Ordering::Less => true,     // below 10^308, under f64::MAX
        Ordering::Greater => false, // at least 10^309
        // Between 10^308 and 10^309: read, as rare as it is (the first
        // value that rounds to infinity is 2^1024 - 2^970, halfway past
        // f64::MAX; its 309 digits as a constant were ~400 bytes of the
        // module, issue 8).
        Ordering::Equal => std::str::from_utf8(text)
            .ok()
            .and_then(parse)
            .is_some_and(f64::is_finite),
    }
}

/// Exact powers of ten as floats (10²² is the last one).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// ASCII digits times `10^exp`, correctly rounded (`decimal`'s
/// shortest digits read back, without writing them out as text).
pub(crate) fn digits_value(digits: &[u8], exp: i64) -> f64 {
    value(digits, &[], exp)
}

/// The digits `int` then `frac` (ASCII) times `10^exp`, correctly rounded.
fn value(int: &[u8], frac: &[u8], exp: i64) -> f64 {
    let all = || int.iter().chain(frac.iter());
    let total = int.len() + frac.len();
    let leading = all().take_while(|&&d| d == b'0').count();
    if leading == total {
        return 0.0;
    }
    let trailing = all().rev().take_while(|&&d| d == b'0').count();
    let n = total - leading - trailing;
    let exp = exp.saturating_add(i64::try_from(trailing).unwrap_or(0));
    let point = i64::try_from(n).unwrap_or(i64::MAX).saturating_add(exp);
    // 0.d₁d₂… × 10^point: at least 10^309 overflows, below 10^-324 is zero.
    if point > 310 {
        return f64::INFINITY;
    }
    if point < -323 {
        return 0.0;
    }
    let digits = all().skip(leading).take(n);
    if n <= 19 {
        let w = digits.fold(0u64, |w, d| w * 10 + u64::from(d - b'0'));
        if let Some(x) = small(w, exp) {
            return x;
        }
        return big(Big::from_u64(w), exp);
    }
    let mut kept = Big::default();
    let mut chunk = 0u32;
    let mut chunk_len = 0;
    let mut exp = exp;
    for (taken, d) in digits.enumerate() {
        if taken == MAX_DIGITS {
            // The rest is not all zeros (trailing zeros were cut): one more
            // digit 1 stands for it.
            chunk = chunk * 10 + 1;
            chunk_len += 1;
            exp = exp.saturating_add(i64::try_from(n - MAX_DIGITS).unwrap_or(0) - 1);
            break;
        }
        chunk = chunk * 10 + u32::from(d - b'0');
        chunk_len += 1;
        if chunk_len == 9 {
            kept.mul_add(1_000_000_000, chunk);
            chunk = 0;
            chunk_len = 0;
        }
    }
    if chunk_len > 0 {
        kept.mul_add(10u32.pow(chunk_len), chunk);
    }
    big(kept, exp)
}

/// Significant digits kept exactly (the rest stands as one digit 1).
const MAX_DIGITS: usize = 800;

/// `w × 10^exp` by the fast paths, or `None`.
fn small(w: u64, exp: i64) -> Option<f64> {
    const EXACT: u64 = 1 << 53;
    let pow10 = |e: i64| usize::try_from(e).ok().and_then(|e| POW10.get(e)).copied();
    if w <= EXACT {
        if (0..=22).contains(&exp) {
            return Some(w as f64 * pow10(exp)?);
        }
        if (-22..0).contains(&exp) {
            return Some(w as f64 / pow10(-exp)?);
        }
        if (23..=22 + 15).contains(&exp) {
            // "Disguised" fast path: w × 10^(exp-22) still exact.
            let scaled = w.checked_mul(10u64.pow(u32::try_from(exp - 22).ok()?))?;
            if scaled <= EXACT {
                return Some(scaled as f64 * 1e22);
            }
        }
    }
    if (-27..0).contains(&exp) {
        // w / 5^m × 2^-m, 5^27 < 2^63.
        let m = u32::try_from(-exp).ok()?;
        let den = u128::from(5u64.pow(m));
        let num = u128::from(w);
        let d = bit_len128(num) - bit_len128(den);
        let k = 53 - d;
        let (num, den) = if k >= 0 { (num << k, den) } else { (num, den << -k) };
        // The quotient (< 2^54) from floats, off by a few units at most,
        // then made exact by multiplying back (no 128-bit division).
        let mut q = u64::try_from(((num as f64) / (den as f64)) as u128).ok()?;
        let mut product = u128::from(q) * den;
        while product > num {
            q -= 1;
            product -= den;
        }
        while num - product >= den {
            q += 1;
            product += den;
        }
        let rem = num - product;
        return Some(finish(q, (rem << 1).cmp(&den), rem == 0, i64::from(k) + i64::from(m)));
    }
    None
}

fn bit_len128(x: u128) -> i32 {
    128 - x.leading_zeros() as i32
}

/// `q × 2^-s` rounded to 53 bits, where `q < 2^54` is a quotient whose
/// remainder compares with half the divisor as `half` (and is zero or not).
/// `q ≥ 2^52`, or `s` is at its floor 1074 (subnormals).
fn finish(q: u64, half: Ordering, zero: bool, s: i64) -> f64 {
    let (mut q, mut s) = (q, s);
    let up = if q >= 1 << 53 {
        let half_bit = q & 1 == 1;
        q >>= 1;
        s -= 1;
        half_bit && (!zero || q & 1 == 1)
    } else {
        half == Ordering::Greater || (half == Ordering::Equal && q & 1 == 1)
    };
    q += u64::from(up);
    if q == 1 << 53 {
        q >>= 1;
        s -= 1;
    }
    let biased = 1074 - s;
    if biased >= 2046 {
        return f64::INFINITY;
    }
    // q carries the implicit bit: it adds one to the exponent field
    // (and a subnormal, s = 1074, is q itself).
    u64::try_from(biased).map_or(0.0, |b| f64::from_bits((b << 52) + q))
}

/// `digits × 10^exp` exactly: `a / b` with `a`, `b` big integers.
#[inline(never)]
fn big(digits: Big, exp: i64) -> f64 {
    let (mut a, mut b) = (digits, Big::from_u64(1));
    let scale = |x: &mut Big, e: i64| {
        for _ in 0..e / 9 {
            x.mul_add(1_000_000_000, 0);
        }
        x.mul_add(10u32.pow(u32::try_from(e % 9).unwrap_or(0)), 0);
    };
    if exp >= 0 {
        scale(&mut a, exp);
    } else {
        scale(&mut b, -exp);
    }
    // a·2^k / b in [2^52, 2^54), or k at its subnormal ceiling.
    let d = a.bit_len() - b.bit_len();
    let k = (53 - d).min(1074);
    if k >= 0 {
        a.shl(k.unsigned_abs());
    } else {
        b.shl(k.unsigned_abs());
    }
    let mut t = b.clone();
    t.shl(53);
    let mut q = 0u64;
    for bit in (0..54).rev() {
        if a.compare(&t) != Ordering::Less {
            a.sub(&t);
            q |= 1 << bit;
        }
        t.shr1();
    }
    let zero = a.0.is_empty();
    a.shl(1);
    finish(q, a.compare(&b), zero, k)
}

/// A non-negative big integer, 32-bit limbs, least significant first, no
/// zero limb at the top (zero is no limbs).
#[derive(Clone, Default)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(x: u64) -> Big {
        let mut big = Big(vec![x as u32, (x >> 32) as u32]);
        big.trim();
        big
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// `self × m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn bit_len(&self) -> i64 {
        self.0.last().map_or(0, |top| {
            i64::try_from(self.0.len() * 32).unwrap_or(i64::MAX) - i64::from(top.leading_zeros())
        })
    }

    fn shl(&mut self, bits: u64) {
        let limbs = usize::try_from(bits / 32).unwrap_or(0);
        let rest = (bits % 32) as u32;
        if rest > 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = (*limb << rest) | carry;
                carry = *limb >> (32 - rest);
                *limb = v;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        if limbs > 0 && !self.0.is_empty() {
            let mut shifted = vec![0; limbs];
            shifted.append(&mut self.0);
            self.0 = shifted;
        }
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.0.iter_mut().rev() {
            let v = (*limb >> 1) | carry;
            carry = *limb << 31;
            *limb = v;
        }
        self.trim();
    }

    fn compare(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self - other`, `other ≤ self`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = false;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let o = other.0.get(i).copied().unwrap_or(0);
            if o == 0 && !borrow && i >= other.0.len() {
                break;
            }
            let (v, b1) = limb.overflowing_sub(o);
            let (v, b2) = v.overflowing_sub(u32::from(borrow));
            *limb = v;
            borrow = b1 || b2;
        }
        self.trim();
    }
}

#[cfg(test)]
#[path = "float_parse_tests.rs"]
mod tests;
