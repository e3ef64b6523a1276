//! Dynamic limits: the requests an identity, or a template cluster (all its
//! accounts together), may send per limit window shrink as the score grows;
//! over the limit the request is answered 429 with the seconds until the
//! limit lets it through.
//!
//! Counts are decayed (by `e` every `limit_window_secs`, see `decay`), not
//! windows aligned to the clock: with aligned windows every throttled
//! identity and cluster was released at the same second and got a fresh
//! allowance there (twice the limit across a boundary). A decayed count
//! lets about `allowed` requests through at once, then one each time the
//! count has faded below `allowed` again: the same long-run rate, and each
//! identity's release is its own. Every request counts, denied ones too, so
//! a client hammering while limited stays limited; one that waits the
//! `Retry-After` it was given is let through (at the same score).
//!
//! Below `limit_min_score` nothing is limited, so a busy but harmless batch
//! job is never slowed by detection.

use super::decay;

/// Requests allowed per window at `score`: `None` for unlimited.
pub fn allowed(base: u64, score: f64, min_score: f64) -> Option<u64> {
    if base == 0 || !score.is_finite() || score < min_score {
        return None;
    }
    let room = ((1.0 - score) / (1.0 - min_score).max(1e-9)).clamp(0.0, 1.0);
    Some(((base as f64) * room * room).floor().max(1.0) as u64)
}

/// `Some(retry_after_secs)` when a decayed count of `level` requests before
/// this one (time constant `tau_secs`) has used up `allowed`: the seconds
/// until the count, this request included, fades below it.
pub fn wait(level: f64, allowed: u64, tau_secs: f64) -> Option<u64> {
    let allowed = allowed as f64;
    if level < allowed {
        return None;
    }
    decay::secs_until_below(level + 1.0, allowed, tau_secs).map(|s| s.max(1))
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

    /// A client that waits exactly the `Retry-After` it was given is let
    /// through; one that comes back a second earlier is not.
    #[wasm_bindgen_test(unsupported = test)]
    fn retry_after_is_when_the_limit_lets_through() {
        let tau = 600.0;
        for (level, allowed) in [(7.0, 7), (30.5, 7), (1.0, 1), (3.0, 1), (250.0, 240)] {
            let secs = wait(level, allowed, tau).unwrap();
            let later = decay::at(level + 1.0, 0, secs, tau);
            assert_eq!(wait(later, allowed, tau), None, "{level} {allowed}: {secs}");
            let earlier = decay::at(level + 1.0, 0, secs - 1, tau);
            assert!(wait(earlier, allowed, tau).is_some(), "{level} {allowed}: {secs}");
        }
        assert_eq!(wait(6.5, 7, tau), None);
    }
}
