//! The identity's own slot (cadence, score memory, its dynamic limit,
//! whether the upstream ever served it, its own shares of the cluster evidence). It is
//! read first ([`locate`]: the assessment must know whether the upstream
//! refused this identity before counting it in any cluster), then scored
//! against and written back ([`score`]) once the clusters have spoken,
//! with the cas token of that first read: one `get` and one `set`.
//!
//! Where an identity lives: its first place, or its second when the first
//! is held by another identity (two-choice hashing, keyed with the
//! deployment's secret); when both are held and neither incumbent yields,
//! it is a guest of the first, with a limit of its own (the guests' decayed
//! count) and no memory (scored from a fresh record). An incumbent that has
//! shown some suspicion ([`KEEP_SCORE`]) yields only to a newcomer whose
//! request carries evidence, however idle it is (until stale).

use super::cadence::{combine_upstream, Features, Record, ACCEPTED, REFUSED, WORDS};
use super::config::DetectionSettings;
use super::correlate::ClusterView;
use super::cross_account::{self, Own};
use super::slots::{Read, Slots, IDENTITY_TABLE};
use super::{continuation, limits, score};
use crate::store::counters::UpdateError;
use crate::verdict::ReasonCode;

/// The identity's score after this request and its own dynamic limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// Suspicion in [0, 1], memory included.
    pub score: f64,
    /// Most important first.
    pub reasons: Vec<ReasonCode>,
    /// `Some(retry_after_secs)` when the identity's dynamic limit is used up.
    pub limited: Option<u64>,
    /// `Some(retry_after_secs)` when its template cluster's limit is.
    pub cluster_limited: Option<u64>,
    /// Seconds of denial cool-down left after this request, and whether
    /// the identity was cooling down already when it arrived (`false`:
    /// this request's denial started it).
    pub cooldown: Option<(u64, bool)>,
    /// `Some(retry_after_secs)` when its token budget is used up.
    pub token_limited: Option<u64>,
    /// `Some(retry_after_secs)` when its template cluster's token budget is.
    pub cluster_token_limited: Option<u64>,
    /// The remembered score after this request (what it leaves behind).
    pub memory: f64,
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

/// How the identity's slot was found.
pub enum Place {
    /// Its own record (or a free place for it).
    Home(Read<WORDS>),
    /// Both places held: a guest of the first.
    Guest(Read<WORDS>),
    /// The slot could not be read (counted): scored without history.
    Unreadable,
}

/// Where `identity` lives, read ahead of the assessment: at most two `get`s
/// (the second only when its first place holds another identity).
/// Remembered score from which an incumbent keeps its place against a
/// newcomer whose request carries no evidence of its own (no long output,
/// reasoning or extraction asked for), however idle it is (until stale).
/// An eviction flood of accepted keys sending harmless text (at table
/// scale, two keys per identity slot) otherwise took the places of a
/// campaign's accounts whenever they were idle for a few minutes, and each
/// came back with a fresh record: no cadence, no memory. A flood that asks
/// for long outputs or reasoning to take places makes its own keys evidence.
pub const KEEP_SCORE: f64 = 0.1;

