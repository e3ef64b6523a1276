//! The `detection` section of the configuration: raw (serde, every field
//! defaulted) and compiled ([`DetectionSettings`], ranges checked).
//!
//! Defaults ship tuned: `{"mode": "enforce"}` alone is a production setting.

use serde::Deserialize;

use crate::config::ConfigError;
use crate::hash::SipKey;

/// Most extra phrases accepted (each is searched in every request).
pub const MAX_EXTRA_PHRASES: usize = 256;
/// Its message written out (not a `format!` of the constant: issue 8,
/// module size); a test checks it against the `format!`.
const EXTRA_PHRASES_LIMIT: &str = "at most 256 phrases";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDetection {
    /// Turn detection off (score always 0; operator rules and static limits
    /// still apply).
    pub enabled: bool,
    /// Slots of the per-identity table (cadence, first seen, dynamic limit).
    /// Fixes that table's shared-data keys; 1 to 1,048,576.
    pub identity_slots: u64,
    /// Slots of the template table (distinct accounts and texts per template
    /// skeleton); 1 to 1,048,576.
    pub template_slots: u64,
    /// Slots of the address-block table (/24 IPv4, /48 IPv6): distinct
    /// accounts per block; 1 to 1,048,576.
    pub network_slots: u64,
    /// Length in seconds of a correlation window: distinct-account counts
    /// cover the current and the previous window. 600 to 604,800.
    pub window_secs: u64,
    /// Tokens in a template skeleton (the first and the last `k` normalised
    /// words of a user turn). 3 to 64.
    pub skeleton_tokens: u64,
    /// Distinct accounts on one template below which sharing means nothing.
    pub share_min_accounts: u64,
    /// Distinct accounts on one template at which sharing counts fully.
    pub share_full_accounts: u64,
    /// Distinct accounts in one address block at which shared
    /// infrastructure counts fully (it starts at a quarter of this).
    pub infra_full_accounts: u64,
    /// `max_output_tokens` at or above which a request asks for a long
    /// harvest.
    pub long_output_tokens: u64,
    /// Dynamic limits: length of their window in seconds (1 to 86,400).
    pub limit_window_secs: u64,
    /// Requests one identity may send per limit window once its score
    /// reaches the tag threshold; shrinks as the score grows. 0 turns the
    /// identity limit off.
    pub identity_limit: u64,
    /// Requests one template cluster (all accounts together) may send per
    /// limit window once its score reaches the tag threshold; shrinks as the
    /// score grows. 0 turns the cluster limit off.
    pub cluster_limit: u64,
    /// Output tokens (read from the upstream's answers) one identity may
    /// receive per limit window once its score reaches `limit_min_score`;
    /// shrinks as the score grows. 0 turns the token budget off.
    pub token_limit: u64,
    /// Output tokens one template cluster (all its accounts together) may
    /// receive per limit window once the requesting identity's score
    /// reaches `limit_min_score`; shrinks as the score grows. 0 turns the
    /// cluster's token budget off.
    pub cluster_token_limit: u64,
    /// Output tokens from which an answer counts as long in its cluster's
    /// share of long answers (harvest measured in tokens).
    pub long_answer_tokens: u64,
    /// Score from which dynamic limits apply, in (0, 1].
    pub limit_min_score: f64,
    /// Seconds in which an identity's remembered score halves while it is
    /// idle (60 to 2,592,000). A denial by history says in `Retry-After`
    /// when the memory will let the identity through.
    pub memory_half_life_secs: u64,
    /// More reasoning-elicitation or dataset-generation phrases:
    /// `{"phrase": "…", "weight": 0.5}` (case-insensitive, weight in (0, 1]).
    pub extra_phrases: Vec<RawPhrase>,
    /// Seconds an identity stays denied after detection denied it (its
    /// dynamic limit, its cluster's, or its score); doubles with each
    /// recent denial. 0 turns cool-downs off; at most 604,800.
    pub cooldown_secs: u64,
    /// The longest cool-down, in seconds (at least `cooldown_secs`, at most
    /// 2,592,000).
    pub cooldown_max_secs: u64,
    /// Seconds in which an identity's count of recent denials halves once
    /// its cool-down is over (60 to 2,592,000).
    pub cooldown_forget_secs: u64,
}

