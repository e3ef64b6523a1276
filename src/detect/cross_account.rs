//! The second step of an assessment: the request counts itself in its
//! template clusters and its address block (one read-modify-write of a
//! [`correlate`] slot each) and reads back what they say across accounts:
//! sharing, concentration, harvest, synchronised rounds, shared
//! infrastructure.
//!
//! Evidence that a cluster holds is charged to one identity by that
//! identity's own part in it ([`charge`]): crowding only if its own address
//! block is crowded, harvest and rounds only as far as its own requests ask
//! for long outputs and arrive in the crowds. Otherwise anyone could send an
//! app's template from a proxy pool, in rounds, asking for long outputs,
//! and push the app's own requests into the limited band. Identities the
//! upstream refused count in no cluster at all (the caller skips them).

use super::config::DetectionSettings;
use super::correlate::{self, ClusterView};
use super::instruction::Owners;
use super::slots::{Slots, NETWORK_TABLE, TEMPLATE_TABLE};
use super::{score, sync};

/// What the request's clusters say, each signal in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossAccount {
    pub share: f64,
    pub concentration: f64,
    pub harvest: f64,
    pub sync: f64,
    pub infra: f64,
    /// The better-shared template cluster, whose requests have a dynamic
    /// limit of their own.
    pub cluster: Option<ClusterView>,
    /// This request arrived in a crowded minute of one of its templates.
    pub synced: bool,
    /// Share of requests in crowded minutes of the template that gave
    /// `sync`.
    pub sync_share: f64,
    /// Distinct accounts seen in the request's own address block (`None`
    /// when its record is held by another block or cannot be read).
    pub block_accounts: Option<f64>,
    /// How often the texts of the cluster that gave `share` come again
    /// ([`score::recurrence`]).
    pub recurrence: f64,
    /// Harvest measured on the answers of either template cluster
    /// ([`score::answer_harvest`]), before it is charged.
    pub answer_harvest: f64,
}

/// The identity's own part in its clusters' evidence, from its record.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Own {
    /// Share of its requests asking for long outputs.
    pub long: f64,
    /// Share of its requests in crowded minutes.
    pub sync: f64,
    /// Share of its requests continuing its own tool-loop conversation.
    pub cont: f64,
    /// How much it re-sends one closed set of many items
    /// (`recurrence::Texts::strength`).
    pub closed: f64,
    /// This request samples greedily (temperature 0, one answer).
    pub deterministic: bool,
    /// How long its own recent answers are, in [0, 1] (1: about
    /// `long_answer_tokens` on average or more).
    pub answer_long: f64,
}

/// The cluster evidence as charged to one identity, given its own shares
/// of long-output, crowded-minute and continuing requests (`own`).
/// Crowding: only if its own address block is crowded too. Sharing: not
/// for a greedy request of a closed item set sent again and again (a
/// benchmark run: the same answers again, nothing new to harvest), and
/// less the more the identity's requests continue its own tool loops
/// (each call is the next step of its own task, not a template's slot).
pub fn charge(mut across: CrossAccount, own: Own) -> CrossAccount {
    let (own_long, own_sync) = (own.long, own.sync);
    if own.deterministic {
        across.share *= 1.0 - own.closed.max(across.recurrence);
    }
    across.share *= 1.0 - CONTINUATION_DISCOUNT * own.cont;
    // A block record lost to a collision is no evidence either way.
    let own_block = across
        .block_accounts
        .map_or(1.0, |a| super::cadence::ramp_up(a, 1.5, 4.0));
    across.concentration = across.concentration.min(own_block);
    // Harvest asked for (long maximum outputs) by the identity's own share
    // of such requests; harvest measured on the answers by how long its
    // own answers were.
    across.harvest = (across.harvest * super::cadence::ramp_up(own_long, 0.5, 0.9))
        .max(across.answer_harvest * own.answer_long.clamp(0.0, 1.0));
    // Rounds: the identity's own share of crowded requests against its
    // template's (a member of the scheduled crowd matches it; an app whose
    // users arrive at their own times lands in a crowd by chance).
    across.sync *= super::cadence::ramp_up(own_sync / across.sync_share.max(1e-9), 0.25, 0.5);
    across
}

/// The cluster's limit count (its decayed requests) as charged to one
/// identity: weighed by the identity's own part in the cluster's requests
/// against an average account's (`own_requests`: its requests over the
/// cluster's span, `ClusterView::span_secs`; `None`: no record of its own,
/// charged in full). A campaign's accounts send about as much as each other
/// and are charged the whole count; an app's users among a few accepted keys
/// that hammer the app's template (framing: the keys' requests fill the
/// cluster's limit) send a small part each and keep being served, while the
/// keys themselves are charged in full and judged on their own records.
/// Framing by the cluster limit now takes as many accepted keys as the app
/// has users, each sending no more than they do.
pub fn charged_level(cluster: &ClusterView, own_requests: Option<f64>) -> f64 {
    let Some(own) = own_requests.filter(|o| o.is_finite()) else {
        return cluster.limit_level;
    };
    let per_account = cluster.requests / cluster.accounts.max(1.0);
    cluster.limit_level * (own / per_account.max(1.0)).clamp(0.0, 1.0)
}

