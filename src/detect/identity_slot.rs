//! The third and fourth steps of an assessment: the identity's own slot
//! (cadence, score memory and its limit window) is read, scored against and
//! written back in one read-modify-write, since the score both reads the
//! memory and updates it.

use super::cadence::{Features, Record, WORDS};
use super::config::DetectionSettings;
use super::slots::{Slots, IDENTITY_TABLE};
use super::{limits, score};
use crate::verdict::ReasonCode;

/// The identity's score after this request and its own limit window.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// Suspicion in [0, 1], memory included.
    pub score: f64,
    /// Most important first.
    pub reasons: Vec<ReasonCode>,
    /// Requests of the identity in its limit window, this one included.
    pub limit_count: u64,
    /// Start of that window.
    pub limit_start: u64,
}

/// Cadence of an identity without history: a newcomer, as when its slot
/// cannot be read.
pub const NO_HISTORY: Features = Features {
    regularity: 0.0,
    around_the_clock: 0.0,
    burst: 0.0,
    age_secs: 0,
    memory: 0.0,
    long_volume: 0.0,
};

/// Scores `signals` (their cadence taken from the identity's slot) for
/// `identity` and records the request in the slot. When the slot cannot be
/// updated, scores without history rather than not at all.
pub fn score(
    slots: &Slots<'_>,
    s: &DetectionSettings,
    identity: u64,
    now: u64,
    long: bool,
    signals: score::Signals,
) -> Scored {
    let mut out = Scored {
        score: 0.0,
        reasons: Vec::new(),
        limit_count: 0,
        limit_start: now,
    };
    let result = slots.update::<WORDS>(IDENTITY_TABLE, s.identity_slots, identity, |cur| {
        let stored = cur.map(Record::decode);
        let (base, keep) = match stored {
            Some(r) if r.owner == identity => (r, true),
            Some(r) if !r.yields_to(identity, now) => (Record::fresh(identity, now), false),
            _ => (Record::fresh(identity, now), true),
        };
        let mut rec = base.observe(now, long);
        let signals = score::Signals {
            cadence: rec.features(now, base.memory),
            ..signals
        };
        let (raw, mut reasons) = score::combine(&signals);
        out.score = score::with_memory(raw, &mut reasons, base.memory);
        out.reasons = reasons;
        rec.memory = score::remember(base.memory, raw);
        let limit_start = limits::window_start(now, s.limit_window_secs);
        rec.limit_count = if rec.limit_start == limit_start {
            rec.limit_count.saturating_add(1)
        } else {
            1
        };
        rec.limit_start = limit_start;
        out.limit_count = rec.limit_count;
        out.limit_start = limit_start;
        match (keep, stored) {
            (true, _) | (false, None) => rec.encode(),
            // The incumbent stays: write it back unchanged.
            (false, Some(r)) => r.encode(),
        }
    });
    if result.is_err() {
        // The limit window keeps what the last attempt counted, if any.
        (out.score, out.reasons) = score::combine(&score::Signals {
            cadence: NO_HISTORY,
            ..signals
        });
    }
    out
}
