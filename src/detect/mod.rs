//! Detection: turns one request, its identity and the shared counters into a
//! suspicion score with reason codes, and applies dynamic limits.
//!
//! [`Detector::assess`] takes these steps, each in a file of its own:
//! 1. `content`: what the body says (elicitation phrases, extraction-shaped
//!    parameters) and which template clusters it joins;
//! 2. `identity_slot::locate`: where the identity's record lives, read
//!    first, since an identity the upstream refused (401/403, recorded by
//!    [`Detector::upstream_status`]) counts in no cluster, and an
//!    identity's first request (no record yet: the upstream has not
//!    answered it) reads its clusters without counting in them, and counts
//!    once the upstream accepts it ([`Detector::count_deferred`]);
//! 3. `cross_account`: the request counts itself in its template clusters
//!    and its address block, and reads back sharing, concentration, harvest,
//!    synchronised rounds and shared infrastructure, charged to the identity
//!    by its own part in them;
//! 4. `identity_slot::score`: the identity's own record (cadence, score
//!    memory, its dynamic limit) written back with the cas of step 2,
//!    inside which `score` combines the signals with the memory;
//! 5. `limits`: the dynamic limits of the identity and of its template
//!    cluster, on decayed counts.
//!
//! The pieces they use: `normalize` (tokens), `template` (skeleton and
//! SimHash fingerprints), `instruction` (which clusters a request joins:
//! user-turn skeletons, or the system prompt when it carries the
//! instructions, or the parameter shape of a request for token
//! probabilities), `elicitation` (phrases), `params` (extraction-shaped
//! parameters and probability shapes), `hll` (cardinality sketch), `decay`
//! (decayed counts), `cadence` (the identity's record), `cluster_tokens`
//! (an answer's output tokens charged to its cluster), `cooldown` (denials
//! that stick), `continuation` (tool-loop conversations that grow),
//! `recurrence` (the identity's closed item set), `correlate` (a cluster's
//! record across accounts), `sync` (synchronised rounds across a template's
//! accounts), `slots` (the shared-data tables, keyed placement,
//! read-modify-write), `config`.
//!
//! Shared-data cost per request: one `get` of the identity's first place
//! (and of its second when the first is another identity's), one
//! read-modify-write (a `get` and a `set`) for each of the template prefix
//! slot, the template suffix slot and the address-block slot (and of a
//! cluster's second place when its first is another's), and one `set` of
//! the identity's slot: at most 8 calls without cas contention or a taken
//! first place, fewer when the body has no user text, the client address
//! is unknown, or the upstream refused the identity (an identity's first
//! request only reads its clusters: a `get` each, no `set`; its
//! read-modify-writes follow when the upstream answers 2xx).
//! [`Detector::upstream_status`] costs one `get` per answered request of
//! an identity not yet accepted (the place its decision found it in: two
//! only when it moved since), and a `set` when the status changes;
//! [`Detector::count_deferred`], for an identity's first request answered
//! 2xx, the read-modify-writes its assessment skipped;
//! [`Detector::answered`] the identity's read-modify-write as
//! `upstream_status` reads it, and its template cluster's.

pub mod cadence;
mod cluster_tokens;
pub mod config;
mod content;
pub mod continuation;
pub mod cooldown;
pub mod correlate;
mod cross_account;
pub mod decay;
pub mod elicitation;
pub mod hll;
mod identity_slot;
pub mod instruction;
pub mod limits;
pub mod normalize;
pub mod params;
pub mod recurrence;
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
    /// Set when a dynamic limit is exceeded.
    pub rate_limited: Option<Limited>,
    /// The identity's remembered score after this request: a later request
    /// scores at least [`score::HISTORY_WEIGHT`] times it, faded by the
    /// time passed (`memory_half_life_secs`).
    pub memory: f64,
    /// Set for an identity's first request, which counted in no cluster:
    /// what it would have counted, for [`Detector::count_deferred`] once
    /// the upstream has accepted it.
    pub deferred: Option<Deferred>,
    /// Where the answer's output tokens go ([`Detector::answered`]).
    pub charge: Charge,
}

/// Where the output tokens of an assessed request's answer are charged
/// besides the identity: the template cluster it was judged in (the one
/// whose limit it met). The engine keeps it from the decision to the
/// answer, as it keeps the identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Charge {
    /// The cluster's key (owner hash); `None`: no tracked cluster.
    cluster: Option<u64>,
    /// The identity's own record, as the decision read it, already said
    /// the upstream had accepted it (and held no other host's record): a
    /// 2xx then changes nothing, so [`Detector::upstream_status`] reads
    /// nothing (issue 8: a shared-data read fewer per answered request).
    accepted: bool,
    /// Which of its two places held the identity's own record at the
    /// decision (`identity_slot::place_choice`): the answer reads that one
    /// first (issue 8: a read fewer for an identity in its second place).
    place: u8,
}

