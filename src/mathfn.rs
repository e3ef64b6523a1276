//! `ln` and `exp` for detection, the same bits on every target.
//!
//! `f64::ln` and `f64::exp` call the platform's libm: glibc's in the native
//! tool (`replay`, `fleet-sync`), wasi-libc's in the Envoy module, Rust's
//! own on wasm32-unknown-unknown. They round differently in the last bit,
//! measured on a million random inputs in 0..50: glibc against the `libm`
//! crate ln 4.6% and exp 9.8% of them, and wasi-libc differs from glibc too.
//! A decision compares decayed counts, scores and estimates with thresholds,
//! so a last-bit difference could flip one, and `replay` would not say what
//! the proxy does. The `libm` crate is plain Rust: the same code, the same
//! bits, wherever it is compiled.

/// The natural logarithm.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// 2^x, for a cool-down's growth (`x` ≥ 0 there): exact at whole numbers,
/// as every libm's `exp2` is, and between them 2^⌊x⌋ (exact) times
/// `exp(f ln 2)` for the fraction f, within 2 ulp of `f64::exp2`. It is
/// not `f64::exp2` because that is wasi-libc's in the module, which brings
/// a 2 KB table (`__exp_data`) for this one caller, and the platform's
/// bits, not the same ones everywhere. A cool-down is the ceiling of
/// `cooldown_secs` × this in seconds, which a last-bit difference moves
/// only if the exact value lay within an ulp of a whole second: at a
/// fraction f ≠ 0, 2^f is irrational, and the test below finds no second
/// moved over a million draws.
pub fn exp2(x: f64) -> f64 {
    let k = x.floor();
    if !(-1022.0..1024.0).contains(&k) {
        // Beyond the normal exponents (NaN falls through as itself): not
        // reached by cool-downs, whose x is a count of recent denials.
        return if x > 0.0 {
            f64::INFINITY
        } else if x < 0.0 {
            exp(x * std::f64::consts::LN_2)
        } else {
            x
        };
    }
    let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
    let f = x - k;
    if f == 0.0 {
        scale
    } else {
        scale * exp(f * std::f64::consts::LN_2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Values where glibc's libm (the native tool's before) rounds the other
    /// way: pinned, so these tests fail natively, under wasm or both if
    /// `ln`/`exp` ever go back to a platform's libm.
    #[wasm_bindgen_test(unsupported = test)]
    fn the_same_bits_on_every_target() {
        let ln_cases = [
            (64.0 / 35.0, 0x3fe3_5028_ad9d_8c86_u64), // linear counting, 35 empty registers of 64
            (64.0 / 40.0, 0x3fde_148a_1a27_26ce),
            (64.0 / 48.0, 0x3fd2_6962_1134_db92),
            (16.0 / 13.0, 0x3fca_93ed_3c8a_d9e6),
        ];
        for (x, bits) in ln_cases {
            assert_eq!(ln(x).to_bits(), bits, "ln({x:?})");
        }
        let exp_cases = [
            (-24.029_393_702_474_59, 0x3dc4_2721_ffb0_b3b0_u64),
            (-29.504_483_359_709_603, 0x3d45_9db2_aa50_5a24),
            (-30.239_013_638_807_133, 0x3d34_bd5e_bb99_0dd4),
            (-2.949_764_831_102_652_5, 0x3faa_cde2_29c5_e6f0),
        ];
        for (x, bits) in exp_cases {
            assert_eq!(exp(x).to_bits(), bits, "exp({x:?})");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn close_to_std_everywhere() {
        let mut draws = crate::hash::TestDraws(7);
        for _ in 0..100_000 {
            let x = (draws.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 50.0;
            let (a, b) = (ln(x.max(f64::MIN_POSITIVE)), x.max(f64::MIN_POSITIVE).ln());
            assert!((a - b).abs() <= b.abs() * 4.0 * f64::EPSILON, "ln({x})");
            let (a, b) = (exp(-x), (-x).exp());
            assert!((a - b).abs() <= b * 4.0 * f64::EPSILON, "exp(-{x})");
        }
    }

    /// Whole powers exactly as `f64::exp2` (a first strike's 2^0, strikes
    /// that have not begun to fade), the edges and NaN as it.
    #[wasm_bindgen_test(unsupported = test)]
    fn exp2_is_exact_at_whole_numbers() {
        for k in -1022..=1100 {
            let x = f64::from(k);
            assert_eq!(exp2(x).to_bits(), x.exp2().to_bits(), "2^{k}");
        }
        for x in [f64::INFINITY, f64::NEG_INFINITY, 1e300, 1_023.999_999_999_999_9] {
            assert_eq!(exp2(x).to_bits(), x.exp2().to_bits(), "2^{x}");
        }
        assert!(exp2(f64::NAN).is_nan());
    }

    /// Between whole numbers within 2 ulp of `f64::exp2` (the platform's:
    /// glibc natively, wasi-libc under wasm), and the cool-down it gives,
    /// `ceil(min(base × 2^x, max))` seconds, the same for every base tried.
    #[wasm_bindgen_test(unsupported = test)]
    fn exp2_gives_the_same_cooldown_seconds_as_std() {
        let mut draws = crate::hash::TestDraws(11);
        let (mut same_bits, n) = (0, 1_000_000);
        for i in 0..n {
            // Strikes as decay leaves them: a few, fading, some tiny.
            let x = (draws.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * if i % 4 == 0 { 1.0 } else { 24.0 };
            let (a, b) = (exp2(x), x.exp2());
            assert!((a - b).abs() <= b * 2.0 * f64::EPSILON, "2^{x}: {a} against {b}");
            same_bits += usize::from(a.to_bits() == b.to_bits());
            for base in [1u64, 7, 30, 60, 300, 3_600] {
                let max = (base * 64) as f64;
                let secs = |p: f64| ((base as f64 * p).min(max).ceil()) as u64;
                assert_eq!(secs(a), secs(b), "base {base}, 2^{x}");
            }
        }
        // Most draws agree in every bit too (not required; a drop says the
        // formula got worse).
        assert!(same_bits * 2 > n, "{same_bits} of {n}");
    }
}