impl Default for RawDetection {
    fn default() -> Self {
        RawDetection {
            enabled: true,
            identity_slots: 16_384,
            template_slots: 8_192,
            network_slots: 4_096,
            window_secs: 86_400,
            skeleton_tokens: 8,
            share_min_accounts: 4,
            share_full_accounts: 40,
            infra_full_accounts: 40,
            long_output_tokens: 8_192,
            limit_window_secs: 600,
            identity_limit: 60,
            cluster_limit: 240,
            token_limit: 15_000,
            cluster_token_limit: 30_000,
            long_answer_tokens: 2_048,
            limit_min_score: 0.4,
            memory_half_life_secs: 1_209_600,
            extra_phrases: Vec::new(),
            cooldown_secs: 600,
            cooldown_max_secs: 86_400,
            cooldown_forget_secs: 86_400,
        }
    }
}

/// One configured phrase.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhrase {
    /// Text to look for (case-insensitive, whitespace collapsed).
    pub phrase: String,
    /// How strongly it signals elicitation, in (0, 1].
    pub weight: f64,
}

/// The compiled `detection` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectionSettings {
    pub enabled: bool,
    pub identity_slots: u64,
    pub template_slots: u64,
    pub network_slots: u64,
    pub window_secs: u64,
    pub skeleton_tokens: usize,
    pub share_min_accounts: u64,
    pub share_full_accounts: u64,
    pub infra_full_accounts: u64,
    pub long_output_tokens: u64,
    pub limit_window_secs: u64,
    pub identity_limit: u64,
    pub cluster_limit: u64,
    pub token_limit: u64,
    pub cluster_token_limit: u64,
    pub long_answer_tokens: u64,
    pub limit_min_score: f64,
    pub memory_half_life_secs: u64,
    /// Lower-cased, whitespace-collapsed phrases with their weights.
    pub extra_phrases: Vec<(String, f64)>,
    /// Denial cool-downs (`cooldown_*`).
    pub cooldown: super::cooldown::Policy,
    /// Score from which a request is denied (`thresholds.throttle`, filled
    /// by the engine's configuration): such a denial starts a cool-down.
    pub deny_score: f64,
    /// Shared-data key prefix (`shared_data.namespace`), filled by the
    /// engine's configuration; `dg` by default.
    pub namespace: String,
    /// Key of the slot placement (`slots`), derived from `identity.secret`
    /// by the engine's configuration; from the public default secret here.
    pub slot_key: SipKey,
}

/// The slot placement key for a deployment secret: domain-separated from
/// the identity key derived from the same secret.
pub fn slot_key(secret: &[u8]) -> SipKey {
    let mut material = b"distill-guard slot placement:".to_vec();
    material.extend_from_slice(secret);
    SipKey::derive(&material)
}

impl Default for DetectionSettings {
    fn default() -> Self {
        DetectionSettings::try_from(&RawDetection::default()).unwrap_or_else(|_| DetectionSettings::fallback())
    }
}

impl DetectionSettings {
    /// Never used unless the defaults above stop compiling; keeps `Default`
    /// panic-free.
    fn fallback() -> DetectionSettings {
        DetectionSettings {
            enabled: false,
            identity_slots: 1,
            template_slots: 1,
            network_slots: 1,
            window_secs: 86_400,
            skeleton_tokens: 8,
            share_min_accounts: 4,
            share_full_accounts: 40,
            infra_full_accounts: 40,
            long_output_tokens: 8_192,
            limit_window_secs: 600,
            identity_limit: 0,
            cluster_limit: 0,
            token_limit: 0,
            cluster_token_limit: 0,
            long_answer_tokens: 2_048,
            limit_min_score: 1.0,
            memory_half_life_secs: 1_209_600,
            extra_phrases: Vec::new(),
            cooldown: super::cooldown::Policy {
                base_secs: 0,
                max_secs: 0,
                forget_secs: 86_400,
            },
            deny_score: 0.7,
            namespace: "dg".to_owned(),
            slot_key: slot_key(crate::config::compile::DEFAULT_SECRET),
        }
    }
}