/// A first request's part in its clusters, held until the upstream
/// answers: counted on a 2xx, dropped on anything else (a random token's
/// 401, or a request the filter denied itself).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Deferred {
    owners: Option<instruction::Owners>,
    /// The request as it would have counted (`counts` false).
    sender: cross_account::Sender,
}

/// A dynamic limit that was exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    /// When the limit lets the identity through again (the identity's own,
    /// exactly; a cluster's, if its other accounts wait too).
    pub retry_after_secs: u64,
    /// `identity_rate_limit` or `cluster_rate_limit`.
    pub reason: ReasonCode,
}

/// Reason code of an identity's own dynamic limit.
pub const IDENTITY_RATE_LIMIT: ReasonCode = "identity_rate_limit";
/// Reason code of a template cluster's dynamic limit.
pub const CLUSTER_RATE_LIMIT: ReasonCode = "cluster_rate_limit";
/// Reason code of an identity's token budget (output tokens per window).
pub const TOKEN_LIMIT: ReasonCode = "identity_token_limit";
/// Reason code of a template cluster's token budget.
pub const CLUSTER_TOKEN_LIMIT: ReasonCode = "cluster_token_limit";

/// Reason code of a denial that lasts because an earlier one did (the
/// identity's cool-down, `cooldown`).
pub const DENIAL_COOLDOWN: ReasonCode = "denial_cooldown";

