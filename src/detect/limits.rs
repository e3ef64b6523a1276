//! Dynamic limits: the requests an identity, or a template cluster (all its
//! accounts together), may send per window shrink as the score grows; over
//! the limit the request is answered 429 with the seconds left in the window.
//!
//! Below `limit_min_score` nothing is limited, so a busy but harmless batch
//! job is never slowed by detection.

use super::config::DetectionSettings;

/// Start of the limit window of `window_secs` that holds `now`.
pub fn window_start(now: u64, window_secs: u64) -> u64 {
    now - now % window_secs.max(1)
}

/// The request's dynamic limit at `score`: the identity's (`identity`
/// requests in its window that began at `identity_start`) and its template
/// cluster's (`cluster` requests in the current window), whichever asks to
/// wait longer.
pub fn rate_limited(
    s: &DetectionSettings,
    score: f64,
    (identity, identity_start): (u64, u64),
    cluster: Option<u64>,
    now: u64,
) -> Option<u64> {
    let w = s.limit_window_secs;
    let by_identity = check(
        identity,
        s.identity_limit,
        score,
        s.limit_min_score,
        identity_start,
        w,
        now,
    );
    let by_cluster = cluster.and_then(|requests| {
        check(
            requests,
            s.cluster_limit,
            score,
            s.limit_min_score,
            window_start(now, w),
            w,
            now,
        )
    });
    by_identity.max(by_cluster)
}

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
    fn either_the_identity_or_its_cluster_limits() {
        let s = DetectionSettings {
            identity_limit: 10,
            cluster_limit: 100,
            limit_min_score: 0.4,
            limit_window_secs: 600,
            ..DetectionSettings::default()
        };
        assert_eq!(window_start(1_250, 600), 1_200);
        assert_eq!(window_start(1_250, 0), 1_250);
        // Under both limits, and under the score floor whatever the counts.
        assert_eq!(rate_limited(&s, 0.5, (5, 1_200), Some(50), 1_250), None);
        assert_eq!(rate_limited(&s, 0.3, (500, 1_200), Some(5_000), 1_250), None);
        // Either limit alone is enough; the wait runs to the window's end.
        assert_eq!(rate_limited(&s, 0.4, (5, 1_200), Some(101), 1_250), Some(550));
        assert_eq!(rate_limited(&s, 0.4, (11, 1_200), Some(50), 1_250), Some(550));
        assert_eq!(rate_limited(&s, 0.4, (11, 1_200), None, 1_250), Some(550));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn over_the_limit_retries_after_the_window() {
        assert_eq!(check(10, 60, 0.5, 0.4, 600, 600, 700), None);
        assert_eq!(check(61, 60, 0.4, 0.4, 600, 600, 700), Some(500));
        assert_eq!(check(5, 60, 0.99, 0.4, 600, 600, 1199), Some(1));
    }
}
