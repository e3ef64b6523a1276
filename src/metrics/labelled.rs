//! Metric names shaped for Prometheus labels.
//!
//! The proxy-wasm ABI has no labels: a metric is one name. Envoy's tag
//! extraction (`stats_config.stats_tags`, one regex per label, in every
//! shipped Envoy config) turns name segments back into labels. A labelled
//! name is `distill_guard.<metric>{.<label>.<value>}.total`:
//!
//! ```text
//! wasmcustom.distill_guard.decisions.api.openai_chat.mode.shadow.action.tag.intended.block.total
//!   /stats/prometheus:  distill_guard_decisions_total{api="openai_chat",mode="shadow",action="tag",intended="block"}
//! ```
//!
//! Envoy drops the `wasmcustom.` namespace in Prometheus output, removes
//! each `<label>.<value>.` segment the regexes match and joins what is left
//! with `_`, so counters end in `_total` as Prometheus expects. Label values
//! come from closed sets (APIs, modes, actions, reason codes, parse-failure
//! causes), never from a request. The flat names of [`Counter::name`] stay
//! for `/stats` readers; the Prometheus dashboard and alerts use these.

use super::Counter;
use crate::api::ParseFailure;

/// The labels Envoy extracts, in the order they appear in names. Every
/// shipped Envoy config carries one `stats_tags` entry per label (tests
/// check that they agree with this list).
pub const LABELS: [&str; 7] = ["api", "mode", "action", "intended", "reason", "cause", "kind"];

/// A distribution recorded as an Envoy histogram (integer values: the score
/// in percent, time in microseconds). Bucket bounds are set per name in the
/// Envoy configs (`stats_config.histogram_bucket_settings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Histogram {
    /// The score of every decided request, 0–100.
    ScorePercent,
    /// Time spent inside the filter's callbacks for one LLM API request,
    /// from its headers to its decision.
    ProcessingMicros,
}

impl Histogram {
    pub fn name(self) -> &'static str {
        match self {
            Histogram::ScorePercent => "distill_guard.score_percent",
            Histogram::ProcessingMicros => "distill_guard.processing_time_us",
        }
    }
}

impl Counter {
    /// The counter's Prometheus-shaped name, or `None` for a flat counter
    /// that [`Counter::Decided`] already covers with labels.
    pub fn labelled_name(&self) -> Option<String> {
        // Head, middle and `.total` appended in one place (as
        // [`Counter::name`]; issue 8: module size).
        let (head, middle) = match self {
            Counter::Requests => ("distill_guard.requests", ""),
            Counter::Passthrough => ("distill_guard.passthrough", ""),
            Counter::Decision(_) | Counter::ShadowWouldDeny(_) | Counter::Api(_) => return None,
            Counter::ParseFailure(cause) => ("distill_guard.parse_failures.cause.", *cause),
            Counter::BodyTruncated => ("distill_guard.body_truncated", ""),
            Counter::Anonymous => ("distill_guard.anonymous", ""),
            Counter::SpoofedHeaderStripped => ("distill_guard.spoofed_headers_stripped", ""),
            Counter::CasGaveUp => ("distill_guard.shared_data_errors.kind.cas_gave_up", ""),
            Counter::StoreError => ("distill_guard.shared_data_errors.kind.error", ""),
            Counter::SharedDataKeysCreated => ("distill_guard.shared_data_keys_created", ""),
            Counter::SharedDataBytesCreated => ("distill_guard.shared_data_bytes_created", ""),
            Counter::Decided {
                api,
                mode,
                action,
                intended,
            } => {
                return Some(format!(
                    "distill_guard.decisions.api.{api}.mode.{mode}.action.{}.intended.{}.total",
                    action.as_str(),
                    intended.as_str()
                ))
            }
            Counter::Reason(code) => ("distill_guard.reasons.reason.", *code),
            Counter::OutputTokens { api, action } => {
                return Some(format!(
                    "distill_guard.output_tokens.api.{api}.action.{}.total",
                    action.as_str()
                ))
            }
            Counter::ReasoningTokens { api, action } => {
                return Some(format!(
                    "distill_guard.reasoning_tokens.api.{api}.action.{}.total",
                    action.as_str()
                ))
            }
            Counter::Response(kind) => ("distill_guard.responses.kind.", *kind),
            Counter::Fleet(what) => ("distill_guard.fleet.kind.", *what),
            Counter::Reasoning { api, kind } => {
                return Some(format!("distill_guard.reasoning.api.{api}.kind.{kind}.total"))
            }
        };
        Some([head, middle, ".total"].concat())
    }
}

