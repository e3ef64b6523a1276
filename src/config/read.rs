//! The configuration schema read by hand with [`super::json::Reader`]: every
//! section's fields, in the order serde lists them in an `unknown field`
//! message. Each reader destructures its struct without `..`, so a field
//! added to a `Raw*` struct does not compile until it is read here too.
//! Defaults are the structs' own `Default`: the document's default is
//! built once and each section present is read into its part in place
//! (what serde did, a section's own default then its fields, without a
//! second default built, moved and dropped per section: ~2.3 KB of the
//! module; issue 8).

use super::json::{Content, Number, Path, Reader};
use super::raw::{
    Mode, ParseErrorPolicy, RawAccessLog, RawAllowlist, RawBody, RawConfig, RawIdentity, RawLimits, RawMetrics,
    RawResponse, RawRule, RawSharedData, RawSource, RawThresholds, ReasoningPolicy, RuleAction,
};
use super::ConfigError;
use crate::detect::config::{RawDetection, RawPhrase};
use crate::fleet::settings::RawFleet;

type Result<T> = std::result::Result<T, ConfigError>;

/// The whole document (the caller has checked it is an object).
pub fn config(bytes: &[u8]) -> Result<RawConfig> {
    let mut r = Reader::new(bytes);
    let raw = root(&mut r, &Path::Root)?;
    r.end()?;
    Ok(raw)
}

/// Reads an object whose keys must be among `fields` (each at most once),
/// calling `set` with each key's index in `fields` to read its value.
/// Not generic (`dyn`), and the value readers below are never inlined: one
/// copy of each serves every field, which keeps the module small; `set`
/// matches the index, not the name again (a string comparison per field
/// was ~2 KB of the module).
#[inline(never)]
fn fields(
    r: &mut Reader<'_>,
    path: &Path<'_>,
    expected: &str,
    fields: &[&str],
    set: &mut dyn FnMut(&mut Reader<'_>, usize, &Path<'_>) -> Result<()>,
) -> Result<()> {
    let mut seen = 0u64;
    r.object(path, expected, &mut |r, key| {
        let Some(i) = fields.iter().position(|f| *f == key) else {
            return Err(r.schema_error(&Path::Field(path, key), &unknown("field", key, fields)));
        };
        if seen & (1 << i) != 0 {
            return Err(r.schema_error(path, &format!("duplicate field `{key}`")));
        }
        seen |= 1 << i;
        r.colon(path)?;
        let field = Path::Field(path, key);
        set(r, i, &field)
    })
}

/// serde's `unknown field `x`, expected one of `a`, `b`` (and variants).
fn unknown(what: &str, name: &str, expected: &[&str]) -> String {
    let list = expected.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>();
    let alternatives = match list.as_slice() {
        [] => super::raw::owned("nothing"),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        all => format!("one of {}", all.join(", ")),
    };
    format!("unknown {what} `{name}`, expected {alternatives}")
}

#[inline(never)]
fn missing(r: &mut Reader<'_>, path: &Path<'_>, field: &str) -> ConfigError {
    r.schema_error(path, &format!("missing field `{field}`"))
}

// ---- values -----------------------------------------------------------------

#[inline(never)]
fn u64_value(r: &mut Reader<'_>, path: &Path<'_>, expected: &str) -> Result<u64> {
    match r.number(path, expected)? {
        Number::Unsigned(n) => Ok(n),
        n @ Number::Signed(_) => Err(r.invalid_value(path, &n.unexpected(), expected)),
        n @ Number::Float(_) => Err(r.invalid_type(path, &n.unexpected(), expected)),
    }
}

#[inline(never)]
fn u64(r: &mut Reader<'_>, path: &Path<'_>) -> Result<u64> {
    u64_value(r, path, "u64")
}

#[inline(never)]
fn u32(r: &mut Reader<'_>, path: &Path<'_>) -> Result<u32> {
    let n = u64_value(r, path, "u32")?;
    u32::try_from(n).map_err(|_| r.invalid_value(path, &Number::Unsigned(n).unexpected(), "u32"))
}

