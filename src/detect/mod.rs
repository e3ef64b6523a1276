//! Detection: turns one request, its identity and the shared counters into a
//! suspicion score with reason codes, and applies dynamic limits.
//!
//! [`Detector::assess`] takes five steps, each in a file of its own:
//! 1. `content`: what the body says (elicitation phrases, extraction-shaped
//!    parameters) and which template clusters it joins;
//! 2. `cross_account`: the request counts itself in its template clusters
//!    and its address block, and reads back sharing, concentration, harvest,
//!    synchronised rounds and shared infrastructure;
//! 3. `identity_slot`: the identity's own record (cadence, score memory,
//!    limit window) in one read-modify-write, inside which
//! 4. `score` combines the signals with the memory and updates it;
//! 5. `limits`: the dynamic limits of the identity and of its template
//!    cluster.
//!
//! The pieces they use: `normalize` (tokens), `template` (skeleton and
//! SimHash fingerprints), `instruction` (which clusters a request joins:
//! user-turn skeletons, or the system prompt when it carries the
//! instructions), `elicitation` (phrases), `params` (extraction-shaped
//! parameters), `hll` (cardinality sketch), `cadence` (the identity's
//! record), `correlate` (a cluster's record across accounts), `sync`
//! (synchronised rounds across a template's accounts), `slots` (the
//! shared-data tables and their read-modify-write), `config`.
//!
//! Shared-data cost per request: one read-modify-write (a `get` and a `set`)
//! for each of the template prefix slot, the template suffix slot, the
//! address-block slot and the identity slot: at most 8 calls without cas
//! contention, fewer when the body has no user text or the client address is
//! unknown.

pub mod cadence;
pub mod config;
mod content;
pub mod correlate;
mod cross_account;
pub mod elicitation;
pub mod hll;
mod identity_slot;
pub mod instruction;
pub mod limits;
pub mod normalize;
pub mod params;
pub mod score;
pub(crate) mod slots;
pub mod sync;
pub mod template;
#[cfg(test)]
mod tests;

use crate::api::RequestView;
use crate::host::Host;
use crate::identity::Identity;
use crate::request::RequestMeta;
use crate::verdict::ReasonCode;

pub use content::system_fingerprint;
pub use score::ALL_REASONS;

/// Everything detection may look at for one request.
pub struct Observation<'a> {
    pub identity: &'a Identity,
    /// `None` when the body could not be parsed.
    pub view: Option<&'a RequestView>,
    pub meta: &'a RequestMeta,
    /// Seconds since the epoch (the host clock, or the trace's timestamp).
    pub now: f64,
}

/// Detection's answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assessment {
    /// Suspicion in [0, 1].
    pub score: f64,
    /// Most important first.
    pub reasons: Vec<ReasonCode>,
    /// `Some(retry_after_secs)` when a (dynamic) rate limit is exceeded.
    pub rate_limited: Option<u64>,
}

/// Stateless between requests: all state lives in the shared store.
pub struct Detector {
    settings: config::DetectionSettings,
}

impl Detector {
    /// Keys go under `settings.namespace` (the engine copies
    /// `shared_data.namespace` there).
    pub fn new(settings: config::DetectionSettings) -> Detector {
        Detector { settings }
    }

    /// The same, with the shared-data namespace given explicitly.
    pub fn with_namespace(mut settings: config::DetectionSettings, namespace: &str) -> Detector {
        settings.namespace = namespace.to_owned();
        Detector { settings }
    }

    pub fn settings(&self) -> &config::DetectionSettings {
        &self.settings
    }

    /// Scores one request and checks its dynamic limits. The shared-data
    /// calls happen in a fixed order: template slots, address block,
    /// identity. A failed call is counted and scored as if it held nothing.
    pub fn assess(&self, obs: &Observation<'_>, host: &Host<'_>) -> Assessment {
        let s = &self.settings;
        if !s.enabled {
            return Assessment::default();
        }
        let now = if obs.now.is_finite() && obs.now > 0.0 {
            obs.now as u64
        } else {
            0
        };
        let id = obs.identity.hash;
        let slots = slots::Slots::new(host, &s.namespace);

        let content = content::read(obs.view, s);
        let block = obs.identity.client_ip.map(correlate::address_block);
        let across = cross_account::observe(&slots, s, content.owners.as_ref(), id, block, content.long, now);
        let signals = score::Signals {
            share: across.share,
            elicitation: content.elicitation,
            extraction: content.extraction,
            // The identity's slot supplies the cadence.
            cadence: identity_slot::NO_HISTORY,
            infra: across.infra,
            concentration: across.concentration,
            sync: across.sync,
            harvest: across.harvest,
        };
        let scored = identity_slot::score(&slots, s, id, now, content.long, signals);

        let rate_limited = limits::rate_limited(
            s,
            scored.score,
            (scored.limit_count, scored.limit_start),
            across.cluster.map(|c| c.window_requests),
            now,
        );
        let mut reasons = scored.reasons;
        if rate_limited.is_some() {
            reasons.push(score::DYNAMIC_LIMIT);
        }
        Assessment {
            score: scored.score,
            reasons,
            rate_limited,
        }
    }
}