/// `evidence`: the newcomer's request asks for a long output, reasoning or
/// extraction ([`KEEP_SCORE`]).
pub fn locate(slots: &Slots<'_>, s: &DetectionSettings, identity: u64, now: u64, evidence: bool) -> Place {
    let (hl, tau) = fades(s);
    let yields = |r: &Record| {
        r.yields_to(identity, now, hl, tau)
            && (evidence
                || now.saturating_sub(r.last_seen) > super::cadence::STALE_SECS
                || r.memory_at(now, hl) < KEEP_SCORE)
    };
    let stored = |r: &Read<WORDS>| r.words.as_ref().map(Record::decode);
    let Ok(first) = slots.read::<WORDS>(IDENTITY_TABLE, s.identity_slots, identity, 0) else {
        return Place::Unreadable;
    };
    // A first place that was never written: the identity never moved on
    // (places are only ever taken over, never emptied).
    let a = match stored(&first) {
        None => return Place::Home(first),
        Some(r) if r.owner == identity => return Place::Home(first),
        Some(r) => r,
    };
    let Ok(second) = slots.read::<WORDS>(IDENTITY_TABLE, s.identity_slots, identity, 1) else {
        return Place::Unreadable;
    };
    // When both incumbents would yield, the one with less history goes (a
    // one-off token before an account with a past): taking the first
    // place whenever it yielded let a flood of fresh identities wipe
    // campaign accounts idle for a few minutes while one-offs held their
    // other place.
    let first_yields = yields(&a);
    match stored(&second) {
        None => Place::Home(second),
        Some(b) if b.owner == identity => Place::Home(second),
        Some(b) if yields(&b) && (!first_yields || b.count < a.count) => Place::Home(second),
        _ if first_yields => Place::Home(first),
        _ => Place::Guest(first),
    }
}

/// This identity's own record says the upstream has accepted it (for
/// good: acceptance is sticky), read from this host's record alone (a
/// value that also holds the fleet's is judged merged, and a sync may
/// change that part before the answer comes).
pub fn accepted(place: &Place, identity: u64) -> bool {
    match place {
        Place::Home(read) if !read.merged() => read
            .words
            .as_ref()
            .map(Record::decode)
            .is_some_and(|r| r.owner == identity && r.upstream & 3 == ACCEPTED),
        _ => false,
    }
}

/// The upstream refused this identity and never served it: it counts in no
/// cluster.
pub fn refused(place: &Place, identity: u64) -> bool {
    match place {
        Place::Home(read) => read
            .words
            .as_ref()
            .map(Record::decode)
            .is_some_and(|r| r.owner == identity && r.refused()),
        _ => false,
    }
}

/// The identity's first request as far as the filter knows (its own place
/// holds no record of it yet): the upstream has not answered it, so it
/// cannot tell a real key from a random token. Such a request reads its
/// clusters but counts in none; from its second request on, an identity
/// the upstream refused counts nowhere ([`refused`]) and any other does.
/// A guest or an unreadable slot cannot tell, and counts as before.
pub fn pending(place: &Place, identity: u64) -> bool {
    match place {
        Place::Home(read) => !read
            .words
            .as_ref()
            .map(Record::decode)
            .is_some_and(|r| r.owner == identity && r.count > 0),
        _ => false,
    }
}

/// The identity's own part in its clusters' evidence: shares of its
/// requests that ask for long outputs, that arrive in crowded minutes and
/// that continue its own tool loops (this request included), from its
/// record.
pub fn own_shares(place: &Place, identity: u64, part: Part) -> Own {
    let r = match place {
        Place::Home(read) => read.words.as_ref().map(Record::decode).filter(|r| r.owner == identity),
        _ => None,
    };
    own_shares_of(&r.unwrap_or_default(), part)
}

/// The identity's recent output tokens per request (its decayed token
/// count over its decayed request count: both fade alike, so the ratio is a
/// recent mean), 0 without a record.
pub fn mean_answer(place: &Place, identity: u64, s: &DetectionSettings) -> f64 {
    let Place::Home(read) = place else {
        return 0.0;
    };
    let Some(r) = read.words.as_ref().map(Record::decode).filter(|r| r.owner == identity) else {
        return 0.0;
    };
    let (_, tau) = fades(s);
    let at = r.last_seen.max(r.tokens_at);
    let level = r.level_at(at, tau);
    if level > 0.0 {
        r.tokens_at_time(at, tau) / level
    } else {
        0.0
    }
}

/// This request (conversation key `conversation`) continues the
/// identity's own conversation, by its record.
pub fn continues(place: &Place, identity: u64, conversation: u64) -> bool {
    match place {
        Place::Home(read) => read
            .words
            .as_ref()
            .map(Record::decode)
            .is_some_and(|r| r.owner == identity && continuation::continues(r.conversation, conversation)),
        _ => false,
    }
}

