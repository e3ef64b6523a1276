//! Decayed counts: a number that fades with time, stored as the value (an
//! `f64`'s bits) and the second it was last brought up to date.
//!
//! They replace counts in windows aligned to the clock (which reset for
//! everyone at the same second) and eviction lotteries. Two hosts' decayed
//! counts of the same thing merge by bringing both to the later timestamp
//! and adding them.

/// `value`, counted at `since`, as it stands at `now`, fading by `e` every
/// `tau_secs`. A clock that stepped back (`now < since`) changes nothing.
pub fn at(value: f64, since: u64, now: u64, tau_secs: f64) -> f64 {
    let value = finite(value);
    let dt = now.saturating_sub(since) as f64;
    if tau_secs <= 0.0 {
        return if dt > 0.0 { 0.0 } else { value };
    }
    value * crate::mathfn::exp(-dt / tau_secs)
}

/// The stored bits of a count, read safely: NaN, infinities and negatives
/// read as zero.
pub fn from_bits(bits: u64) -> f64 {
    finite(f64::from_bits(bits))
}

fn finite(x: f64) -> f64 {
    if x.is_finite() && x >= 0.0 {
        x
    } else {
        0.0
    }
}

/// Seconds from now until a count of `level` falls below `limit`, fading by
/// `e` every `tau_secs` (`None` when it already is). Whole seconds, rounded
/// up past the instant, so a count that is checked again after exactly
/// that many seconds is below.
pub fn secs_until_below(level: f64, limit: f64, tau_secs: f64) -> Option<u64> {
    if level.is_nan() || level < limit || limit <= 0.0 {
        return None;
    }
    let t = tau_secs.max(0.0) * crate::mathfn::ln(level / limit);
    Some((t.floor() as u64).saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn fades_by_e_per_tau_and_never_grows_backwards() {
        assert!((at(10.0, 100, 700, 600.0) - 10.0 / std::f64::consts::E).abs() < 1e-9);
        assert_eq!(at(10.0, 700, 100, 600.0), 10.0);
        assert_eq!(at(f64::NAN, 0, 0, 600.0), 0.0);
        assert_eq!(from_bits(u64::MAX), 0.0);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_wait_is_exact_to_the_second() {
        for (level, limit) in [(8.0, 7.0), (20.0, 1.0), (7.0, 7.0), (100.5, 3.0)] {
            let t = secs_until_below(level, limit, 600.0).unwrap();
            assert!(at(level, 0, t, 600.0) < limit, "{level} {limit} {t}");
            assert!(at(level, 0, t - 1, 600.0) >= limit * 0.999, "{level} {limit} {t}");
        }
        assert_eq!(secs_until_below(6.9, 7.0, 600.0), None);
    }
}