/// How much of the sharing evidence an identity whose requests all
/// continue its own tool loops is spared.
pub const CONTINUATION_DISCOUNT: f64 = 0.8;

/// Who sends one request and what it adds to its clusters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sender {
    pub identity: u64,
    /// Who it is in template clusters: its organisation when the request
    /// names one, else the identity.
    pub account: u64,
    /// Its address block.
    pub block: Option<u64>,
    /// It asked for a long output.
    pub long: bool,
    /// It continues the identity's own conversation.
    pub continuation: bool,
    /// It asks for a long output or reasoning: presses harder where its
    /// cluster collides.
    pub evidence: bool,
    pub now: u64,
    /// False for an identity's first request: read the clusters, write
    /// nothing (see `identity_slot::pending`).
    pub counts: bool,
}

/// The request of `sender` joins the template clusters `owners` (as its
/// account) and its address block (as its identity).
pub fn observe(slots: &Slots<'_>, s: &DetectionSettings, owners: Option<&Owners>, sender: Sender) -> CrossAccount {
    let Sender {
        identity,
        account,
        block,
        long,
        continuation,
        evidence,
        now,
        counts,
    } = sender;
    let touch = |owner, text, block, long, identity| correlate::Touch {
        owner,
        identity,
        text,
        block,
        long,
        now,
        window_secs: s.window_secs,
        limit_window_secs: s.limit_window_secs,
        press: 0.0,
        continuation,
    };
    let press = if evidence { correlate::EVIDENCE_PRESS } else { 1.0 };
    let mut out = CrossAccount::default();
    // Across accounts: the better-shared of the two skeletons.
    // Harvest and rounds from either skeleton: one of them may be mixed
    // with other traffic (a seed item's ending is also a benchmark's).
    if let Some(o) = owners {
        for owner in o.keys.into_iter().flatten() {
            let v = update(
                slots,
                TEMPLATE_TABLE,
                s.template_slots,
                &touch(owner, Some(o.text), block, long, account),
                press,
                counts,
            );
            let sh = score::share(
                v.accounts,
                v.texts,
                v.requests,
                s.share_min_accounts,
                s.share_full_accounts,
            );
            out.synced |= v.synced;
            if v.tracked && v.accounts >= s.share_min_accounts as f64 {
                out.harvest = out.harvest.max(score::harvest(v.long_requests, v.texts, v.requests));
                out.answer_harvest =
                    out.answer_harvest
                        .max(score::answer_harvest(v.long_answers, v.answers, v.texts, v.requests));
                let strength = sync::strength(v.synced_requests, v.requests, 50.0);
                if strength >= out.sync {
                    out.sync = strength;
                    out.sync_share = v.synced_requests / v.requests.max(1.0);
                }
            }
            if v.tracked && (out.cluster.is_none() || sh > out.share) {
                out.share = sh;
                out.recurrence = score::recurrence(v.texts, v.requests);
                out.cluster = Some(v);
            }
        }
    }
    out.concentration = out.cluster.map_or(0.0, |c| {
        score::concentration(c.accounts, c.blocks, s.share_min_accounts)
    });
    out.block_accounts = block
        .map(|b| {
            update(
                slots,
                NETWORK_TABLE,
                s.network_slots,
                &touch(b, None, None, false, identity),
                1.0,
                counts,
            )
        })
        .filter(|v| v.tracked)
        .map(|v| v.accounts);
    out.infra = score::infra(out.block_accounts.unwrap_or(0.0), s.infra_full_accounts);
    out
}

/// One read-modify-write of the cluster's first place, and of its second
/// when the first is another's (there a collision presses the incumbent);
/// an untracked view on error (the failure is counted; `press`: what the
/// collision adds to the pressure there). Without `counts`,
/// only the reads: the view is what the request would see, nothing is
/// written.
fn update(
    slots: &Slots<'_>,
    table: &str,
    count: u64,
    touch: &correlate::Touch,
    press: f64,
    counts: bool,
) -> ClusterView {
    let at = |choice: u8, touch: &correlate::Touch| {
        if !counts {
            let read = slots.read::<{ correlate::WORDS }>(table, count, touch.owner, choice)?;
            return Ok(correlate::apply(read.words.as_ref(), touch).1);
        }
        let mut view = ClusterView::default();
        let result = slots.update_at::<{ correlate::WORDS }>(table, count, touch.owner, choice, |words| {
            let (next, v) = correlate::apply(words, touch);
            view = v;
            next
        });
        result.map(|()| view)
    };
    match at(0, touch) {
        Ok(first) if !first.tracked => at(1, &correlate::Touch { press, ..*touch }).unwrap_or_default(),
        first => first.unwrap_or_default(),
    }
}
