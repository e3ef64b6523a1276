//! How detection's decayed counts fade, and two decayed counts as one.

use crate::detect::config::DetectionSettings;
use crate::detect::decay;

/// How detection's decayed counts fade (its settings of the same names):
/// merging two of them brings both to one time first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fades {
    /// The limit level and the guests' count fade by `e` per this.
    pub limit_window_secs: u64,
    /// The score memory halves in this.
    pub memory_half_life_secs: u64,
    /// The eviction pressure halves in one correlation window.
    pub window_secs: u64,
}

impl Fades {
    /// Detection's defaults.
    pub const DEFAULT: Fades = Fades {
        limit_window_secs: 600,
        memory_half_life_secs: 1_209_600,
        window_secs: 86_400,
    };

    pub fn of(s: &DetectionSettings) -> Fades {
        Fades {
            limit_window_secs: s.limit_window_secs,
            memory_half_life_secs: s.memory_half_life_secs,
            window_secs: s.window_secs,
        }
    }

    pub(super) fn limit_tau(self) -> f64 {
        self.limit_window_secs.max(1) as f64
    }

    pub(super) fn pressure_tau(self) -> f64 {
        self.window_secs.max(1) as f64 / std::f64::consts::LN_2
    }
}

impl Default for Fades {
    fn default() -> Fades {
        Fades::DEFAULT
    }
}

/// Two decayed counts `(value, at)` as one: both faded to the later `at`
/// and `combine`d.
pub(super) fn decayed(a: (f64, u64), b: (f64, u64), tau: f64, combine: impl Fn(f64, f64) -> f64) -> (f64, u64) {
    let at = a.1.max(b.1);
    let (x, y) = (decay::at(a.0, a.1, at, tau), decay::at(b.0, b.1, at, tau));
    (combine(x, y), at)
}

/// `x − y`, never below zero (decayed counts).
pub(super) fn less(x: f64, y: f64) -> f64 {
    (x - y).max(0.0)
}
