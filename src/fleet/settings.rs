//! The `fleet` configuration section: off by default (one Envoy works
//! alone, as without it); on, the filter syncs its detection records with a
//! sync service that Envoy reaches through a cluster of its own.

use serde::Deserialize;

use super::wire::MacKey;
use crate::config::raw::owned;
use crate::config::ConfigError;

/// Hard cap on records in one sync message (either way).
pub const MAX_RECORDS: u64 = 16_384;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawFleet {
    /// Sync detection state with the rest of the fleet.
    pub enabled: bool,
    /// Envoy cluster (in the bootstrap) that reaches the sync service.
    pub cluster: String,
    /// `:authority` of the sync calls.
    pub authority: String,
    /// Path of the sync endpoint.
    pub path: String,
    /// Shared secret that authenticates sync messages both ways (keyed MAC);
    /// the sync service is started with the same one. At least 16 bytes.
    pub secret: String,
    /// Seconds between syncs (1-300).
    pub sync_secs: u64,
    /// How long one sync call may take (100 ms up to `sync_secs`).
    pub timeout_ms: u64,
    /// Most records in one sync message, each way (1-16384).
    pub max_records: u64,
}

impl Default for RawFleet {
    fn default() -> Self {
        RawFleet {
            enabled: false,
            cluster: owned("distill_guard_fleet"),
            authority: owned("distill-guard-fleet"),
            path: owned("/v1/sync"),
            secret: String::new(),
            sync_secs: 5,
            timeout_ms: 2_000,
            max_records: 4_096,
        }
    }
}

/// The compiled section.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetSettings {
    pub enabled: bool,
    pub cluster: String,
    pub authority: String,
    pub path: String,
    pub key: MacKey,
    pub sync_secs: u64,
    pub timeout_ms: u64,
    pub max_records: usize,
}

impl Default for FleetSettings {
    fn default() -> Self {
        let raw = RawFleet::default();
        FleetSettings {
            enabled: false,
            cluster: raw.cluster,
            authority: raw.authority,
            path: raw.path,
            key: MacKey::from_secret(b""),
            sync_secs: raw.sync_secs,
            timeout_ms: raw.timeout_ms,
            max_records: 4_096,
        }
    }
}

fn within(path: &str, v: u64, lo: u64, hi: u64) -> Result<u64, ConfigError> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::new(
            format!("fleet.{path}"),
            format!("must be between {lo} and {hi}"),
        ))
    }
}

/// Whether `s` holds whitespace or a control character. One copy for the
/// three names checked (issue 8: module size).
#[inline(never)]
fn blank_or_control(s: &str) -> bool {
    s.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl TryFrom<&RawFleet> for FleetSettings {
    type Error = ConfigError;

    fn try_from(raw: &RawFleet) -> Result<FleetSettings, ConfigError> {
        let sync_secs = within("sync_secs", raw.sync_secs, 1, 300)?;
        let timeout_ms = within("timeout_ms", raw.timeout_ms, 100, sync_secs * 1_000)?;
        let max_records = within("max_records", raw.max_records, 1, MAX_RECORDS)?;
        if raw.enabled {
            if raw.secret.len() < 16 {
                return Err(ConfigError::new(
                    "fleet.secret",
                    "must be at least 16 bytes when fleet is enabled (the sync service has the same)",
                ));
            }
            for (path, v) in [("fleet.cluster", &raw.cluster), ("fleet.authority", &raw.authority)] {
                if v.is_empty() || blank_or_control(v) {
                    return Err(ConfigError::new(path, "must be a non-empty name"));
                }
            }
            if !raw.path.starts_with('/') || blank_or_control(&raw.path) {
                return Err(ConfigError::new("fleet.path", "must be a path starting with `/`"));
            }
        }
        Ok(FleetSettings {
            enabled: raw.enabled,
            cluster: raw.cluster.clone(),
            authority: raw.authority.clone(),
            path: raw.path.clone(),
            key: MacKey::from_secret(raw.secret.as_bytes()),
            sync_secs,
            timeout_ms,
            max_records: usize::try_from(max_records).unwrap_or(4_096),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn compile(json: &str) -> Result<Settings, ConfigError> {
        crate::config::load(json.as_bytes())
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn off_by_default_and_validated() {
        let s = compile("{}").unwrap();
        assert!(!s.fleet.enabled);
        let s = compile(r#"{"fleet": {"enabled": true, "secret": "0123456789abcdef", "sync_secs": 2}}"#).unwrap();
        assert!(s.fleet.enabled && s.fleet.sync_secs == 2 && s.fleet.cluster == "distill_guard_fleet");
        for (json, path) in [
            (r#"{"fleet": {"enabled": true}}"#, "fleet.secret"),
            (r#"{"fleet": {"enabled": true, "secret": "short"}}"#, "fleet.secret"),
            (r#"{"fleet": {"sync_secs": 0}}"#, "fleet.sync_secs"),
            (r#"{"fleet": {"sync_secs": 2, "timeout_ms": 2500}}"#, "fleet.timeout_ms"),
            (r#"{"fleet": {"max_records": 100000}}"#, "fleet.max_records"),
            (
                r#"{"fleet": {"enabled": true, "secret": "0123456789abcdef", "path": "v1"}}"#,
                "fleet.path",
            ),
            (
                r#"{"fleet": {"enabled": true, "secret": "0123456789abcdef", "cluster": ""}}"#,
                "fleet.cluster",
            ),
            (r#"{"fleet": {"bogus": 1}}"#, "fleet"),
            (
                r#"{"fleet": {"enabled": true, "secret": "0123456789abcdef", "authority": "sync service"}}"#,
                "fleet.authority",
            ),
            (
                r#"{"fleet": {"enabled": true, "secret": "0123456789abcdef", "cluster": "fleet\u0007"}}"#,
                "fleet.cluster",
            ),
            (
                r#"{"fleet": {"enabled": true, "secret": "0123456789abcdef", "path": "/v1/\u2003sync"}}"#,
                "fleet.path",
            ),
        ] {
            let e = compile(json).unwrap_err();
            assert!(e.path.starts_with(path), "{json}: {e}");
            if path != "fleet" {
                assert_eq!(e.path, path, "{json}: {e}");
            }
        }
    }
}
