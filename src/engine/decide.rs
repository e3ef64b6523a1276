//! The decision as a pure function: what detection found, what the
//! operator's rules and limits say, and the configuration in; a verdict out.

use crate::config::{Mode, ParseErrorPolicy};
use crate::verdict::{Action, ReasonCode, Verdict};

/// Reason codes the decision itself adds.
pub mod reasons {
    pub const ALLOWLISTED: &str = "allowlisted";
    pub const IDENTITY_RATE_LIMIT: &str = crate::detect::IDENTITY_RATE_LIMIT;
    pub const CLUSTER_RATE_LIMIT: &str = crate::detect::CLUSTER_RATE_LIMIT;
    pub const PARSE_ERROR: &str = "parse_error";
    pub const NO_PROMPT_IN_PREFIX: &str = "no_prompt_in_prefix";
}

/// Everything the decision depends on, gathered by the engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    /// Detection's score in [0, 1] and reasons, most important first.
    pub score: f64,
    pub reasons: Vec<ReasonCode>,
    /// Detection's dynamic limit, or the static one, was exceeded:
    /// `Some((retry_after_secs, reason code))`.
    pub rate_limited: Option<(u64, ReasonCode)>,
    /// Seconds until the identity's remembered score alone no longer
    /// reaches the throttle threshold (`None`: it does not now).
    pub history_secs: Option<u64>,
    /// The strongest operator rule that matched.
    pub rule: Option<(Action, ReasonCode)>,
    /// The body could not be parsed.
    pub parse_failed: bool,
    /// The body was cut off (inspection cap or buffer bound) before any
    /// prompt text.
    pub no_prompt_in_prefix: bool,
    /// The identity or client address is on the allowlist.
    pub allowlisted: bool,
}

/// The knobs of the configuration the decision reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    pub mode: Mode,
    pub tag: f64,
    pub throttle: f64,
    pub block: f64,
    pub on_parse_error: ParseErrorPolicy,
    pub on_no_prompt_in_prefix: ParseErrorPolicy,
    pub retry_after_secs: u64,
}

