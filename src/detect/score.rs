//! Combines the signals into a score in [0, 1] with reason codes.
//!
//! The shape follows how a campaign must operate: to harvest at scale it
//! spreads one template over many accounts (sharing), asks for the model's
//! reasoning or for more output per request (content), and runs on machines
//! and proxy pools (cadence, infrastructure). Each signal alone stays below
//! the tag threshold; denial needs sharing with content *and* machine
//! cadence or shared infrastructure.
//! Content is either said (elicitation phrases, extraction parameters) or
//! shown by behaviour that harvesting cannot avoid: a template whose
//! accounts nearly all ask for long outputs over fresh items, or one identity
//! asking for hundreds of long outputs a day around the clock ("harvest").
//! Harvest counts only together with sharing and machine cadence, crowding
//! or synchronised rounds (`sync`), so an app that sets a long maximum
//! output for its human users stays below the tag threshold.
//! A popular app (shared system prompt, own user turns: no sharing), a batch
//! job or a benchmark (one or two accounts: no sharing), an office NAT (no
//! sharing of templates) and pasted personas (sharing without content) stay
//! below throttle.

use super::cadence::{ramp_up, Features};
use crate::mathfn::ln;
use crate::small_sort::insertion_sort_by;
use crate::verdict::ReasonCode;

pub const TEMPLATE_SHARED: &str = "template_shared_across_accounts";
pub const ELICITATION: &str = "reasoning_elicitation";
pub const EXTRACTION_PARAMS: &str = "extraction_params";
pub const MACHINE_CADENCE: &str = "machine_cadence";
pub const AROUND_THE_CLOCK: &str = "around_the_clock";
pub const BURST: &str = "burst";
pub const SHARED_INFRA: &str = "shared_infrastructure";
pub const SYNCHRONISED: &str = "synchronised_rounds";
pub const HARVEST: &str = "harvest_volume";
pub const NEW_IDENTITY_CLUSTER: &str = "new_identity_cluster";
pub const HISTORY: &str = "suspicious_history";
pub const DYNAMIC_LIMIT: &str = "dynamic_rate_limit";

/// Every reason code detection can report.
pub const ALL_REASONS: &[ReasonCode] = &[
    TEMPLATE_SHARED,
    ELICITATION,
    EXTRACTION_PARAMS,
    MACHINE_CADENCE,
    AROUND_THE_CLOCK,
    BURST,
    SHARED_INFRA,
    SYNCHRONISED,
    HARVEST,
    NEW_IDENTITY_CLUSTER,
    HISTORY,
    DYNAMIC_LIMIT,
];

/// An identity younger than this counts as new.
pub const NEW_IDENTITY_SECS: u64 = 2 * 86_400;

/// Every signal of one request, each in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Signals {
    /// Template shared by many accounts with varying slots.
    pub share: f64,
    pub elicitation: f64,
    pub extraction: f64,
    pub cadence: Features,
    /// Many accounts in the client's address block.
    pub infra: f64,
    /// The template's accounts crowd into few address blocks (a proxy pool).
    pub concentration: f64,
    /// The template's requests arrive in synchronised rounds.
    pub sync: f64,
    /// The template's requests nearly all ask for long outputs over fresh
    /// items.
    pub harvest: f64,
}

/// Harvest strength of a template cluster: the share of its requests that
/// ask for a long output, counted only over fresh items (an evaluation
/// harness re-sends a fixed item set: few texts per request) and enough
/// requests to mean anything.
pub fn harvest(long: f64, texts: f64, requests: f64) -> f64 {
    if requests < 20.0 {
        return 0.0;
    }
    ramp_up(long / requests, 0.5, 0.9) * ramp_up(texts / requests, 0.05, 0.2)
}

/// Harvest strength of a template cluster measured on its answers: the
/// share of its read answers that were long (`long_answer_tokens`), over
/// fresh items as in [`harvest`] (`texts` and `requests` of the same
/// windows), and enough answers to mean anything. A campaign that asks for
/// no maximum, or a modest one, still takes long answers.
pub fn answer_harvest(long_answers: f64, answers: f64, texts: f64, requests: f64) -> f64 {
    if answers < 20.0 {
        return 0.0;
    }
    ramp_up(long_answers / answers, 0.5, 0.9) * ramp_up(texts / requests.max(1.0), 0.05, 0.2)
}

/// How often a cluster's texts come again over its window: 0 while each
/// text is sent about once or twice, 1 from four times each. Sharing of a
/// greedy request (temperature 0, one answer) in such a cluster is the same
/// items asked again for the same answers (benchmark runs), nothing new to
/// harvest.
pub fn recurrence(texts: f64, requests: f64) -> f64 {
    ramp_up(requests / texts.max(1.0), 2.0, 4.0)
}