fn range(path: &str, v: u64, lo: u64, hi: u64) -> Result<u64, ConfigError> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::new(
            format!("detection.{path}"),
            format!("must be between {lo} and {hi}"),
        ))
    }
}

/// Each `(field, value, lo, hi)` in order; the first out of range is the
/// error. One loop over a table rather than a call and an error return per
/// field (issue 8: module size); a value in range is used as it is.
#[inline(never)]
fn ranges(checks: &[(&str, u64, u64, u64)]) -> Result<(), ConfigError> {
    for &(path, v, lo, hi) in checks {
        range(path, v, lo, hi)?;
    }
    Ok(())
}

impl TryFrom<&RawDetection> for DetectionSettings {
    type Error = ConfigError;

    fn try_from(raw: &RawDetection) -> Result<DetectionSettings, ConfigError> {
        const MAX_SLOTS: u64 = 1 << 20;
        ranges(&[
            ("share_min_accounts", raw.share_min_accounts, 2, 10_000),
            ("share_full_accounts", raw.share_full_accounts, 2, 100_000),
        ])?;
        if raw.share_full_accounts <= raw.share_min_accounts {
            return Err(ConfigError::new(
                "detection.share_full_accounts",
                "must be greater than detection.share_min_accounts",
            ));
        }
        if !(raw.limit_min_score > 0.0 && raw.limit_min_score <= 1.0) {
            return Err(ConfigError::new("detection.limit_min_score", "must be in (0, 1]"));
        }
        if raw.extra_phrases.len() > MAX_EXTRA_PHRASES {
            return Err(ConfigError::new("detection.extra_phrases", EXTRA_PHRASES_LIMIT));
        }
        let mut extra_phrases = Vec::with_capacity(raw.extra_phrases.len());
        for (i, p) in raw.extra_phrases.iter().enumerate() {
            let text = super::normalize::lower_collapsed(&p.phrase, 1024);
            // One path written for either refusal (a `format!` each was
            // ~100 bytes of the module).
            let refused = if text.is_empty() || p.phrase.len() > 200 {
                Some(("phrase", "must be 1 to 200 bytes of text"))
            } else if !(p.weight > 0.0 && p.weight <= 1.0) {
                Some(("weight", "must be in (0, 1]"))
            } else {
                None
            };
            if let Some((field, message)) = refused {
                return Err(ConfigError::new(
                    format!("detection.extra_phrases[{i}].{field}"),
                    message,
                ));
            }
            extra_phrases.push((text, p.weight));
        }
        // `cooldown_max_secs` is checked against `cooldown_secs` after
        // that one is known to be in range.
        ranges(&[
            ("cooldown_secs", raw.cooldown_secs, 0, 604_800),
            ("cooldown_max_secs", raw.cooldown_max_secs, raw.cooldown_secs, 2_592_000),
            ("cooldown_forget_secs", raw.cooldown_forget_secs, 60, 2_592_000),
            ("identity_slots", raw.identity_slots, 1, MAX_SLOTS),
            ("template_slots", raw.template_slots, 1, MAX_SLOTS),
            ("network_slots", raw.network_slots, 1, MAX_SLOTS),
            ("window_secs", raw.window_secs, 600, 604_800),
            ("skeleton_tokens", raw.skeleton_tokens, 3, 64),
            ("infra_full_accounts", raw.infra_full_accounts, 2, 1_000_000),
            ("long_output_tokens", raw.long_output_tokens, 256, 10_000_000),
            ("limit_window_secs", raw.limit_window_secs, 1, 86_400),
            ("identity_limit", raw.identity_limit, 0, 1_000_000),
            ("cluster_limit", raw.cluster_limit, 0, 10_000_000),
            ("token_limit", raw.token_limit, 0, 1_000_000_000),
            ("cluster_token_limit", raw.cluster_token_limit, 0, 10_000_000_000),
            ("long_answer_tokens", raw.long_answer_tokens, 1, 10_000_000),
            ("memory_half_life_secs", raw.memory_half_life_secs, 60, 2_592_000),
        ])?;
        Ok(DetectionSettings {
            enabled: raw.enabled,
            identity_slots: raw.identity_slots,
            template_slots: raw.template_slots,
            network_slots: raw.network_slots,
            window_secs: raw.window_secs,
            // At most 64 (checked above).
            skeleton_tokens: raw.skeleton_tokens as usize,
            share_min_accounts: raw.share_min_accounts,
            share_full_accounts: raw.share_full_accounts,
            infra_full_accounts: raw.infra_full_accounts,
            long_output_tokens: raw.long_output_tokens,
            limit_window_secs: raw.limit_window_secs,
            identity_limit: raw.identity_limit,
            cluster_limit: raw.cluster_limit,
            token_limit: raw.token_limit,
            cluster_token_limit: raw.cluster_token_limit,
            long_answer_tokens: raw.long_answer_tokens,
            limit_min_score: raw.limit_min_score,
            memory_half_life_secs: raw.memory_half_life_secs,
            extra_phrases,
            cooldown: super::cooldown::Policy {
                base_secs: raw.cooldown_secs,
                max_secs: raw.cooldown_max_secs,
                forget_secs: raw.cooldown_forget_secs,
            },
            deny_score: 0.7,
            namespace: crate::config::raw::owned("dg"),
            slot_key: slot_key(crate::config::compile::DEFAULT_SECRET),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn compile(json: &str) -> Result<DetectionSettings, ConfigError> {
        let raw: RawDetection = serde_json::from_str(json).unwrap();
        DetectionSettings::try_from(&raw)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn written_out_message_is_its_format() {
        assert_eq!(EXTRA_PHRASES_LIMIT, format!("at most {MAX_EXTRA_PHRASES} phrases"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn defaults_compile() {
        let s = compile("{}").unwrap();
        assert_eq!(s, DetectionSettings::default());
        assert!(s.enabled && s.identity_limit > 0 && s.template_slots == 8192);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn errors_name_the_field() {
        for (json, path) in [
            (r#"{"identity_slots": 0}"#, "detection.identity_slots"),
            (r#"{"template_slots": 99999999}"#, "detection.template_slots"),
            (r#"{"window_secs": 5}"#, "detection.window_secs"),
            (r#"{"skeleton_tokens": 1}"#, "detection.skeleton_tokens"),
            (
                r#"{"share_min_accounts": 50, "share_full_accounts": 40}"#,
                "detection.share_full_accounts",
            ),
            (r#"{"limit_min_score": 0}"#, "detection.limit_min_score"),
            (r#"{"cooldown_secs": 700000}"#, "detection.cooldown_secs"),
            (
                r#"{"cooldown_secs": 600, "cooldown_max_secs": 60}"#,
                "detection.cooldown_max_secs",
            ),
            (r#"{"cooldown_forget_secs": 5}"#, "detection.cooldown_forget_secs"),
            (
                r#"{"extra_phrases": [{"phrase": "  ", "weight": 0.5}]}"#,
                "detection.extra_phrases[0].phrase",
            ),
            (
                r#"{"extra_phrases": [{"phrase": "x", "weight": 1.5}]}"#,
                "detection.extra_phrases[0].weight",
            ),
        ] {
            let err = compile(json).unwrap_err();
            assert_eq!(err.path, path, "{json}: {err}");
            assert!(!err.message.is_empty());
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn unknown_fields_are_refused_and_phrases_normalised() {
        assert!(serde_json::from_str::<RawDetection>(r#"{"bogus": 1}"#).is_err());
        let s = compile(r#"{"extra_phrases": [{"phrase": "Explain  Your\nREASONING", "weight": 0.4}]}"#).unwrap();
        assert_eq!(s.extra_phrases, vec![("explain your reasoning".to_owned(), 0.4)]);
    }
}