/// What one request adds to the identity's own shares.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Part {
    /// It asked for a long output.
    pub long: bool,
    /// It arrived in a crowded minute of its template.
    pub synced: bool,
    /// Its template's share of requests in crowded minutes: where a
    /// newcomer's own share starts (it has no history of its own yet).
    pub cluster_sync: f64,
    /// Its conversation key when it carries tool results
    /// (`continuation::key`, 0: none).
    pub conversation: u64,
    /// Hash of its user turn (0: none), for the identity's texts sketch.
    pub text: u64,
    /// It offers the model tools or carries tool results (an agent's call).
    pub tool_use: bool,
    /// The identity is its whole account in clusters (the request names no
    /// organisation): its own requests are its account's part in them, and
    /// the cluster limit is charged by that part; otherwise in full.
    pub whole_account: bool,
}

fn ewma(prior: f64, x: f64) -> f64 {
    prior + super::cadence::OWN_ALPHA * (x - prior)
}

/// How the identity's memory (half-life) and its requests (time constant
/// of the limit) fade, in seconds.
fn fades(s: &DetectionSettings) -> (f64, f64) {
    (s.memory_half_life_secs as f64, s.limit_window_secs.max(1) as f64)
}

/// Share of an identity's requests continuing its own tool loops from
/// which none of its requests meets a token budget: an agent's user, whose
/// one-shot requests start its tasks.
pub const TOOL_LOOP_SHARE: f64 = 0.5;

