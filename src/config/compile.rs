//! Phase two: checks ranges and cross-references and builds [`Settings`].

use crate::fleet::settings::FleetSettings;
use std::net::IpAddr;

use super::raw::{owned, Mode, ParseErrorPolicy, RawConfig, RawRule, RawSource, ReasoningPolicy, RuleAction};
use super::ConfigError;
use crate::detect::config::DetectionSettings;
use crate::hash::SipKey;
use crate::verdict::Action;

/// Used when no `identity.secret` is configured. Public, so identity keys
/// are predictable from credentials: fine for trying the filter, and the
/// filter logs a warning.
pub const DEFAULT_SECRET: &[u8] = b"distill-guard default identity secret";

/// Largest `body.max_buffer_bytes` (and so `body.max_inspect_bytes`):
/// Envoy buffers what the filter holds.
pub const MAX_INSPECT_BYTES: u64 = 8 * 1024 * 1024;

/// Range of `response.reasoning_max_bytes`: an answer held to remove its
/// reasoning lives in the VM's memory until it is complete.
pub const REASONING_MIN_BYTES: usize = 64 * 1024;
pub const REASONING_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Longest `metrics.flush_interval_ms`: counters a minute late are the
/// most a dashboard should have to wait for.
pub const MAX_FLUSH_INTERVAL_MS: u64 = 60_000;

/// The range messages of the constants above, written out: a `format!` of
/// constants formats them at run time, ~100 bytes of the module a site
/// (issue 8). A test checks each against its `format!`.
const INSPECT_RANGE: &str = "must be between 1024 and 8388608";
const FLUSH_RANGE: &str = "must be at most 60000";
const REASONING_RANGE: &str = "must be between 65536 and 67108864";

/// A credential the identity is taken from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    /// `authorization: Bearer <token>`.
    Bearer,
    /// A header's whole value (`x-api-key`, `x-goog-api-key`, `api-key`, …).
    Header(String),
    /// Gemini's `?key=` query parameter.
    QueryKey,
    /// A claim of the JWT in this header (`authorization` → the Bearer token).
    JwtClaim { header: String, claim: String },
}

/// An operator rule, phrases lower-cased.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub phrases: Vec<String>,
    pub action: Action,
    pub reason: &'static str,
}

/// A CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The validated configuration the engine runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub mode: Mode,
    pub identity_sources: Vec<IdentitySource>,
    /// Where the caller's organisation is named (`identity.organization`).
    pub organization_sources: Vec<IdentitySource>,
    pub identity_key: SipKey,
    /// True when `identity.secret` was left empty.
    pub default_secret: bool,
    pub trusted_xff_hops: u32,
    pub tls_fingerprint_header: Option<String>,
    pub max_inspect_bytes: usize,
    pub max_buffer_bytes: usize,
    pub on_parse_error: ParseErrorPolicy,
    pub on_no_prompt_in_prefix: ParseErrorPolicy,
    pub throttle_status: u16,
    pub block_status: u16,
    pub retry_after_secs: u64,
    pub expose_reasons: bool,
    /// Set the decision's filter state for the access log
    /// (`access_log.filter_state`).
    pub filter_state: bool,
    /// Milliseconds between the glue's counter flushes; 0: each increment
    /// at once (`metrics.flush_interval_ms`).
    pub metrics_flush_interval_ms: u64,
    /// Remove reasoning from answers to tagged requests
    /// (`response.reasoning: strip`).
    pub strip_reasoning: bool,
    /// Bytes of an answer held to remove its reasoning.
    pub reasoning_max_bytes: usize,
    pub tag_threshold: f64,
    pub throttle_threshold: f64,
    pub block_threshold: f64,
    pub allow_identities: Vec<String>,
    pub allow_cidrs: Vec<Cidr>,
    pub rules: Vec<Rule>,
    pub identity_requests_per_minute: u64,
    pub namespace: String,
    pub detection: DetectionSettings,
    pub fleet: FleetSettings,
}

impl Default for Settings {
    fn default() -> Self {
        // The raw defaults always compile; fall back field by field is not
        // needed, but never panic: an impossible error yields a shadow-mode
        // configuration built by hand.
        Settings::try_from(RawConfig::default()).unwrap_or_else(|_| Settings::fallback())
    }
}

