//! Denials that stick: an identity that detection denied (its dynamic
//! limit, its cluster's, or a score at the throttle threshold) stays
//! limited for a cool-down, so a flagged campaign account cannot go on
//! harvesting in the moments a short denial leaves between them.
//!
//! The cool-down grows with the identity's recent denials ("strikes"):
//! `cooldown_secs × 2^(strikes − 1)`, at most `cooldown_max_secs`. Strikes
//! fade (halving every `cooldown_forget_secs` once a cool-down is over), so
//! an identity denied once, long ago, starts again from the shortest
//! cool-down, and one that is never denied again is never limited by it.
//! A request during a cool-down adds no strike: the `Retry-After` given at
//! the denial stays true (nothing the client does meanwhile moves it).
//!
//! Both values live on the identity's own slot record (`COOLDOWN_UNTIL`,
//! `STRIKES`): no shared-data call of its own.

use super::decay;

/// The cool-down settings (`detection.cooldown_*`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// The first denial's cool-down in seconds; 0 turns cool-downs off.
    pub base_secs: u64,
    /// The longest cool-down.
    pub max_secs: u64,
    /// Seconds in which strikes halve once a cool-down is over.
    pub forget_secs: u64,
}

/// An identity's cool-down state: it is denied until `until` (a second
/// since the epoch), and had `strikes` recent denials as of `until`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct State {
    pub until: u64,
    pub strikes: f64,
}

impl State {
    /// Seconds of cool-down left at `now` (`None`: not cooling down).
    pub fn remaining(&self, now: u64) -> Option<u64> {
        self.until.checked_sub(now).filter(|s| *s > 0)
    }

    /// Strikes at `now`: as stored until the cool-down ends, then halving
    /// every `forget_secs`.
    pub fn strikes_at(&self, now: u64, forget_secs: u64) -> f64 {
        let tau = forget_secs.max(1) as f64 / std::f64::consts::LN_2;
        decay::at(self.strikes, self.until, now, tau)
    }

    /// The state after a denial at `now` (one more strike, a cool-down as
    /// long as the strikes say from now). Unchanged when cool-downs are off.
    pub fn strike(&self, now: u64, p: &Policy) -> State {
        if p.base_secs == 0 {
            return *self;
        }
        let strikes = self.strikes_at(now, p.forget_secs) + 1.0;
        let len = (p.base_secs as f64 * crate::mathfn::exp2(strikes - 1.0)).min(p.max_secs.max(p.base_secs) as f64);
        State {
            until: now.saturating_add(len.ceil() as u64),
            strikes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    const P: Policy = Policy {
        base_secs: 600,
        max_secs: 86_400,
        forget_secs: 86_400,
    };

    #[wasm_bindgen_test(unsupported = test)]
    fn repeated_denials_grow_the_cooldown_up_to_its_bound() {
        let mut s = State::default();
        let mut now = 1_000_000;
        let mut lens = Vec::new();
        for _ in 0..12 {
            s = s.strike(now, &P);
            lens.push(s.remaining(now).unwrap());
            now = s.until; // denied again as soon as it is let through
        }
        assert_eq!(&lens[..4], &[600, 1_200, 2_400, 4_800]);
        assert!(lens.windows(2).all(|w| w[1] >= w[0]), "{lens:?}");
        assert_eq!(*lens.last().unwrap(), 86_400, "bounded");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn strikes_fade_so_an_identity_denied_once_recovers() {
        let s = State::default().strike(1_000_000, &P);
        assert_eq!(s.remaining(1_000_599), Some(1));
        assert_eq!(s.remaining(1_000_600), None);
        // A week later the next denial is nearly a first one again.
        let later = s.until + 7 * 86_400;
        assert!(s.strikes_at(later, P.forget_secs) < 0.01);
        let again = s.strike(later, &P).remaining(later).unwrap();
        assert!((600..=610).contains(&again), "{again}");
        let off = Policy { base_secs: 0, ..P };
        assert_eq!(State::default().strike(5, &off), State::default());
    }
}