#[inline(never)]
fn u16(r: &mut Reader<'_>, path: &Path<'_>) -> Result<u16> {
    let n = u64_value(r, path, "u16")?;
    u16::try_from(n).map_err(|_| r.invalid_value(path, &Number::Unsigned(n).unexpected(), "u16"))
}

#[inline(never)]
fn f64(r: &mut Reader<'_>, path: &Path<'_>) -> Result<f64> {
    r.number(path, "f64").map(Number::as_f64)
}

#[inline(never)]
fn string(r: &mut Reader<'_>, path: &Path<'_>) -> Result<String> {
    r.string(path)
}

#[inline(never)]
fn option_string(r: &mut Reader<'_>, path: &Path<'_>) -> Result<Option<String>> {
    if r.peek_value(path)? == b'n' {
        return r.null(path).map(|()| None);
    }
    r.string(path).map(Some)
}

fn vec<T>(r: &mut Reader<'_>, path: &Path<'_>, item: fn(&mut Reader<'_>, &Path<'_>) -> Result<T>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    r.array(path, &mut |r, p| item(r, p).map(|v| out.push(v)))?;
    Ok(out)
}

/// A unit variant written as a string: its index in `names`.
#[inline(never)]
fn variant(r: &mut Reader<'_>, path: &Path<'_>, names: &[&str]) -> Result<usize> {
    if r.peek_value(path)? != b'"' {
        return Err(r.peek_error(path, "expected value"));
    }
    let name = r.string_literal(path)?;
    match names.iter().position(|n| *n == name) {
        Some(i) => Ok(i),
        None => Err(r.error(path, &unknown("variant", &name, names))),
    }
}

fn mode(r: &mut Reader<'_>, path: &Path<'_>) -> Result<Mode> {
    Ok(match variant(r, path, &["shadow", "enforce"])? {
        0 => Mode::Shadow,
        _ => Mode::Enforce,
    })
}

fn parse_error_policy(r: &mut Reader<'_>, path: &Path<'_>) -> Result<ParseErrorPolicy> {
    Ok(match variant(r, path, &["allow", "tag", "block"])? {
        0 => ParseErrorPolicy::Allow,
        1 => ParseErrorPolicy::Tag,
        _ => ParseErrorPolicy::Block,
    })
}

fn reasoning_policy(r: &mut Reader<'_>, path: &Path<'_>) -> Result<ReasoningPolicy> {
    Ok(match variant(r, path, &["keep", "strip"])? {
        0 => ReasoningPolicy::Keep,
        _ => ReasoningPolicy::Strip,
    })
}

fn rule_action(r: &mut Reader<'_>, path: &Path<'_>) -> Result<RuleAction> {
    Ok(match variant(r, path, &["tag", "throttle", "block"])? {
        0 => RuleAction::Tag,
        1 => RuleAction::Throttle,
        _ => RuleAction::Block,
    })
}

// ---- sections ---------------------------------------------------------------

fn root(r: &mut Reader<'_>, path: &Path<'_>) -> Result<RawConfig> {
    let mut out = RawConfig::default();
    let RawConfig {
        mode: m,
        identity: id,
        body: b,
        response: re,
        thresholds: t,
        allowlist: a,
        rules: ru,
        limits: l,
        shared_data: s,
        detection: d,
        fleet: f,
        access_log: al,
        metrics: me,
    } = &mut out;
    const NAMES: &[&str] = &[
        "mode",
        "identity",
        "body",
        "response",
        "thresholds",
        "allowlist",
        "rules",
        "limits",
        "shared_data",
        "detection",
        "fleet",
        "access_log",
        "metrics",
    ];
    fields(r, path, "struct RawConfig", NAMES, &mut |r, i, p| {
        match i {
            0 => *m = mode(r, p)?,
            1 => identity(r, p, id)?,
            2 => body(r, p, b)?,
            3 => response(r, p, re)?,
            4 => thresholds(r, p, t)?,
            5 => allowlist(r, p, a)?,
            6 => *ru = vec(r, p, rule)?,
            7 => limits(r, p, l)?,
            8 => shared_data(r, p, s)?,
            9 => detection(r, p, d)?,
            11 => access_log(r, p, al)?,
            12 => metrics(r, p, me)?,
            _ => fleet(r, p, f)?,
        }
        Ok(())
    })?;
    Ok(out)
}