/// Counters defined when the filter is configured, so that they are
/// exported (as 0) before anything happens: a Prometheus rate or alert on a
/// failure counter then has a series to read from the start.
/// A constant table (built on the stack at each call before: issue 8,
/// module size).
pub fn predefined() -> &'static [Counter] {
    const fn cause(c: ParseFailure) -> Counter {
        Counter::ParseFailure(c.code())
    }
    const PREDEFINED: [Counter; 12] = [
        Counter::Requests,
        Counter::Passthrough,
        Counter::CasGaveUp,
        Counter::StoreError,
        Counter::SharedDataKeysCreated,
        Counter::SharedDataBytesCreated,
        cause(ParseFailure::Empty),
        cause(ParseFailure::NotUtf8),
        cause(ParseFailure::Compressed),
        cause(ParseFailure::Malformed),
        cause(ParseFailure::TooDeep),
        cause(ParseFailure::WrongShape),
    ];
    &PREDEFINED
}

/// The Prometheus name and labels Envoy's tag extraction makes of a
/// labelled name (what `stats_tags` with one regex per [`LABELS`] entry
/// produces); for docs and tests.
pub fn prometheus_view(labelled: &str) -> (String, Vec<(&str, &str)>) {
    let mut parts: Vec<&str> = labelled.split('.').collect();
    let mut labels = Vec::new();
    let mut i = 0;
    while i + 1 < parts.len() {
        let (Some(key), Some(value)) = (parts.get(i).copied(), parts.get(i + 1).copied()) else {
            break;
        };
        if i >= 2 && LABELS.contains(&key) {
            labels.push((key, value));
            parts.drain(i..i + 2);
        } else {
            i += 1;
        }
    }
    (parts.join("_"), labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Action;

    #[test]
    fn decisions_become_one_total_with_four_labels() {
        let c = Counter::Decided {
            api: "openai_chat",
            mode: "shadow",
            action: Action::Tag,
            intended: Action::Block,
        };
        let labelled = c.labelled_name().unwrap();
        let (name, labels) = prometheus_view(&labelled);
        assert_eq!(name, "distill_guard_decisions_total");
        assert_eq!(
            labels,
            vec![
                ("api", "openai_chat"),
                ("mode", "shadow"),
                ("action", "tag"),
                ("intended", "block")
            ]
        );
        assert_eq!(c.name(), c.labelled_name().unwrap());
    }

    #[test]
    fn every_labelled_counter_ends_in_total_and_uses_known_labels() {
        let all = [
            Counter::Requests,
            Counter::Passthrough,
            Counter::ParseFailure("malformed_json"),
            Counter::BodyTruncated,
            Counter::Anonymous,
            Counter::SpoofedHeaderStripped,
            Counter::CasGaveUp,
            Counter::StoreError,
            Counter::SharedDataKeysCreated,
            Counter::SharedDataBytesCreated,
            Counter::Reason("operator_rule"),
        ];
        for c in all {
            let n = c.labelled_name().unwrap();
            let (prom, labels) = prometheus_view(&n);
            assert!(
                prom.starts_with("distill_guard_") && prom.ends_with("_total"),
                "{n} -> {prom}"
            );
            assert!(!prom.contains('.'), "{prom}");
            assert!(labels.len() <= 1, "{n}");
        }
        assert_eq!(
            prometheus_view(&Counter::CasGaveUp.labelled_name().unwrap()),
            (
                "distill_guard_shared_data_errors_total".to_owned(),
                vec![("kind", "cas_gave_up")]
            )
        );
    }

    #[test]
    fn reasoning_counters_carry_api_and_kind() {
        let c = Counter::Reasoning {
            api: "anthropic_messages",
            kind: "withheld",
        };
        assert_eq!(c.name(), "distill_guard.reasoning.withheld.anthropic_messages");
        assert_eq!(
            prometheus_view(&c.labelled_name().unwrap()),
            (
                "distill_guard_reasoning_total".to_owned(),
                vec![("api", "anthropic_messages"), ("kind", "withheld")]
            )
        );
    }

    #[test]
    fn flat_counters_covered_by_decisions_have_no_labelled_twin() {
        assert_eq!(Counter::Decision(Action::Block).labelled_name(), None);
        assert_eq!(Counter::ShadowWouldDeny(Action::Block).labelled_name(), None);
        assert_eq!(Counter::Api("gemini").labelled_name(), None);
    }

    /// Every kind of counter's two names, written out: the names Envoy's
    /// stats, the dashboards and the alerts know (they were `format!`s
    /// each; now a head and a tail appended in one place).
    #[test]
    fn every_counters_names_are_written_out() {
        let cases = [
            (
                Counter::Requests,
                "distill_guard.requests",
                Some("distill_guard.requests.total"),
            ),
            (
                Counter::Passthrough,
                "distill_guard.passthrough",
                Some("distill_guard.passthrough.total"),
            ),
            (
                Counter::Decision(Action::Throttle),
                "distill_guard.decision.throttle",
                None,
            ),
            (
                Counter::ShadowWouldDeny(Action::Block),
                "distill_guard.shadow_would.block",
                None,
            ),
            (Counter::Api("gemini"), "distill_guard.api.gemini", None),
            (
                Counter::ParseFailure("malformed_json"),
                "distill_guard.parse_failure.malformed_json",
                Some("distill_guard.parse_failures.cause.malformed_json.total"),
            ),
            (
                Counter::BodyTruncated,
                "distill_guard.body_truncated",
                Some("distill_guard.body_truncated.total"),
            ),
            (
                Counter::Anonymous,
                "distill_guard.anonymous",
                Some("distill_guard.anonymous.total"),
            ),
            (
                Counter::SpoofedHeaderStripped,
                "distill_guard.spoofed_header_stripped",
                Some("distill_guard.spoofed_headers_stripped.total"),
            ),
            (
                Counter::CasGaveUp,
                "distill_guard.shared_data.cas_gave_up",
                Some("distill_guard.shared_data_errors.kind.cas_gave_up.total"),
            ),
            (
                Counter::StoreError,
                "distill_guard.shared_data.error",
                Some("distill_guard.shared_data_errors.kind.error.total"),
            ),
            (
                Counter::Fleet("sync_ok"),
                "distill_guard.fleet.sync_ok",
                Some("distill_guard.fleet.kind.sync_ok.total"),
            ),
            (
                Counter::SharedDataKeysCreated,
                "distill_guard.shared_data.keys_created",
                Some("distill_guard.shared_data_keys_created.total"),
            ),
            (
                Counter::SharedDataBytesCreated,
                "distill_guard.shared_data.bytes_created",
                Some("distill_guard.shared_data_bytes_created.total"),
            ),
            (
                Counter::Reasoning {
                    api: "openai_chat",
                    kind: "oversize",
                },
                "distill_guard.reasoning.oversize.openai_chat",
                Some("distill_guard.reasoning.api.openai_chat.kind.oversize.total"),
            ),
            (
                Counter::Decided {
                    api: "gemini",
                    mode: "enforce",
                    action: Action::Allow,
                    intended: Action::Throttle,
                },
                "distill_guard.decisions.api.gemini.mode.enforce.action.allow.intended.throttle.total",
                Some("distill_guard.decisions.api.gemini.mode.enforce.action.allow.intended.throttle.total"),
            ),
            (
                Counter::Reason("template_shared"),
                "distill_guard.reasons.reason.template_shared.total",
                Some("distill_guard.reasons.reason.template_shared.total"),
            ),
            (
                Counter::OutputTokens {
                    api: "anthropic_messages",
                    action: Action::Tag,
                },
                "distill_guard.output_tokens.api.anthropic_messages.action.tag.total",
                Some("distill_guard.output_tokens.api.anthropic_messages.action.tag.total"),
            ),
            (
                Counter::ReasoningTokens {
                    api: "openai_responses",
                    action: Action::Allow,
                },
                "distill_guard.reasoning_tokens.api.openai_responses.action.allow.total",
                Some("distill_guard.reasoning_tokens.api.openai_responses.action.allow.total"),
            ),
            (
                Counter::Response("usage"),
                "distill_guard.responses.kind.usage.total",
                Some("distill_guard.responses.kind.usage.total"),
            ),
        ];
        for (c, flat, labelled) in cases {
            assert_eq!(c.name(), flat, "{c:?}");
            assert_eq!(c.labelled_name().as_deref(), labelled, "{c:?}");
        }
    }

    /// The counters defined at configuration: the six fixed ones and a
    /// parse failure per cause but `no_prompt_in_prefix`.
    #[test]
    fn predefined_counters_are_the_failure_series() {
        let names: Vec<String> = predefined().iter().map(Counter::name).collect();
        assert_eq!(
            names,
            [
                "distill_guard.requests",
                "distill_guard.passthrough",
                "distill_guard.shared_data.cas_gave_up",
                "distill_guard.shared_data.error",
                "distill_guard.shared_data.keys_created",
                "distill_guard.shared_data.bytes_created",
                "distill_guard.parse_failure.empty",
                "distill_guard.parse_failure.not_utf8",
                "distill_guard.parse_failure.compressed",
                "distill_guard.parse_failure.malformed",
                "distill_guard.parse_failure.too_deep",
                "distill_guard.parse_failure.wrong_shape",
            ]
        );
    }
}