impl Settings {
    fn fallback() -> Settings {
        Settings {
            mode: Mode::Shadow,
            identity_sources: vec![IdentitySource::Bearer],
            organization_sources: Vec::new(),
            identity_key: SipKey::derive(DEFAULT_SECRET),
            default_secret: true,
            trusted_xff_hops: 0,
            tls_fingerprint_header: None,
            max_inspect_bytes: 256 * 1024,
            max_buffer_bytes: 1024 * 1024,
            on_parse_error: ParseErrorPolicy::Tag,
            on_no_prompt_in_prefix: ParseErrorPolicy::Block,
            throttle_status: 429,
            block_status: 403,
            retry_after_secs: 60,
            expose_reasons: false,
            filter_state: true,
            metrics_flush_interval_ms: 1000,
            strip_reasoning: false,
            reasoning_max_bytes: 4 * 1024 * 1024,
            tag_threshold: 0.4,
            throttle_threshold: 0.7,
            block_threshold: 0.9,
            allow_identities: Vec::new(),
            allow_cidrs: Vec::new(),
            rules: Vec::new(),
            identity_requests_per_minute: 0,
            namespace: "dg".to_owned(),
            detection: DetectionSettings::default(),
            fleet: FleetSettings::default(),
        }
    }
}

impl TryFrom<RawConfig> for Settings {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Settings, ConfigError> {
        let identity_sources = sources(&raw.identity.sources, "identity.sources")?;
        let organization_sources = sources(&raw.identity.organization, "identity.organization")?;
        if identity_sources.is_empty() {
            return Err(ConfigError::new(
                "identity.sources",
                "must name at least one credential",
            ));
        }
        // Checked and lower-cased at once.
        let tls_fingerprint_header = match &raw.identity.tls_fingerprint_header {
            Some(h) => Some(header_name(h).map_err(|m| ConfigError::new("identity.tls_fingerprint_header", m))?),
            None => None,
        };
        if raw.identity.trusted_xff_hops > 16 {
            return Err(ConfigError::new("identity.trusted_xff_hops", "must be at most 16"));
        }
        // The built-in key written out by hand is as public as leaving it empty.
        let default_secret = raw.identity.secret.is_empty() || raw.identity.secret.as_bytes() == DEFAULT_SECRET;
        if default_secret && raw.mode == Mode::Enforce {
            // A public key makes identity keys and every table slot
            // computable by anyone: records could be aimed at and denials
            // steered. Fine for trying the filter in shadow mode, not for
            // denying traffic.
            return Err(ConfigError::new(
                "identity.secret",
                "enforce mode needs a secret of your own: with the public built-in key anyone can compute identity keys and shared-data slots",
            ));
        }
        let secret = if default_secret {
            DEFAULT_SECRET
        } else {
            raw.identity.secret.as_bytes()
        };

        within(&[
            (
                "body.max_inspect_bytes",
                raw.body.max_inspect_bytes,
                1024,
                MAX_INSPECT_BYTES,
                INSPECT_RANGE,
            ),
            (
                "body.max_buffer_bytes",
                raw.body.max_buffer_bytes,
                1024,
                MAX_INSPECT_BYTES,
                INSPECT_RANGE,
            ),
        ])?;
        if raw.body.max_inspect_bytes > raw.body.max_buffer_bytes {
            return Err(ConfigError::new(
                "body.max_inspect_bytes",
                format!(
                    "{} is above body.max_buffer_bytes ({}): Envoy would stop reading the body before the filter reached its cap and the request would stall; raise Envoy's per_connection_buffer_limit_bytes and body.max_buffer_bytes to match, or lower the cap",
                    raw.body.max_inspect_bytes, raw.body.max_buffer_bytes
                ),
            ));
        }
        // At most 8 MiB (checked above): a usize on every target.
        let max_inspect_bytes = raw.body.max_inspect_bytes as usize;
        let max_buffer_bytes = raw.body.max_buffer_bytes as usize;

        const STATUS: &str = "must be an HTTP error status (400-599)";
        within(&[
            (
                "response.throttle_status",
                u64::from(raw.response.throttle_status),
                400,
                599,
                STATUS,
            ),
            (
                "response.block_status",
                u64::from(raw.response.block_status),
                400,
                599,
                STATUS,
            ),
            (
                "response.retry_after_secs",
                raw.response.retry_after_secs,
                1,
                86_400,
                "must be between 1 and 86400",
            ),
            (
                "metrics.flush_interval_ms",
                raw.metrics.flush_interval_ms,
                0,
                MAX_FLUSH_INTERVAL_MS,
                FLUSH_RANGE,
            ),
            (
                "response.reasoning_max_bytes",
                raw.response.reasoning_max_bytes,
                REASONING_MIN_BYTES as u64,
                REASONING_MAX_BYTES as u64,
                REASONING_RANGE,
            ),
        ])?;
        // At most 64 MiB (checked above).
        let reasoning_max_bytes = raw.response.reasoning_max_bytes as usize;