/// Harvest strength of one identity: hundreds of long outputs over the
/// last day, around the clock (a person reads a few; a batch job asks for
/// short ones).
pub fn volume(c: &Features) -> f64 {
    ramp_up(c.long_volume, 100.0, 300.0) * c.around_the_clock
}

/// Sharing strength from a template cluster's distinct accounts and texts:
/// rises with the logarithm of the accounts between `min` and `full`, and
/// counts fully only when the texts vary or repeat per account (a template
/// with slots or a harvest loop, not one text pasted once by many people).
pub fn share(accounts: f64, texts: f64, requests: f64, min: u64, full: u64) -> f64 {
    let lo = ln(min.max(1) as f64);
    let hi = ln(full.max(2) as f64);
    let spread = ramp_up(ln(accounts.max(1.0)), lo, hi);
    // Slots that vary (many texts per account, or many texts at all) make a
    // template; one text shared by many accounts counts half: a pasted
    // persona or a verbatim dataset-generation prompt, told apart by content.
    let per_account = ramp_up(texts / accounts.max(1.0), 0.3, 0.9);
    let absolute = ramp_up(ln(texts.max(1.0)), lo, hi);
    // One text sent again and again by each of many accounts is a harvest
    // loop (sampling a verbatim generator prompt); a pasted persona is sent
    // about once per account.
    let repeated = ramp_up(requests / accounts.max(1.0), 2.0, 6.0);
    spread * (0.5 + 0.5 * per_account.max(absolute).max(repeated))
}

/// How crowded a template's accounts are in address blocks: a campaign on a
/// proxy pool puts many accounts behind each exit block; people who share a
/// common phrase come from about as many blocks as there are of them (an
/// office NAT contributes only its own few).
pub fn concentration(accounts: f64, blocks: f64, min: u64) -> f64 {
    if accounts < min as f64 || blocks < 1.0 {
        return 0.0;
    }
    ramp_up(accounts / blocks, 1.5, 4.0)
}

/// Infrastructure strength from the accounts seen in one address block.
pub fn infra(accounts: f64, full: u64) -> f64 {
    let hi = ln(full.max(4) as f64);
    ramp_up(ln(accounts.max(1.0)), hi - ln(4.0), hi)
}

/// The score before memory, and the reasons, most important first.
pub fn combine(s: &Signals) -> (f64, Vec<ReasonCode>) {
    let content = 1.0 - (1.0 - s.elicitation) * (1.0 - 0.8 * s.extraction);
    let c = &s.cadence;
    let machine = (0.8 * c.regularity).max(c.around_the_clock).max(0.6 * c.burst);
    let new = if c.age_secs < NEW_IDENTITY_SECS { 1.0 } else { 0.0 };
    // The block's own crowd (an office NAT has one too) only adds a little;
    // what denies is a template's accounts crowding into few blocks,
    // synchronised rounds, or machine cadence.
    let ops = machine.max(s.concentration).max(s.sync);
    let joint = s.share * content;
    // Harvest stands in for said content only next to operations.
    let volume = volume(c);
    let harvest = s.harvest.max(volume);
    let evidence = content.max(harvest);
    let score = 0.22 * s.share
        + 0.15 * content
        + 0.10 * machine
        + 0.08 * s.infra
        + 0.30 * joint
        + 0.40 * s.share * evidence * ops
        + 0.15 * s.share * volume
        + 0.03 * s.share * new;
    // Each reason's contribution, for ordering.
    let mut parts: Vec<(f64, ReasonCode)> = vec![
        (0.22 * s.share + 0.3 * joint, TEMPLATE_SHARED),
        (0.15 * s.elicitation + 0.3 * s.share * s.elicitation, ELICITATION),
        (0.12 * s.extraction + 0.3 * s.share * s.extraction, EXTRACTION_PARAMS),
        (0.08 * c.regularity + 0.3 * joint * c.regularity, MACHINE_CADENCE),
        (
            0.10 * c.around_the_clock + 0.3 * joint * c.around_the_clock,
            AROUND_THE_CLOCK,
        ),
        (0.06 * c.burst + 0.2 * joint * c.burst, BURST),
        (0.08 * s.infra + 0.3 * joint * s.concentration, SHARED_INFRA),
        (0.3 * s.share * evidence * s.sync, SYNCHRONISED),
        (
            0.4 * s.share * (harvest - content).max(0.0) * ops + 0.15 * s.share * volume,
            HARVEST,
        ),
        (0.03 * s.share * new, NEW_IDENTITY_CLUSTER),
    ];
    parts.retain(|(w, _)| *w >= 0.03);
    sort_descending(&mut parts);
    (score.clamp(0.0, 1.0), parts.into_iter().map(|(_, r)| r).collect())
}

