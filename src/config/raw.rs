//! Phase one: the configuration document as written, every field defaulted
//! (read by `super::read`; the serde derives serve the native tools and the
//! reader's tests).
//! Every field here has a `///` doc and a line in docs/configuration.md.

use serde::Deserialize;

use super::ConfigError;
use crate::detect::config::RawDetection;
use crate::fleet::settings::RawFleet;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// `shadow` (observe, tag and count, never deny) or `enforce`.
    pub mode: Mode,
    pub identity: RawIdentity,
    pub body: RawBody,
    pub response: RawResponse,
    pub thresholds: RawThresholds,
    pub allowlist: RawAllowlist,
    /// Operator rules: phrases that map straight to an action.
    pub rules: Vec<RawRule>,
    pub limits: RawLimits,
    pub shared_data: RawSharedData,
    pub detection: RawDetection,
    /// Fleet sync (off by default): see `fleet::settings`.
    pub fleet: RawFleet,
    pub access_log: RawAccessLog,
    pub metrics: RawMetrics,
}

impl RawConfig {
    /// Parses JSON; empty input means all defaults.
    pub fn from_bytes(bytes: &[u8]) -> Result<RawConfig, ConfigError> {
        // Read as `{}` (every field its default), so that the defaults are
        // built in one place of the module (issue 8: module size).
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return super::read::config(b"{}");
        }
        // serde would accept a struct written as an array; say plainly what
        // is expected instead.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ConfigError::new(".", "the configuration must be a JSON object"));
        }
        super::read::config(bytes)
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Observe, tag and count; what would be denied is tagged instead.
    #[default]
    Shadow,
    /// Apply throttle and block.
    Enforce,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawIdentity {
    /// Credentials that identify a caller, tried in order; the first present
    /// wins. Names: `authorization` (a `Bearer` token), `x-api-key`,
    /// `x-goog-api-key`, `api-key` (Azure), `query_key` (Gemini's `?key=`);
    /// or `{"header": "x-user-id"}`; or `{"jwt_claim": "sub",
    /// "verified_by_envoy": true}` (payload of the `Bearer` JWT, optionally
    /// `"header": "x-jwt"`; only behind Envoy's `jwt_authn`).
    pub sources: Vec<RawSource>,
    /// Secret for the keyed hash that turns credentials into identity keys.
    /// Empty: a public built-in key, for shadow mode only (a warning is
    /// logged); enforce mode refuses it.
    pub secret: String,
    /// How many `x-forwarded-for` hops, counted from the right, were added by
    /// proxies you trust. 0 (default): the downstream peer address is the
    /// client and the header is ignored.
    pub trusted_xff_hops: u32,
    /// Header carrying a TLS client fingerprint (JA3/JA4) that Envoy or a
    /// front proxy sets, e.g. `x-ja4`. Unset: no TLS fingerprint.
    pub tls_fingerprint_header: Option<String>,
    /// Where the caller's organisation (one customer) is named, tried in
    /// order, the first present wins: `{"header": "openai-organization"}`,
    /// `{"header": "openai-project"}`, an operator's header, or a
    /// `{"jwt_claim": "org_id", "verified_by_envoy": true}`. Keys of one
    /// organisation count as one account in template clusters, so a
    /// template shared inside one customer is not read as shared across
    /// accounts. Empty (default): every key is its own account.
    pub organization: Vec<RawSource>,
}

/// A default's text as a `String`: one copy of the allocation and the
/// copy for the defaults' nine texts, each inlined before (issue 8: module
/// size).
#[inline(never)]
pub(crate) fn owned(text: &str) -> String {
    text.to_owned()
}

