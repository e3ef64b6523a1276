//! Dynamic limits: the requests an identity, or a template cluster (all its
//! accounts together), may send per window shrink as the score grows; over
//! the limit the request is answered 429 with the seconds left in the window.
//!
//! Below `limit_min_score` nothing is limited, so a busy but harmless batch
//! job is never slowed by detection.

/// Requests allowed per window at `score`: `None` for unlimited.
pub fn allowed(base: u64, score: f64, min_score: f64) -> Option<u64> {
    if base == 0 || !score.is_finite() || score < min_score {
        return None;
    }
    let room = ((1.0 - score) / (1.0 - min_score).max(1e-9)).clamp(0.0, 1.0);
    Some(((base as f64) * room * room).floor().max(1.0) as u64)
}

/// `Some(retry_after_secs)` when `count` requests in the window that began
/// at `window_start` exceed what `score` allows.
pub fn check(
    count: u64,
    base: u64,
    score: f64,
    min_score: f64,
    window_start: u64,
    window_secs: u64,
    now: u64,
) -> Option<u64> {
    let limit = allowed(base, score, min_score)?;
    if count > limit {
        Some((window_start + window_secs).saturating_sub(now).max(1))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn limits_shrink_as_score_grows() {
        assert_eq!(allowed(60, 0.3, 0.4), None);
        assert_eq!(allowed(0, 0.9, 0.4), None);
        let (a, b, c) = (
            allowed(60, 0.4, 0.4).unwrap(),
            allowed(60, 0.6, 0.4).unwrap(),
            allowed(60, 0.95, 0.4).unwrap(),
        );
        assert_eq!(a, 60);
        assert!(a > b && b > c && c >= 1, "{a} {b} {c}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn over_the_limit_retries_after_the_window() {
        assert_eq!(check(10, 60, 0.5, 0.4, 600, 600, 700), None);
        assert_eq!(check(61, 60, 0.4, 0.4, 600, 600, 700), Some(500));
        assert_eq!(check(5, 60, 0.99, 0.4, 600, 600, 1199), Some(1));
    }
}
