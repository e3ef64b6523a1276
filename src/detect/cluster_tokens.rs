//! The output tokens of an answer charged to the template cluster its
//! request was judged in (issue 7): the cluster's decayed token count (its
//! token budget, `cluster_token_limit`) and its answers and long answers
//! per window (harvest measured in tokens). The assessment names the
//! cluster ([`super::Charge`]); the engine carries it to the answer as it
//! carries the identity, in the glue and in the replay alike.
//!
//! One read-modify-write of the cluster's slot (two `get`s when it lives in
//! its second place); nothing when neither place holds it any more (the
//! answer is charged to no stranger).

use super::config::DetectionSettings;
use super::correlate::{self, Answer, WORDS};
use super::slots::{Slots, TEMPLATE_TABLE};

/// Charges `tokens` to the cluster `owner`, at `now`.
pub fn charge(slots: &Slots<'_>, s: &DetectionSettings, owner: u64, tokens: u64, now: u64) {
    let answer = Answer {
        owner,
        tokens,
        long: tokens >= s.long_answer_tokens,
        now,
        window_secs: s.window_secs,
        limit_window_secs: s.limit_window_secs,
    };
    for choice in 0..2u8 {
        let Ok(read) = slots.read::<WORDS>(TEMPLATE_TABLE, s.template_slots, owner, choice) else {
            return;
        };
        let Some(words) = read.words.as_ref() else {
            // Never written: the cluster never moved on from here.
            return;
        };
        if correlate::answered(Some(words), &answer).is_some() {
            let _ = slots.write(read, |cur| {
                correlate::answered(cur, &answer)
                    .or_else(|| cur.copied())
                    .unwrap_or([0; WORDS])
            });
            return;
        }
    }
}