impl Default for RawIdentity {
    fn default() -> Self {
        RawIdentity {
            sources: ["authorization", "x-api-key", "x-goog-api-key", "api-key", "query_key"]
                .iter()
                .map(|s| RawSource::Named(owned(s)))
                .collect(),
            secret: String::new(),
            trusted_xff_hops: 0,
            tls_fingerprint_header: None,
            organization: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum RawSource {
    Named(String),
    Header {
        header: String,
    },
    JwtClaim {
        jwt_claim: String,
        #[serde(default)]
        header: Option<String>,
        /// Required `true`: the operator states that Envoy's `jwt_authn`
        /// filter in front verifies this header's token on every request
        /// that reaches this filter (the claim is read, not verified, here).
        #[serde(default)]
        verified_by_envoy: bool,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawBody {
    /// Bytes of a request body inspected, counted after whitespace outside
    /// strings and long base64 runs are dropped; the rest is not read (it
    /// still reaches the upstream). At most `max_buffer_bytes`.
    pub max_inspect_bytes: u64,
    /// Raw body bytes the filter holds at most while it reads the prefix
    /// (Envoy buffers them). Set it to Envoy's
    /// `per_connection_buffer_limit_bytes` (1 MiB by default) or lower:
    /// Envoy stops reading a body it holds more than that of.
    pub max_buffer_bytes: u64,
    /// What to do with a body that cannot be parsed: `allow`, `tag`, or
    /// `block` (enforce mode only).
    pub on_parse_error: ParseErrorPolicy,
    /// What to do with a body cut off (at either bound) before any prompt
    /// text: `allow`, `tag`, or `block` (enforce mode only; default
    /// `block`, see docs/configuration.md).
    pub on_no_prompt_in_prefix: ParseErrorPolicy,
}

impl Default for RawBody {
    fn default() -> Self {
        RawBody {
            max_inspect_bytes: 256 * 1024,
            max_buffer_bytes: 1024 * 1024,
            on_parse_error: ParseErrorPolicy::Tag,
            on_no_prompt_in_prefix: ParseErrorPolicy::Block,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ParseErrorPolicy {
    Allow,
    Tag,
    Block,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawResponse {
    /// Status for `throttle` (4xx or 5xx).
    pub throttle_status: u16,
    /// Status for `block` (4xx or 5xx).
    pub block_status: u16,
    /// `Retry-After` seconds when throttling is not driven by a rate limit
    /// that knows better.
    pub retry_after_secs: u64,
    /// Add `x-distill-guard-action`, `-score` and `-reasons` to denial
    /// answers. For debugging only: every denial then tells the caller which
    /// detector fired. Default false.
    pub expose_reasons: bool,
    /// Reasoning in answers to requests forwarded with the action `tag`:
    /// `keep` (default) or `strip` (see `response::reasoning`). Answers to
    /// every other request are never modified.
    pub reasoning: ReasoningPolicy,
    /// Bytes of an answer held to remove its reasoning: a whole JSON answer,
    /// or one event of a stream (65536–67108864).
    pub reasoning_max_bytes: u64,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningPolicy {
    /// Answers go on as the upstream sent them.
    #[default]
    Keep,
    /// Reasoning is removed from answers to tagged requests.
    Strip,
}

impl Default for RawResponse {
    fn default() -> Self {
        RawResponse {
            throttle_status: 429,
            block_status: 403,
            retry_after_secs: 60,
            expose_reasons: false,
            reasoning: ReasoningPolicy::Keep,
            reasoning_max_bytes: 4 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawThresholds {
    /// Score at or above which a request is tagged.
    pub tag: f64,
    /// Score at or above which a request is throttled.
    pub throttle: f64,
    /// Score at or above which a request is blocked.
    pub block: f64,
}

impl Default for RawThresholds {
    fn default() -> Self {
        RawThresholds {
            tag: 0.4,
            throttle: 0.7,
            block: 0.9,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RawAllowlist {
    /// Identity keys (as the filter prints them, `k:…`) that are never
    /// denied: e.g. a partner's evaluation keys. `distill-guard identity`
    /// computes the key of a credential.
    pub identities: Vec<String>,
    /// Client address blocks (CIDR) that are never denied.
    pub client_cidrs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Case-insensitive phrases; a rule matches when any appears in the
    /// system text or a user turn.
    pub phrases: Vec<String>,
    /// `tag`, `throttle` or `block`.
    pub action: RuleAction,
    /// Reason code reported, `snake_case` (default `operator_rule`).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    Tag,
    Throttle,
    Block,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RawLimits {
    /// Requests per minute one identity may send before it is throttled,
    /// whatever its score; 0 (default) turns the static limit off.
    pub identity_requests_per_minute: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSharedData {
    /// Prefix of every shared-data key; change it to run two independent
    /// filter configurations in one VM id.
    pub namespace: String,
}

/// What the filter leaves for Envoy's access log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAccessLog {
    /// Set each decision's `distill_guard.*` filter state (action, intended,
    /// mode, score, reasons, identity) for `%FILTER_STATE(...)%`. Default
    /// true; false saves six host calls per decided request where nothing
    /// reads them.
    pub filter_state: bool,
}

/// How the filter's counters reach Envoy's stats.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetrics {
    /// Counter increments are held in each worker's VM and sent every this
    /// many milliseconds (rounded up to the 500 ms tick), one host call per
    /// counter that moved instead of ~11 per request; 0 sends each at once.
    /// Default 1000: well inside Envoy's 5 s stats flush and a 15 s
    /// Prometheus scrape. At most 60000.
    pub flush_interval_ms: u64,
}

impl Default for RawMetrics {
    fn default() -> Self {
        RawMetrics {
            flush_interval_ms: 1000,
        }
    }
}

impl Default for RawAccessLog {
    fn default() -> Self {
        RawAccessLog { filter_state: true }
    }
}

impl Default for RawSharedData {
    fn default() -> Self {
        RawSharedData { namespace: owned("dg") }
    }
}