        let t = &raw.thresholds;
        for (path, v) in [
            ("thresholds.tag", t.tag),
            ("thresholds.throttle", t.throttle),
            ("thresholds.block", t.block),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(ConfigError::new(path, "must be in (0, 1]"));
            }
        }
        if !(t.tag <= t.throttle && t.throttle <= t.block) {
            return Err(ConfigError::new("thresholds", "must satisfy tag <= throttle <= block"));
        }

        let allow_identities = raw.allowlist.identities;
        for (i, id) in allow_identities.iter().enumerate() {
            if id.is_empty() || id.len() > 64 || !id.contains(':') {
                return Err(ConfigError::new(
                    format!("allowlist.identities[{i}]"),
                    "must be an identity key as the filter prints it (e.g. `k:0123456789abcdef`); never a raw credential",
                ));
            }
        }
        let mut allow_cidrs = Vec::with_capacity(raw.allowlist.client_cidrs.len());
        for (i, c) in raw.allowlist.client_cidrs.iter().enumerate() {
            let cidr = parse_cidr(c).map_err(|m| ConfigError::new(format!("allowlist.client_cidrs[{i}]"), m))?;
            allow_cidrs.push(cidr);
        }

        let mut rules = Vec::with_capacity(raw.rules.len());
        for (i, r) in raw.rules.iter().enumerate() {
            // The path is written only for a refused rule, from its field.
            let r = rule(r).map_err(|(field, message)| ConfigError::new(format!("rules[{i}].{field}"), message))?;
            rules.push(r);
        }

        let ns = &raw.shared_data.namespace;
        if ns.is_empty() || ns.len() > 32 || !ns.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(ConfigError::new(
                "shared_data.namespace",
                "must be 1-32 characters of [A-Za-z0-9_-]",
            ));
        }

        let mut detection = DetectionSettings::try_from(&raw.detection)?;
        detection.namespace.clone_from(ns);
        detection.deny_score = t.throttle;
        detection.slot_key = crate::detect::config::slot_key(secret);
        let fleet = FleetSettings::try_from(&raw.fleet)?;

        Ok(Settings {
            mode: raw.mode,
            identity_sources,
            organization_sources,
            identity_key: SipKey::derive(secret),
            default_secret,
            trusted_xff_hops: raw.identity.trusted_xff_hops,
            tls_fingerprint_header,
            max_inspect_bytes,
            max_buffer_bytes,
            on_parse_error: raw.body.on_parse_error,
            on_no_prompt_in_prefix: raw.body.on_no_prompt_in_prefix,
            throttle_status: raw.response.throttle_status,
            block_status: raw.response.block_status,
            retry_after_secs: raw.response.retry_after_secs,
            expose_reasons: raw.response.expose_reasons,
            filter_state: raw.access_log.filter_state,
            metrics_flush_interval_ms: raw.metrics.flush_interval_ms,
            strip_reasoning: raw.response.reasoning == ReasoningPolicy::Strip,
            reasoning_max_bytes,
            tag_threshold: t.tag,
            throttle_threshold: t.throttle,
            block_threshold: t.block,
            allow_identities,
            allow_cidrs,
            rules,
            identity_requests_per_minute: raw.limits.identity_requests_per_minute,
            namespace: raw.shared_data.namespace,
            detection,
            fleet,
        })
    }
}

/// Each `(path, value, lo, hi, message)` in order; the first value out of
/// its range is the error. One loop over a table, not a test and an error
/// per field (issue 8: module size).
#[inline(never)]
fn within(checks: &[(&'static str, u64, u64, u64, &'static str)]) -> Result<(), ConfigError> {
    for &(path, v, lo, hi, message) in checks {
        if !(lo..=hi).contains(&v) {
            return Err(ConfigError::new(path, message));
        }
    }
    Ok(())
}

/// Each source of a list (`identity.sources`, `identity.organization`),
/// the first refused one the error. A loop, not a `collect` into a
/// `Result`: one copy for both lists, without the iterator adapters'
/// (issue 8: module size). The error's path is written here, once, from
/// the suffix [`source`] names (a `format!` per path was ~100 bytes each).
#[inline(never)]
fn sources(list: &[RawSource], field: &str) -> Result<Vec<IdentitySource>, ConfigError> {
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        match source(s) {
            Ok(source) => out.push(source),
            Err((suffix, message)) => return Err(ConfigError::new(format!("{field}[{i}]{suffix}"), message)),
        }
    }
    Ok(out)
}