/// Maps findings to a verdict:
/// 1. the score picks an action by thresholds;
/// 2. rules, rate limits and the parse-error policy can only raise it;
/// 3. an allowlisted caller is never denied (at most tagged);
/// 4. shadow mode turns every denial into a tag, keeping the intent.
pub fn decide(f: &Findings, p: &Policy) -> Verdict {
    let score = if f.score.is_finite() {
        f.score.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut reasons: Vec<ReasonCode> = Vec::new();
    let mut action = if score >= p.block {
        Action::Block
    } else if score >= p.throttle {
        Action::Throttle
    } else if score >= p.tag {
        Action::Tag
    } else {
        Action::Allow
    };
    let mut retry_after = p.retry_after_secs;

    if let Some((rule_action, code)) = f.rule {
        push(&mut reasons, code);
        action = action.max(rule_action);
    }
    // Retry-After is when the filter will let the request through: a
    // throttle by score that history carries lasts until the memory fades.
    if let Some(secs) = f.history_secs.filter(|_| score >= p.throttle) {
        retry_after = secs.max(1);
    }
    if let Some((secs, code)) = f.rate_limited {
        push(&mut reasons, code);
        if action < Action::Throttle {
            action = Action::Throttle;
        }
        retry_after = if f.history_secs.is_some() && score >= p.throttle {
            retry_after.max(secs.max(1))
        } else {
            secs.max(1)
        };
    }
    if f.parse_failed {
        push(&mut reasons, reasons::PARSE_ERROR);
        action = action.max(floor(p.on_parse_error));
    }
    if f.no_prompt_in_prefix {
        push(&mut reasons, reasons::NO_PROMPT_IN_PREFIX);
        action = action.max(floor(p.on_no_prompt_in_prefix));
    }
    for r in &f.reasons {
        push(&mut reasons, r);
    }
    if f.allowlisted {
        reasons.insert(0, reasons::ALLOWLISTED);
        action = action.min(Action::Tag);
    }
    let intended = action;
    if p.mode == Mode::Shadow && action.denies() {
        action = Action::Tag;
    }
    Verdict {
        action,
        intended,
        score,
        reasons,
        retry_after_secs: if intended == Action::Throttle { retry_after } else { 0 },
    }
}

fn floor(policy: ParseErrorPolicy) -> Action {
    match policy {
        ParseErrorPolicy::Allow => Action::Allow,
        ParseErrorPolicy::Tag => Action::Tag,
        ParseErrorPolicy::Block => Action::Block,
    }
}

fn push(reasons: &mut Vec<ReasonCode>, code: ReasonCode) {
    if !reasons.contains(&code) {
        reasons.push(code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn policy(mode: Mode) -> Policy {
        Policy {
            mode,
            tag: 0.4,
            throttle: 0.7,
            block: 0.9,
            on_parse_error: ParseErrorPolicy::Tag,
            on_no_prompt_in_prefix: ParseErrorPolicy::Block,
            retry_after_secs: 60,
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn no_prompt_in_prefix_has_its_own_policy() {
        let f = Findings {
            no_prompt_in_prefix: true,
            ..Findings::default()
        };
        let v = decide(&f, &policy(Mode::Enforce));
        assert_eq!(v.action, Action::Block);
        assert_eq!(v.reasons, vec![reasons::NO_PROMPT_IN_PREFIX]);
        let tag = Policy {
            on_no_prompt_in_prefix: ParseErrorPolicy::Tag,
            ..policy(Mode::Enforce)
        };
        assert_eq!(decide(&f, &tag).action, Action::Tag);
        let v = decide(&f, &policy(Mode::Shadow));
        assert_eq!((v.action, v.intended), (Action::Tag, Action::Block));
    }

    fn scored(score: f64) -> Findings {
        Findings {
            score,
            reasons: vec!["template_cluster"],
            ..Findings::default()
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn thresholds_table() {
        let p = policy(Mode::Enforce);
        for (score, want) in [
            (0.0, Action::Allow),
            (0.39, Action::Allow),
            (0.4, Action::Tag),
            (0.69, Action::Tag),
            (0.7, Action::Throttle),
            (0.9, Action::Block),
            (7.0, Action::Block),
            (f64::NAN, Action::Allow),
        ] {
            let v = decide(&scored(score), &p);
            assert_eq!(v.action, want, "score {score}");
            assert!((0.0..=1.0).contains(&v.score));
        }
        assert_eq!(decide(&scored(0.75), &p).retry_after_secs, 60);
        assert_eq!(decide(&scored(0.95), &p).retry_after_secs, 0);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn shadow_never_denies_but_keeps_intent() {
        let v = decide(&scored(0.95), &policy(Mode::Shadow));
        assert_eq!((v.action, v.intended), (Action::Tag, Action::Block));
        let v = decide(&scored(0.1), &policy(Mode::Shadow));
        assert_eq!((v.action, v.intended), (Action::Allow, Action::Allow));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn allowlist_wins_over_everything() {
        let f = Findings {
            score: 1.0,
            rule: Some((Action::Block, "operator_rule")),
            rate_limited: Some((5, reasons::IDENTITY_RATE_LIMIT)),
            allowlisted: true,
            ..Findings::default()
        };
        let v = decide(&f, &policy(Mode::Enforce));
        assert_eq!(v.action, Action::Tag);
        assert_eq!(v.reasons.first(), Some(&reasons::ALLOWLISTED));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rules_limits_and_parse_errors_only_raise() {
        let p = policy(Mode::Enforce);
        let rule = Findings {
            rule: Some((Action::Throttle, "operator_rule")),
            ..scored(0.95)
        };
        assert_eq!(decide(&rule, &p).action, Action::Block);
        let limited = Findings {
            rate_limited: Some((17, reasons::IDENTITY_RATE_LIMIT)),
            ..scored(0.0)
        };
        let v = decide(&limited, &p);
        assert_eq!((v.action, v.retry_after_secs), (Action::Throttle, 17));
        assert_eq!(v.reasons, vec![reasons::IDENTITY_RATE_LIMIT, "template_cluster"]);
        // A cluster's limit says so.
        let cluster = Findings {
            rate_limited: Some((30, reasons::CLUSTER_RATE_LIMIT)),
            ..scored(0.0)
        };
        assert_eq!(decide(&cluster, &p).reasons.first(), Some(&reasons::CLUSTER_RATE_LIMIT));
        // A throttle carried by history waits until the memory fades, or
        // the limit's wait if that is longer.
        let history = Findings {
            history_secs: Some(5_000),
            ..scored(0.8)
        };
        assert_eq!(decide(&history, &p).retry_after_secs, 5_000);
        let both = Findings {
            rate_limited: Some((9_000, reasons::IDENTITY_RATE_LIMIT)),
            ..history.clone()
        };
        assert_eq!(decide(&both, &p).retry_after_secs, 9_000);
        let broken = Findings {
            parse_failed: true,
            ..Findings::default()
        };
        assert_eq!(decide(&broken, &p).action, Action::Tag);
        let strict = Policy {
            on_parse_error: ParseErrorPolicy::Block,
            ..p
        };
        assert_eq!(decide(&broken, &strict).action, Action::Block);
        let lax = Policy {
            on_parse_error: ParseErrorPolicy::Allow,
            ..p
        };
        assert_eq!(decide(&broken, &lax).action, Action::Allow);
    }
}