/// Scores `signals` (their cadence taken from the identity's record) for
/// `identity`, checks its dynamic limit and writes the record back to where
/// [`locate`] found it. When the slot cannot be written, scores without
/// history rather than not at all.
/// `cluster` is the template cluster with a limit (`None`: none): its
/// decayed counts of requests and of output tokens before this one, each
/// charged to the identity by its own part in the cluster's requests
/// ([`cross_account::charged_level`]), are checked against its limits at
/// the identity's score. An agent's call (a request that offers tools or
/// carries tool results), and any request of an identity whose requests
/// mostly continue its own tool loops ([`TOOL_LOOP_SHARE`]), meets no token
/// budget: a coding agent's steps each take long answers, and the next
/// step of a task under way is no new harvest (measured: a third of an
/// agent product's users were denied after one long first answer). A
/// campaign that offers made-up tools escapes the token budgets, not the
/// request limits or the score. A denial by a limit or by
/// the score (`deny_score`) starts a cool-down ([`super::cooldown`]) on the
/// identity's record.
#[allow(clippy::too_many_arguments)]
pub fn score(
    slots: &Slots<'_>,
    s: &DetectionSettings,
    place: Place,
    identity: u64,
    now: u64,
    part: Part,
    signals: score::Signals,
    cluster: Option<ClusterView>,
) -> Scored {
    let (hl, tau) = fades(s);
    let mut out = Scored {
        score: 0.0,
        reasons: Vec::new(),
        limited: None,
        cluster_limited: None,
        cooldown: None,
        token_limited: None,
        cluster_token_limited: None,
        memory: 0.0,
    };
    // The record after this request and the identity's score, from its
    // record before and its recent requests (`level`); `own`: its requests
    // over the cluster's span (`None`: no record of its own).
    let judge = |base: &Record, level: f64, own: Option<f64>| {
        let cluster_level = cluster.map(|c| cross_account::charged_level(&c, own));
        // The cluster's tokens charged by the same part as its requests.
        let cluster_tokens = cluster.map(|c| {
            let tokens = ClusterView {
                limit_level: c.token_level,
                ..c
            };
            cross_account::charged_level(&tokens, own)
        });
        let rec = base.observe(now, part.long);
        let prior = base.memory_at(now, hl);
        let signals = score::Signals {
            cadence: rec.features(now, prior),
            ..signals
        };
        let (raw, mut reasons) = score::combine(&signals);
        let score = score::with_memory(raw, &mut reasons, prior);
        let limit = |base: u64, level: f64| {
            limits::allowed(base, score, s.limit_min_score).and_then(|allowed| limits::wait(level, allowed, tau))
        };
        let budget = |limit: u64, tokens: f64| {
            if part.tool_use || base.own_cont >= TOOL_LOOP_SHARE {
                return None;
            }
            limits::allowed(limit, score, s.limit_min_score).and_then(|allowed| limits::wait(tokens, allowed, tau))
        };
        let scored = Scored {
            score,
            reasons,
            limited: limit(s.identity_limit, level),
            cluster_limited: cluster_level.and_then(|l| limit(s.cluster_limit, l)),
            cooldown: None,
            token_limited: budget(s.token_limit, base.tokens_at_time(now, tau)),
            cluster_token_limited: cluster_tokens.and_then(|t| budget(s.cluster_token_limit, t)),
            memory: score::remember(prior, raw),
        };
        (rec, scored)
    };
    let result = match place {
        Place::Home(read) => slots.write(read, |cur| {
            let base = match cur.map(Record::decode) {
                Some(r) if r.owner == identity => r,
                _ => Record::fresh(identity, now),
            };
            let level = base.level_at(now, tau);
            let own = cluster
                .filter(|_| part.whole_account)
                .map(|c| own_requests(&base, now, c.span_secs));
            let (mut rec, mut scored) = judge(&base, level, own);
            rec.level = level + 1.0;
            rec.memory = scored.memory;
            let own = own_shares_of(&base, part);
            (rec.own_long, rec.own_sync, rec.own_cont) = (own.long, own.sync, own.cont);
            rec.texts = texts_after(&base, part);
            rec.conversation = continuation::remember(base.conversation, part.conversation);
            let denied = scored.limited.is_some()
                || scored.cluster_limited.is_some()
                || scored.token_limited.is_some()
                || scored.cluster_token_limited.is_some()
                || scored.score >= s.deny_score;
            // A cool-down holds while the identity is still suspicious (in
            // the limited band); one whose score fell below it is through.
            scored.cooldown = match base.cooldown.remaining(now) {
                Some(left) if scored.score >= s.limit_min_score => Some((left, true)),
                Some(_) => None,
                None if denied => {
                    rec.cooldown = base.cooldown.strike(now, &s.cooldown);
                    rec.cooldown.remaining(now).map(|left| (left, false))
                }
                None => None,
            };
            out = scored;
            rec.encode()
        }),
        Place::Guest(read) => slots.write(read, |cur| {
            // A guest has no record of its own: no memory, no cool-down.
            let host = cur.map(Record::decode).unwrap_or_default();
            out = judge(&Record::fresh(identity, now), host.guests_at_time(now, tau), None).1;
            host.host_guest(now, tau).encode()
        }),
        Place::Unreadable => Err(UpdateError::GaveUp),
    };
    if result.is_err() {
        (out.score, out.reasons) = score::combine(&score::Signals {
            cadence: NO_HISTORY,
            ..signals
        });
    }
    out
}

/// The identity's requests (this one included) over the last `span_secs`:
/// all of them when it is younger than that, else its average rate over
/// its life times the span.
fn own_requests(base: &Record, now: u64, span_secs: u64) -> f64 {
    let n = base.count as f64 + 1.0;
    let age = now.saturating_sub(base.first_seen).max(1) as f64;
    n * (span_secs as f64 / age).min(1.0)
}

/// The identity's texts sketch with this request's text in it.
fn texts_after(base: &Record, part: Part) -> super::recurrence::Texts {
    if part.text == 0 {
        base.texts
    } else {
        base.texts.with_text(part.text)
    }
}

fn own_shares_of(base: &Record, part: Part) -> Own {
    let now = |x: bool| if x { 1.0 } else { 0.0 };
    let closed = texts_after(base, part).strength();
    let continued = now(continuation::continues(base.conversation, part.conversation));
    if base.count == 0 {
        Own {
            long: now(part.long),
            sync: ewma(part.cluster_sync.clamp(0.0, 1.0), now(part.synced)),
            cont: continued,
            closed,
            deterministic: false,
            answer_long: 0.0,
        }
    } else {
        Own {
            long: ewma(base.own_long, now(part.long)),
            sync: ewma(base.own_sync, now(part.synced)),
            cont: ewma(base.own_cont, continued),
            closed,
            deterministic: false,
            answer_long: 0.0,
        }
    }
}