/// A header name, lower-cased; the message when it is not one.
fn header_name(h: &str) -> Result<String, String> {
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(format!("`{h}` is not a valid header name"));
    }
    Ok(h.to_ascii_lowercase())
}

/// A source, or the suffix of the refused field's path (`.header`, or
/// empty for the source itself) and the message.
fn source(s: &RawSource) -> Result<IdentitySource, (&'static str, String)> {
    match s {
        RawSource::Named(name) => match name.as_str() {
            "authorization" => Ok(IdentitySource::Bearer),
            "x-api-key" | "x-goog-api-key" | "api-key" => Ok(IdentitySource::Header(name.clone())),
            "query_key" => Ok(IdentitySource::QueryKey),
            other => Err((
                "",
                format!(
                    "unknown credential `{other}`: expected authorization, x-api-key, x-goog-api-key, api-key, query_key, {{\"header\": …}} or {{\"jwt_claim\": …}}"
                ),
            )),
        },
        RawSource::Header { header } => header_name(header)
            .map(IdentitySource::Header)
            .map_err(|m| (".header", m)),
        RawSource::JwtClaim {
            jwt_claim,
            header,
            verified_by_envoy,
        } => {
            if jwt_claim.is_empty() {
                return Err((".jwt_claim", owned("must name a claim")));
            }
            if !verified_by_envoy {
                return Err((
                    ".verified_by_envoy",
                    owned("must be true: the JWT's signature is not checked by this filter, so without Envoy's jwt_authn filter in front (rejecting requests whose token fails) anyone can forge a claim and put their traffic on another caller's identity; see docs/configuration.md"),
                ));
            }
            let header = match header {
                Some(h) => header_name(h).map_err(|m| (".header", m))?,
                None => owned("authorization"),
            };
            Ok(IdentitySource::JwtClaim { header, claim: jwt_claim.clone() })
        }
    }
}

/// A rule, or the refused field and the message.
fn rule(r: &RawRule) -> Result<Rule, (&'static str, &'static str)> {
    if r.phrases.is_empty() || r.phrases.iter().any(|p| p.trim().is_empty()) {
        return Err(("phrases", "must list non-empty phrases"));
    }
    let reason: &'static str = match &r.reason {
        None => "operator_rule",
        Some(code) => {
            if code.is_empty()
                || code.len() > 48
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(("reason", "must be 1-48 characters of [a-z0-9_]"));
            }
            intern_reason(code)
        }
    };
    let action = match r.action {
        RuleAction::Tag => Action::Tag,
        RuleAction::Throttle => Action::Throttle,
        RuleAction::Block => Action::Block,
    };
    Ok(Rule {
        phrases: r.phrases.iter().map(|p| crate::unicase::lower_str(p)).collect(),
        action,
        reason,
    })
}

/// A rule's reason code as the `&'static str` every reason code is. Each
/// distinct code is leaked once per process and reused afterwards: Envoy
/// runs `on_configure` in every worker VM and again on every reload, and
/// leaking a fresh copy each time would grow memory with every reload.
fn intern_reason(code: &str) -> &'static str {
    static CODES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut codes) = CODES.lock() else {
        // A poisoned lock cannot happen without a panic elsewhere; leaking
        // one string is the safe answer.
        return Box::leak(owned(code).into_boxed_str());
    };
    if let Some(known) = codes.iter().find(|c| **c == code) {
        return known;
    }
    let leaked: &'static str = Box::leak(owned(code).into_boxed_str());
    codes.push(leaked);
    leaked
}

/// `a.b.c.d/n` or `x::y/n`; a bare address is a /32 or /128.
pub fn parse_cidr(s: &str) -> Result<Cidr, String> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr =
        crate::netaddr::parse_ip(addr.trim()).ok_or_else(|| format!("`{s}` is not an address or CIDR block"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("`{s}`: prefix must be 0-{max}"))?,
        None => max,
    };
    Ok(Cidr { addr, prefix })
}

#[cfg(test)]
mod messages {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn written_out_messages_are_their_formats() {
        assert_eq!(INSPECT_RANGE, format!("must be between 1024 and {MAX_INSPECT_BYTES}"));
        assert_eq!(FLUSH_RANGE, format!("must be at most {MAX_FLUSH_INTERVAL_MS}"));
        assert_eq!(
            REASONING_RANGE,
            format!("must be between {REASONING_MIN_BYTES} and {REASONING_MAX_BYTES}")
        );
    }
}
