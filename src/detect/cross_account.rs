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
}

/// The cluster evidence as charged to one identity, given its own shares
/// of long-output and crowded-minute requests (`own_long`, `own_sync`).
/// Crowding: only if its own address block is crowded too.
pub fn charge(mut across: CrossAccount, own_long: f64, own_sync: f64) -> CrossAccount {
    // A block record lost to a collision is no evidence either way.
    let own_block = across
        .block_accounts
        .map_or(1.0, |a| super::cadence::ramp_up(a, 1.5, 4.0));
    across.concentration = across.concentration.min(own_block);
    across.harvest *= super::cadence::ramp_up(own_long, 0.5, 0.9);
    // Rounds: the identity's own share of crowded requests against its
    // template's (a member of the scheduled crowd matches it; an app whose
    // users arrive at their own times lands in a crowd by chance).
    across.sync *= super::cadence::ramp_up(own_sync / across.sync_share.max(1e-9), 0.25, 0.5);
    across
}

/// The request `identity` (from address block `block`, asking for a long
/// output or not) joins the template clusters `owners` and its address
/// block (`evidence`: the request asks for a long output or reasoning, and
/// presses harder where its cluster collides); `counts`: false for an identity's first request (read the
/// clusters, write nothing: see `identity_slot::pending`).
#[allow(clippy::too_many_arguments)]
pub fn observe(
    slots: &Slots<'_>,
    s: &DetectionSettings,
    owners: Option<&Owners>,
    identity: u64,
    block: Option<u64>,
    long: bool,
    evidence: bool,
    now: u64,
    counts: bool,
) -> CrossAccount {
    let touch = |owner, text, block, long| correlate::Touch {
        owner,
        identity,
        text,
        block,
        long,
        now,
        window_secs: s.window_secs,
        limit_window_secs: s.limit_window_secs,
        press: 0.0,
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
                &touch(owner, Some(o.text), block, long),
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
                let strength = sync::strength(v.synced_requests, v.requests, 50.0);
                if strength >= out.sync {
                    out.sync = strength;
                    out.sync_share = v.synced_requests / v.requests.max(1.0);
                }
            }
            if v.tracked && (out.cluster.is_none() || sh > out.share) {
                out.share = sh;
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
                &touch(b, None, None, false),
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