/// `parts.sort_by(|a, b| b.0.total_cmp(&a.0))`: largest first, ties in
/// their order (at most ten parts; no std sort in the module).
fn sort_descending(parts: &mut [(f64, ReasonCode)]) {
    insertion_sort_by(parts, |a, b| a.0.total_cmp(&b.0) == std::cmp::Ordering::Greater);
}

/// How much of the remembered score a request carries.
pub const HISTORY_WEIGHT: f64 = 0.9;

/// The final score: the request's own, or most of the identity's remembered
/// score (so a flagged account that mixes in ordinary prompts stays flagged).
pub fn with_memory(raw: f64, reasons: &mut Vec<ReasonCode>, memory: f64) -> f64 {
    let remembered = HISTORY_WEIGHT * memory;
    if remembered > raw && remembered >= 0.3 {
        reasons.insert(0, HISTORY);
        remembered.clamp(0.0, 1.0)
    } else {
        raw
    }
}

/// The identity's memory after this request: suspicion rises fast and
/// fades slowly. A caught harvester that alternates a recognised template
/// with one phrased outside the lists (or with ordinary prompts) must not
/// launder its memory on every second request: with a symmetric average,
/// requests scoring 0.95 and 0.55 in turn remembered about 0.75 (0.68 after
/// the 0.9 discount, served); now about 0.85 (0.77, still denied). An
/// identity that stops behaving so still recovers, over tens of requests
/// rather than a few; an identity that was never suspicious is unaffected.
pub fn remember(memory: f64, raw: f64) -> f64 {
    let rate = if raw >= memory { 0.3 } else { 0.1 };
    (memory + rate * (raw - memory)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn sort_descending_is_the_stable_sort() {
        let weights = [0.0, -0.0, 0.03, 0.1, 0.1, 0.5, 1.0, f64::NAN, 0.25];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 12) as usize;
            let parts: Vec<(f64, ReasonCode)> = (0..len)
                .map(|i| {
                    let w = weights[((seed >> (4 * i)) % weights.len() as u64) as usize];
                    (w, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"][i])
                })
                .collect();
            let mut ours = parts.clone();
            sort_descending(&mut ours);
            let mut std_sorted = parts;
            std_sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
            let bits = |v: &[(f64, ReasonCode)]| v.iter().map(|(w, r)| (w.to_bits(), *r)).collect::<Vec<_>>();
            assert_eq!(bits(&ours), bits(&std_sorted));
        }
    }

    fn old() -> Features {
        Features {
            age_secs: 30 * 86_400,
            ..Features::default()
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn no_single_signal_reaches_tag() {
        let one = [
            Signals {
                share: 1.0,
                cadence: old(),
                ..Signals::default()
            },
            Signals {
                elicitation: 1.0,
                extraction: 1.0,
                cadence: old(),
                ..Signals::default()
            },
            Signals {
                cadence: Features {
                    regularity: 1.0,
                    around_the_clock: 1.0,
                    burst: 1.0,
                    ..old()
                },
                ..Signals::default()
            },
            Signals {
                infra: 1.0,
                cadence: old(),
                ..Signals::default()
            },
        ];
        for s in one {
            let (score, _) = combine(&s);
            assert!(score < 0.4, "{s:?} -> {score}");
        }
        // Even all non-sharing signals together stay below throttle.
        let all = Signals {
            elicitation: 1.0,
            extraction: 1.0,
            infra: 1.0,
            cadence: Features {
                regularity: 1.0,
                around_the_clock: 1.0,
                burst: 1.0,
                ..old()
            },
            ..Signals::default()
        };
        assert!(combine(&all).0 < 0.7);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn campaign_combinations_deny() {
        let shared_content = Signals {
            share: 1.0,
            elicitation: 0.8,
            ..Signals::default()
        };
        let (s, reasons) = combine(&shared_content);
        assert!((0.4..0.7).contains(&s), "sharing and content alone only tag: {s}");
        assert_eq!(reasons.first(), Some(&TEMPLATE_SHARED));
        let machine = Signals {
            cadence: Features {
                regularity: 1.0,
                ..Features::default()
            },
            ..shared_content
        };
        assert!(combine(&machine).0 >= 0.7);
        let full = Signals {
            infra: 1.0,
            concentration: 1.0,
            cadence: Features {
                around_the_clock: 1.0,
                ..Features::default()
            },
            ..shared_content
        };
        let (s, reasons) = combine(&full);
        assert!(s >= 0.9, "{s}");
        assert!(
            reasons.contains(&AROUND_THE_CLOCK) && reasons.contains(&SHARED_INFRA),
            "{reasons:?}"
        );
        // Shared phrase with content from an office NAT, people spread over
        // many blocks: tagged at most.
        let office = Signals {
            infra: 1.0,
            ..shared_content
        };
        assert!(combine(&office).0 < 0.7);
        // Pasted persona: shared, infra and new, but no content: allowed.
        let persona = Signals {
            share: 1.0,
            infra: 1.0,
            ..Signals::default()
        };
        assert!(combine(&persona).0 < 0.4);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn harvest_without_phrases_denies_only_next_to_operations() {
        // A template of hundreds of accounts, every request a fresh item
        // with a long output, no listed phrase (extraction 0.25).
        let h = harvest(950.0, 900.0, 1_000.0);
        assert!(h > 0.99, "{h}");
        let app = Signals {
            share: 1.0,
            extraction: 0.25,
            harvest: h,
            cadence: old(),
            ..Signals::default()
        };
        assert!(combine(&app).0 < 0.4, "human users of a long-output app: allowed");
        let rounds = Signals { sync: 1.0, ..app };
        let (s, reasons) = combine(&rounds);
        assert!(s >= 0.7, "{s}");
        assert!(
            reasons.contains(&SYNCHRONISED) && reasons.contains(&HARVEST),
            "{reasons:?}"
        );
        assert!(
            combine(&Signals {
                concentration: 1.0,
                ..app
            })
            .0 >= 0.7
        );
        // An evaluation harness re-sends fixed items: no harvest.
        assert_eq!(harvest(1_000.0, 20.0, 1_000.0), 0.0);
        assert_eq!(harvest(10.0, 10.0, 10.0), 0.0);
        // A few busy accounts: hundreds of long outputs a day around the
        // clock, crowded into few blocks.
        let busy = Features {
            around_the_clock: 1.0,
            long_volume: 450.0,
            ..old()
        };
        assert_eq!(volume(&busy), 1.0);
        let few = Signals {
            share: 0.7,
            extraction: 0.25,
            concentration: 1.0,
            cadence: busy,
            ..Signals::default()
        };
        assert!(combine(&few).0 >= 0.7, "{}", combine(&few).0);
        // The same volume alone, shared with nobody, stays below tag.
        assert!(combine(&Signals { share: 0.0, ..few }).0 < 0.4);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn sharing_needs_accounts_and_varying_texts() {
        assert_eq!(share(3.0, 30.0, 30.0, 4, 40), 0.0);
        assert!(share(300.0, 2000.0, 2000.0, 4, 40) > 0.99);
        assert!((share(300.0, 1.0, 300.0, 4, 40) - 0.5).abs() < 1e-9);
        assert!(share(300.0, 150.0, 300.0, 4, 40) > 0.99);
        assert!(share(300.0, 1.0, 3000.0, 4, 40) > 0.99);
        let mid = share(12.0, 12.0, 12.0, 4, 40);
        assert!(mid > 0.3 && mid < 0.7, "{mid}");
        assert_eq!(infra(5.0, 40), 0.0);
        assert_eq!(concentration(300.0, 250.0, 4), 0.0);
        assert!(concentration(300.0, 20.0, 4) > 0.99);
        assert_eq!(concentration(3.0, 1.0, 4), 0.0);
        assert!(infra(40.0, 40) > 0.99);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn memory_carries_suspicion_and_reasons_are_known() {
        let mut reasons = vec![];
        assert!((with_memory(0.1, &mut reasons, 0.9) - 0.81).abs() < 1e-9);
        assert_eq!(reasons, vec![HISTORY]);
        let mut none = vec![];
        assert_eq!(with_memory(0.1, &mut none, 0.2), 0.1);
        assert!(none.is_empty());
        let m = (0..20).fold(0.0, |m, _| remember(m, 0.9));
        assert!(m > 0.85);
        // Alternating a recognised template with an unrecognised one keeps
        // a caught identity above the throttle line after the discount.
        let mixed = (0..200).fold(0.0, |m, i| remember(m, if i % 2 == 0 { 0.95 } else { 0.55 }));
        assert!(0.9 * mixed >= 0.7, "{mixed}");
        // Behaving again recovers: 40 harmless requests bring it below tag.
        let after = (0..40).fold(mixed, |m, _| remember(m, 0.05));
        assert!(0.9 * after < 0.4, "{after}");
        let (_, reasons) = combine(&Signals {
            share: 1.0,
            elicitation: 1.0,
            extraction: 1.0,
            infra: 1.0,
            ..Signals::default()
        });
        assert!(reasons.iter().all(|r| ALL_REASONS.contains(r)));
    }
}