/// Which of its two places held the identity's own record when the
/// decision read it (`locate`): where the answer looks first. 0 when it
/// was a guest or its slot unreadable (the answer then looks as before).
pub fn place_choice(place: &Place) -> u8 {
    match place {
        Place::Home(read) => read.choice,
        _ => 0,
    }
}

/// The identity's own record, looked for as [`locate`] found it: its
/// first place, then its second when the first holds another identity;
/// `None` when neither holds it (never written, or taken over), or on a
/// read error (counted). `hint` is the place the decision found it in
/// ([`place_choice`]): an identity in its second place is read there
/// first, a `get` fewer (issue 8). An identity stays in its second place
/// for as long as it owns it (`locate` never moves it to its first while
/// it does), so the first place would only have said "another's"; if the
/// second no longer holds it, the search starts over from the first
/// place, exactly as without the hint.
fn own_record(slots: &Slots<'_>, s: &DetectionSettings, identity: u64, hint: u8) -> Option<Read<WORDS>> {
    let owned = |read: &Read<WORDS>| read.words.as_ref().map(Record::decode).map(|r| r.owner == identity);
    if hint == 1 {
        let read = slots
            .read::<WORDS>(IDENTITY_TABLE, s.identity_slots, identity, 1)
            .ok()?;
        if owned(&read) == Some(true) {
            return Some(read);
        }
    }
    for choice in 0..2u8 {
        let read = slots
            .read::<WORDS>(IDENTITY_TABLE, s.identity_slots, identity, choice)
            .ok()?;
        match owned(&read) {
            Some(true) => return Some(read),
            // Never moved on from an empty first place: not recorded yet.
            None => return None,
            Some(false) => {}
        }
    }
    None
}

/// Counts the output tokens of an answer to one of `identity`'s forwarded
/// requests in its record (its token budget). One `get` (two when its
/// first place is another's and the decision did not find it in its
/// second, `hint`) and one `set`; nothing for an identity without a
/// record of its own (a guest).
pub fn answered(slots: &Slots<'_>, s: &DetectionSettings, identity: u64, hint: u8, tokens: u64, now: u64) {
    if tokens == 0 {
        return;
    }
    let (_, tau) = fades(s);
    let Some(read) = own_record(slots, s, identity, hint) else {
        return;
    };
    let _ = slots.write(read, |cur| {
        let mut r = cur.map(Record::decode).unwrap_or_default();
        if r.owner == identity {
            r.add_tokens(tokens, now, tau);
        }
        r.encode()
    });
}

/// Records the upstream's answer to one of `identity`'s forwarded requests:
/// 401 and 403 mark it refused (it stops counting in clusters) unless the
/// upstream has served it before, a 2xx accepted for good
/// ([`combine_upstream`]); any other status changes nothing. The reads of
/// [`answered`] (`hint` likewise), and a `set` unless the record already
/// says so.
pub fn upstream_status(slots: &Slots<'_>, s: &DetectionSettings, identity: u64, hint: u8, status: u16, now: u64) {
    let code = match status {
        401 | 403 => REFUSED,
        200..=299 => ACCEPTED,
        _ => return,
    };
    let Some(read) = own_record(slots, s, identity, hint) else {
        return;
    };
    let upstream = read.words.as_ref().map(Record::decode).unwrap_or_default().upstream;
    if combine_upstream(upstream, code) & 3 != upstream & 3 {
        let _ = slots.write(read, |cur| {
            let mut r = cur.map(Record::decode).unwrap_or_default();
            if r.owner == identity {
                r.upstream = combine_upstream(r.upstream, now << 2 | code);
            }
            r.encode()
        });
    }
}