fn identity(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawIdentity) -> Result<()> {
    let RawIdentity {
        sources,
        secret,
        trusted_xff_hops,
        tls_fingerprint_header,
        organization,
    } = out;
    const NAMES: &[&str] = &[
        "sources",
        "secret",
        "trusted_xff_hops",
        "tls_fingerprint_header",
        "organization",
    ];
    fields(r, path, "struct RawIdentity", NAMES, &mut |r, i, p| {
        match i {
            1 => *secret = string(r, p)?,
            2 => *trusted_xff_hops = u32(r, p)?,
            3 => *tls_fingerprint_header = option_string(r, p)?,
            // One read of a source list for both (as `detection`).
            _ => {
                let field: &mut Vec<RawSource> = if i == 0 { sources } else { organization };
                *field = vec(r, p, source)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// A credential: a name, `{"header": …}` or `{"jwt_claim": …, "header": …,
/// "verified_by_envoy": …}`. Other keys in the objects are ignored, as
/// serde's untagged enum did. An object naming a `jwt_claim` is always a
/// claim source (serde read it as a plain header source when it also named
/// a `header`, dropping the claim and the `verified_by_envoy` check).
fn source(r: &mut Reader<'_>, path: &Path<'_>) -> Result<RawSource> {
    let content = r.content(path)?;
    let found = match &content {
        Content::Str(name) => Some(RawSource::Named(name.clone())),
        Content::Map(members) => source_object(members),
        _ => None,
    };
    found.ok_or_else(|| r.seq_error(path, "data did not match any variant of untagged enum RawSource"))
}

fn source_object(members: &[(String, Content)]) -> Option<RawSource> {
    let mut header: Option<Option<String>> = None;
    let mut jwt_claim: Option<String> = None;
    let mut verified: Option<bool> = None;
    for (key, value) in members {
        match (key.as_str(), value) {
            ("header", _) if header.is_some() => return None,
            ("header", Content::Str(h)) => header = Some(Some(h.clone())),
            ("header", Content::Null) => header = Some(None),
            ("header", _) => return None,
            ("jwt_claim", Content::Str(c)) if jwt_claim.is_none() => jwt_claim = Some(c.clone()),
            ("jwt_claim", _) => return None,
            ("verified_by_envoy", Content::Bool(v)) if verified.is_none() => verified = Some(*v),
            ("verified_by_envoy", _) => return None,
            _ => {}
        }
    }
    match (jwt_claim, header) {
        (Some(jwt_claim), header) => Some(RawSource::JwtClaim {
            jwt_claim,
            header: header.flatten(),
            verified_by_envoy: verified.unwrap_or(false),
        }),
        (None, Some(Some(header))) => Some(RawSource::Header { header }),
        (None, _) => None,
    }
}

fn body(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawBody) -> Result<()> {
    let RawBody {
        max_inspect_bytes,
        max_buffer_bytes,
        on_parse_error,
        on_no_prompt_in_prefix,
    } = out;
    const NAMES: &[&str] = &[
        "max_inspect_bytes",
        "max_buffer_bytes",
        "on_parse_error",
        "on_no_prompt_in_prefix",
    ];
    fields(r, path, "struct RawBody", NAMES, &mut |r, i, p| {
        // One read per value type, the field chosen first (as `detection`).
        if i < 2 {
            let field: &mut u64 = if i == 0 { max_inspect_bytes } else { max_buffer_bytes };
            *field = u64(r, p)?;
        } else {
            let field: &mut ParseErrorPolicy = if i == 2 { on_parse_error } else { on_no_prompt_in_prefix };
            *field = parse_error_policy(r, p)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn response(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawResponse) -> Result<()> {
    let RawResponse {
        throttle_status,
        block_status,
        retry_after_secs,
        expose_reasons,
        reasoning,
        reasoning_max_bytes,
    } = out;
    const NAMES: &[&str] = &[
        "throttle_status",
        "block_status",
        "retry_after_secs",
        "expose_reasons",
        "reasoning",
        "reasoning_max_bytes",
    ];
    fields(r, path, "struct RawResponse", NAMES, &mut |r, i, p| {
        // One read per value type, the field chosen first (as `detection`).
        match i {
            0 | 1 => {
                let field: &mut u16 = if i == 0 { throttle_status } else { block_status };
                *field = u16(r, p)?;
            }
            3 => *expose_reasons = r.boolean(p)?,
            4 => *reasoning = reasoning_policy(r, p)?,
            _ => {
                let field: &mut u64 = if i == 2 { retry_after_secs } else { reasoning_max_bytes };
                *field = u64(r, p)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

fn thresholds(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawThresholds) -> Result<()> {
    let RawThresholds { tag, throttle, block } = out;
    fields(
        r,
        path,
        "struct RawThresholds",
        &["tag", "throttle", "block"],
        &mut |r, i, p| {
            let field: &mut f64 = match i {
                0 => tag,
                1 => throttle,
                _ => block,
            };
            *field = f64(r, p)?;
            Ok(())
        },
    )?;
    Ok(())
}

fn allowlist(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawAllowlist) -> Result<()> {
    let RawAllowlist {
        identities,
        client_cidrs,
    } = out;
    fields(
        r,
        path,
        "struct RawAllowlist",
        &["identities", "client_cidrs"],
        &mut |r, i, p| {
            let field: &mut Vec<String> = if i == 0 { identities } else { client_cidrs };
            *field = vec(r, p, string)?;
            Ok(())
        },
    )?;
    Ok(())
}

fn rule(r: &mut Reader<'_>, path: &Path<'_>) -> Result<RawRule> {
    let (mut phrases, mut action, mut reason) = (None, None, None);
    fields(
        r,
        path,
        "struct RawRule",
        &["phrases", "action", "reason"],
        &mut |r, i, p| {
            match i {
                0 => phrases = Some(vec(r, p, string)?),
                1 => action = Some(rule_action(r, p)?),
                _ => reason = option_string(r, p)?,
            }
            Ok(())
        },
    )?;
    let Some(phrases) = phrases else {
        return Err(missing(r, path, "phrases"));
    };
    let Some(action) = action else {
        return Err(missing(r, path, "action"));
    };
    Ok(RawRule {
        phrases,
        action,
        reason,
    })
}

fn limits(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawLimits) -> Result<()> {
    let RawLimits {
        identity_requests_per_minute,
    } = out;
    fields(
        r,
        path,
        "struct RawLimits",
        &["identity_requests_per_minute"],
        &mut |r, _, p| {
            *identity_requests_per_minute = u64(r, p)?;
            Ok(())
        },
    )?;
    Ok(())
}

fn shared_data(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawSharedData) -> Result<()> {
    let RawSharedData { namespace } = out;
    fields(r, path, "struct RawSharedData", &["namespace"], &mut |r, _, p| {
        *namespace = string(r, p)?;
        Ok(())
    })?;
    Ok(())
}

fn access_log(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawAccessLog) -> Result<()> {
    let RawAccessLog { filter_state } = out;
    fields(r, path, "struct RawAccessLog", &["filter_state"], &mut |r, _, p| {
        *filter_state = r.boolean(p)?;
        Ok(())
    })?;
    Ok(())
}

fn metrics(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawMetrics) -> Result<()> {
    let RawMetrics { flush_interval_ms } = out;
    fields(r, path, "struct RawMetrics", &["flush_interval_ms"], &mut |r, _, p| {
        *flush_interval_ms = u64(r, p)?;
        Ok(())
    })?;
    Ok(())
}

fn detection(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawDetection) -> Result<()> {
    let RawDetection {
        enabled,
        identity_slots,
        template_slots,
        network_slots,
        window_secs,
        skeleton_tokens,
        share_min_accounts,
        share_full_accounts,
        infra_full_accounts,
        long_output_tokens,
        limit_window_secs,
        identity_limit,
        cluster_limit,
        token_limit,
        cluster_token_limit,
        long_answer_tokens,
        limit_min_score,
        memory_half_life_secs,
        extra_phrases,
        cooldown_secs,
        cooldown_max_secs,
        cooldown_forget_secs,
    } = out;
    const NAMES: &[&str] = &[
        "enabled",
        "identity_slots",
        "template_slots",
        "network_slots",
        "window_secs",
        "skeleton_tokens",
        "share_min_accounts",
        "share_full_accounts",
        "infra_full_accounts",
        "long_output_tokens",
        "limit_window_secs",
        "identity_limit",
        "cluster_limit",
        "token_limit",
        "cluster_token_limit",
        "long_answer_tokens",
        "limit_min_score",
        "memory_half_life_secs",
        "extra_phrases",
        "cooldown_secs",
        "cooldown_max_secs",
        "cooldown_forget_secs",
    ];
    fields(r, path, "struct RawDetection", NAMES, &mut |r, i, p| {
        // The field a u64 goes to, then one read for all of them (an arm
        // each was a call and an error check each; issue 8: module size).
        let field: &mut u64 = match i {
            0 => return r.boolean(p).map(|v| *enabled = v),
            16 => return f64(r, p).map(|v| *limit_min_score = v),
            18 => return vec(r, p, phrase).map(|v| *extra_phrases = v),
            1 => identity_slots,
            2 => template_slots,
            3 => network_slots,
            4 => window_secs,
            5 => skeleton_tokens,
            6 => share_min_accounts,
            7 => share_full_accounts,
            8 => infra_full_accounts,
            9 => long_output_tokens,
            10 => limit_window_secs,
            11 => identity_limit,
            12 => cluster_limit,
            13 => token_limit,
            14 => cluster_token_limit,
            15 => long_answer_tokens,
            17 => memory_half_life_secs,
            19 => cooldown_secs,
            20 => cooldown_max_secs,
            _ => cooldown_forget_secs,
        };
        *field = u64(r, p)?;
        Ok(())
    })?;
    Ok(())
}

fn phrase(r: &mut Reader<'_>, path: &Path<'_>) -> Result<RawPhrase> {
    let (mut text, mut weight) = (None, None);
    fields(r, path, "struct RawPhrase", &["phrase", "weight"], &mut |r, i, p| {
        match i {
            0 => text = Some(string(r, p)?),
            _ => weight = Some(f64(r, p)?),
        }
        Ok(())
    })?;
    let Some(phrase) = text else {
        return Err(missing(r, path, "phrase"));
    };
    let Some(weight) = weight else {
        return Err(missing(r, path, "weight"));
    };
    Ok(RawPhrase { phrase, weight })
}

fn fleet(r: &mut Reader<'_>, path: &Path<'_>, out: &mut RawFleet) -> Result<()> {
    let RawFleet {
        enabled,
        cluster,
        authority,
        path: sync_path,
        secret,
        sync_secs,
        timeout_ms,
        max_records,
    } = out;
    const NAMES: &[&str] = &[
        "enabled",
        "cluster",
        "authority",
        "path",
        "secret",
        "sync_secs",
        "timeout_ms",
        "max_records",
    ];
    fields(r, path, "struct RawFleet", NAMES, &mut |r, i, p| {
        // One read per value type, the field chosen first (as `detection`).
        match i {
            0 => *enabled = r.boolean(p)?,
            1..=4 => {
                let field: &mut String = match i {
                    1 => cluster,
                    2 => authority,
                    3 => sync_path,
                    _ => secret,
                };
                *field = string(r, p)?;
            }
            _ => {
                let field: &mut u64 = match i {
                    5 => sync_secs,
                    6 => timeout_ms,
                    _ => max_records,
                };
                *field = u64(r, p)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}