/// The limit this request exceeded, if any: the identity's own or its
/// cluster's (whichever waits longer), else a cool-down it is still in.
/// Retry-After is the longest of all that deny it, cool-down included, so
/// it says when the filter will let the identity through.
fn limited(scored: &identity_slot::Scored) -> Option<Limited> {
    let cooling = scored.cooldown.map(|(secs, _)| secs);
    let secs = [
        scored.limited,
        scored.cluster_limited,
        scored.token_limited,
        scored.cluster_token_limited,
        cooling,
    ]
    .into_iter()
    .flatten()
    .max()?;
    // The longest of the limits names the denial (ties: the identity's,
    // then the cluster's, then the token budget); cooling down, or denied
    // by the score alone (the cool-down it started is the wait), says so.
    let reason = [
        (scored.limited, IDENTITY_RATE_LIMIT),
        (scored.cluster_limited, CLUSTER_RATE_LIMIT),
        (scored.token_limited, TOKEN_LIMIT),
        (scored.cluster_token_limited, CLUSTER_TOKEN_LIMIT),
    ]
    .into_iter()
    .filter_map(|(wait, reason)| wait.map(|w| (w, reason)))
    .fold(None, |best: Option<(u64, ReasonCode)>, l| match best {
        Some(b) if b.0 >= l.0 => Some(b),
        _ => Some(l),
    })
    .map_or(DENIAL_COOLDOWN, |(_, reason)| reason);
    Some(Limited {
        retry_after_secs: secs,
        reason,
    })
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
    /// calls happen in a fixed order: identity (read), template slots,
    /// address block, identity (write). A failed call is counted and scored
    /// as if it held nothing.
    pub fn assess(&self, obs: &Observation<'_>, host: &Host<'_>) -> Assessment {
        let s = &self.settings;
        if !s.enabled {
            return Assessment::default();
        }
        let now = secs(obs.now);
        let id = obs.identity.hash;
        let slots = slots::Slots::new(host, &s.namespace, s.slot_key).fading(crate::fleet::merge::Fades::of(s));

        let content = content::read(obs.view, s);
        let evidence = content.long || content.elicitation >= 0.5 || content.extraction >= 0.5;
        let place = identity_slot::locate(&slots, s, id, now, evidence);
        let accepted = identity_slot::accepted(&place, id);
        let block = obs.identity.client_ip.map(correlate::address_block);
        let pending = identity_slot::pending(&place, id);
        let sender = cross_account::Sender {
            identity: id,
            account: obs.identity.organization.unwrap_or(id),
            block,
            long: content.long,
            continuation: identity_slot::continues(&place, id, content.conversation),
            evidence,
            now,
            counts: !pending,
        };
        let across = if identity_slot::refused(&place, id) {
            cross_account::CrossAccount::default()
        } else {
            cross_account::observe(&slots, s, content.owners.as_ref(), sender)
        };
        let deferred = pending.then_some(Deferred {
            owners: content.owners,
            sender,
        });
        let part = identity_slot::Part {
            long: content.long,
            synced: across.synced,
            cluster_sync: across.sync_share,
            conversation: content.conversation,
            text: content.owners.map_or(0, |o| o.text),
            tool_use: content.tool_use,
            whole_account: obs.identity.organization.is_none(),
        };
        let mean_answer = identity_slot::mean_answer(&place, id, s);
        let own = cross_account::Own {
            deterministic: content.deterministic,
            answer_long: cadence::ramp_up(mean_answer / s.long_answer_tokens.max(1) as f64, 0.5, 1.0),
            ..identity_slot::own_shares(&place, id, part)
        };
        let charged = cross_account::charge(across, own);
        let signals = score::Signals {
            share: charged.share,
            elicitation: content.elicitation,
            extraction: content.extraction,
            // The identity's slot supplies the cadence.
            cadence: identity_slot::NO_HISTORY,
            infra: charged.infra,
            concentration: charged.concentration,
            sync: charged.sync,
            harvest: charged.harvest,
        };
        // The cluster's limit counts only identities the upstream has not
        // refused (others never reach the cluster's record), and is charged
        // to this one by its own part (`cross_account::charged_level`).
        let charge = Charge {
            cluster: charged.cluster.filter(|c| c.tracked).map(|c| c.owner),
            accepted,
            place: identity_slot::place_choice(&place),
        };
        let scored = identity_slot::score(&slots, s, place, id, now, part, signals, charged.cluster);
        let rate_limited = limited(&scored);
        let mut reasons = scored.reasons;
        if rate_limited.is_some_and(|l| l.reason != DENIAL_COOLDOWN) {
            reasons.push(score::DYNAMIC_LIMIT);
        }
        Assessment {
            score: scored.score,
            reasons,
            rate_limited,
            memory: scored.memory,
            deferred,
            charge,
        }
    }

    /// Counts a first request in its clusters now that the upstream has
    /// accepted it (`status` 2xx; anything else counts nothing): the
    /// read-modify-writes it skipped, at its own time.
    pub fn count_deferred(&self, identity: &Identity, deferred: Option<Deferred>, status: u16, host: &Host<'_>) {
        let s = &self.settings;
        let Some(d) = deferred.filter(|_| s.enabled && (200..300).contains(&status)) else {
            return;
        };
        let slots = slots::Slots::new(host, &s.namespace, s.slot_key).fading(crate::fleet::merge::Fades::of(s));
        let sender = cross_account::Sender {
            identity: identity.hash,
            counts: true,
            ..d.sender
        };
        cross_account::observe(&slots, s, d.owners.as_ref(), sender);
    }

    /// The upstream's answer to a forwarded request of `identity` (its
    /// `:status`): 401 or 403 mark the identity refused, so it stops counting
    /// in clusters unless a 2xx accepted it before (acceptance is sticky). Never call it for a request this
    /// filter answered itself.
    ///
    /// `charge` is the request's assessment's: when it says the identity
    /// was already accepted, a 2xx is known to change nothing and nothing
    /// is read (acceptance is sticky; the record may have moved on since
    /// only if another request of the identity replaced it, and that
    /// request's own answer marks it).
    pub fn upstream_status(&self, identity: &Identity, charge: Charge, status: u16, now: f64, host: &Host<'_>) {
        let s = &self.settings;
        if !self.reads_status(charge, status) {
            return;
        }
        let slots = slots::Slots::new(host, &s.namespace, s.slot_key).fading(crate::fleet::merge::Fades::of(s));
        identity_slot::upstream_status(&slots, s, identity.hash, charge.place, status, secs(now));
    }

    /// Whether [`Detector::upstream_status`] does anything for this status
    /// of a request assessed with `charge` (not for an accepted identity's
    /// 2xx): the caller reads the clock only then (issue 8: a host call
    /// fewer per answered request of a known identity).
    pub fn reads_status(&self, charge: Charge, status: u16) -> bool {
        self.settings.enabled && !(charge.accepted && (200..300).contains(&status))
    }

    /// The output tokens of the upstream's answer to a forwarded request of
    /// `identity` (read by the response meter): they count in its token
    /// budget, and in its template cluster's (`charge`, from the request's
    /// assessment). Never call it for a request this filter answered
    /// itself.
    pub fn answered(&self, identity: &Identity, charge: Charge, output_tokens: u64, now: f64, host: &Host<'_>) {
        let s = &self.settings;
        if !s.enabled || output_tokens == 0 {
            return;
        }
        let slots = slots::Slots::new(host, &s.namespace, s.slot_key).fading(crate::fleet::merge::Fades::of(s));
        identity_slot::answered(&slots, s, identity.hash, charge.place, output_tokens, secs(now));
        if let Some(owner) = charge.cluster {
            cluster_tokens::charge(&slots, s, owner, output_tokens, secs(now));
        }
    }

    /// Seconds until a remembered score of `memory` no longer scores a
    /// request at `threshold` or above by itself (`None`: it already does
    /// not).
    pub fn memory_release_secs(&self, memory: f64, threshold: f64) -> Option<u64> {
        let tau = self.settings.memory_half_life_secs as f64 / std::f64::consts::LN_2;
        decay::secs_until_below(score::HISTORY_WEIGHT * memory, threshold, tau)
    }
}

/// Whole seconds since the epoch of a clock reading (0 for nonsense).
fn secs(now: f64) -> u64 {
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}
