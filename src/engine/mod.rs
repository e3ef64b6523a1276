//! The engine: one request in, one decision out. The glue calls
//! [`Engine::begin`] at request headers and [`Engine::decide`] once the body
//! (or its inspected prefix) is in, and [`Engine::upstream_status`] with the
//! upstream's answer to a request it forwarded; the replay calls
//! [`Engine::evaluate_answered`].

mod answer;
#[cfg(test)]
mod begin_tests;
pub mod decide;
pub mod headers;
pub mod limit;
pub mod reply;
pub mod rules;

use std::net::IpAddr;

use crate::api::inflate::Coding;
use crate::api::{self, Api, BodyPrefix, ParseFailure, RequestView};
use crate::config::{ConfigError, Settings};
use crate::detect::{Detector, Observation};
use crate::identity::{self, client_addr, Identity, IdentityKind};
use crate::metrics::{Counter, Metrics};
use crate::request::RequestMeta;
use crate::verdict::{Action, Verdict};

pub use crate::host::Host;
pub use answer::Recorded;
pub use decide::{Findings, Policy};
pub use reply::LocalReply;

/// The request body's `content-encoding`.
fn coding(ex: &Exchange) -> Coding {
    Coding::from_header(ex.meta.header("content-encoding"))
}

/// A request on an LLM API path, between headers and body.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub api: Api,
    /// The model the path names (Azure deployment, Gemini model), from the
    /// same [`api::route`] as `api`: the path is read once a request.
    path_model: Option<String>,
    pub identity: Identity,
    pub meta: RequestMeta,
    /// A first request's cluster counts, held by [`Engine::decide`] until
    /// [`Engine::upstream_status`] (detection's `Deferred`).
    deferred: std::cell::Cell<Option<crate::detect::Deferred>>,
    /// Where the answer's output tokens are charged besides the identity
    /// (its template cluster), set by [`Engine::decide`] for
    /// [`Engine::answered`].
    charge: std::cell::Cell<crate::detect::Charge>,
}

/// What to do with a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    /// The identity key (never a raw credential).
    pub identity: String,
    /// Set when `verdict.action` denies: the answer to send instead of
    /// forwarding.
    pub reply: Option<LocalReply>,
    /// Request headers to add when forwarding (after removing every
    /// client-sent `x-distill-guard-*` header).
    pub tag_headers: Vec<(&'static str, String)>,
}

pub struct Engine {
    settings: Settings,
    detector: Detector,
}

impl Engine {
    pub fn new(settings: Settings) -> Engine {
        let detector = Detector::new(settings.detection.clone());
        Engine { settings, detector }
    }

    /// Parses and validates a configuration document and builds the engine.
    pub fn from_config(bytes: &[u8]) -> Result<Engine, ConfigError> {
        Ok(Engine::new(crate::config::load(bytes)?))
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Bytes of body to inspect (compacted); the glue stops buffering here.
    pub fn body_cap(&self) -> usize {
        self.settings.max_inspect_bytes
    }

    /// An empty inspected prefix for one request's body, under this
    /// configuration's cap and raw buffer bound. The glue pushes each chunk
    /// into it as it arrives and holds the body until `done()`.
    pub fn body_prefix(&self, ex: &Exchange) -> BodyPrefix {
        BodyPrefix::new(
            self.settings.max_inspect_bytes,
            self.settings.max_buffer_bytes,
            coding(ex),
        )
    }

    /// Headers phase. `None`: not an LLM API call, pass it through untouched
    /// (spoofed tag headers are still removed by the glue).
    pub fn begin(&self, meta: RequestMeta, metrics: &dyn Metrics) -> Option<Exchange> {
        let client_ip = client_addr::client_ip(&meta, self.settings.trusted_xff_hops);
        self.begin_from(meta, client_ip, metrics)
    }

    /// [`Engine::begin`] with the client's address the glue found
    /// ([`client_addr::client_ip_asking_peer`]), so `x-forwarded-for` is
    /// read once a request.
    pub fn begin_from(&self, meta: RequestMeta, client_ip: Option<IpAddr>, metrics: &dyn Metrics) -> Option<Exchange> {
        let Some(route) = api::route(&meta.method, &meta.path) else {
            metrics.incr(Counter::Passthrough);
            return None;
        };
        let identity = identity::resolve_from(&self.settings, &meta, client_ip);
        Some(Exchange {
            api: route.api,
            path_model: route.model,
            identity,
            meta,
            deferred: std::cell::Cell::new(None),
            charge: std::cell::Cell::new(crate::detect::Charge::default()),
        })
    }

    /// Body phase. `body` is the inspected prefix (from [`Engine::body_prefix`]);
    /// `end_of_stream` says the stream ended (it is the whole body if
    /// nothing went past the cap or the buffer bound).
    pub fn decide(&self, ex: &Exchange, body: &BodyPrefix, end_of_stream: bool, host: &Host<'_>) -> Decision {
        let m = host.metrics;
        m.incr(Counter::Requests);
        m.incr(Counter::Api(ex.api.label()));
        if ex.identity.kind == IdentityKind::Anonymous {
            m.incr(Counter::Anonymous);
        }
        let truncated = !body.complete(end_of_stream);
        if truncated {
            m.incr(Counter::BodyTruncated);
        }
        // A gzip or deflate body was decompressed into the prefix; only one
        // that could not be is still the compressed bytes.
        let encoding = ex
            .meta
            .header("content-encoding")
            .filter(|_| body.undecodable(end_of_stream));
        let parsed = api::parse_prefix(ex.api, ex.path_model.as_deref(), encoding, body, truncated);
        let mut no_prompt_in_prefix = false;
        let view: Option<RequestView> = match parsed {
            Ok(view) => Some(view),
            Err(failure) => {
                m.incr(Counter::ParseFailure(failure.code()));
                no_prompt_in_prefix = failure == ParseFailure::NoPromptInPrefix;
                None
            }
        };
        let now = host.clock.now_secs();
        let obs = Observation {
            identity: &ex.identity,
            view: view.as_ref(),
            meta: &ex.meta,
            now,
        };
        let assessment = self.detector.assess(&obs, host);
        ex.deferred.set(assessment.deferred);
        ex.charge.set(assessment.charge);
        let static_limit = limit::check_identity(&self.settings, &ex.identity, now, host)
            .map(|secs| (secs, decide::reasons::IDENTITY_RATE_LIMIT));
        let dynamic_limit = assessment.rate_limited.map(|l| (l.retry_after_secs, l.reason));
        let findings = Findings {
            score: assessment.score,
            reasons: assessment.reasons,
            rate_limited: dynamic_limit.or(static_limit),
            history_secs: self
                .detector
                .memory_release_secs(assessment.memory, self.settings.throttle_threshold),
            rule: view
                .as_ref()
                .and_then(|v| rules::strongest_match(&self.settings.rules, v)),
            parse_failed: view.is_none() && !no_prompt_in_prefix,
            no_prompt_in_prefix,
            allowlisted: self.is_allowlisted(&ex.identity),
        };
        let verdict = decide::decide(&findings, &self.policy());
        self.finish(verdict, &ex.identity, Some(ex.api), host.metrics)
    }

    /// The upstream's `:status` for a request this filter forwarded (never
    /// one it answered itself): detection stops counting an identity the
    /// upstream refuses (401/403) in its clusters, and counts an identity's
    /// first request in them when the upstream accepts it (2xx).
    pub fn upstream_status(&self, ex: &Exchange, status: u16, host: &Host<'_>) {
        // The clock only when the status is recorded: a known identity's
        // 2xx reads nothing, not even the time.
        if self.detector.reads_status(ex.charge.get(), status) {
            self.detector
                .upstream_status(&ex.identity, ex.charge.get(), status, host.clock.now_secs(), host);
        }
        // An identity's first request counts in its clusters only once the
        // upstream has accepted it.
        self.detector
            .count_deferred(&ex.identity, ex.deferred.take(), status, host);
    }

    /// Headers and whole body at once (the offline replay): the body goes
    /// through the same prefix the glue builds chunk by chunk; a forwarded
    /// request counts as answered 200 by the upstream.
    pub fn evaluate(&self, meta: RequestMeta, body: &[u8], host: &Host<'_>) -> Decision {
        self.evaluate_answered(meta, body, 200, host)
    }

    /// Headers and whole body at once, then, when the request is forwarded,
    /// the upstream's `status` for it, as the filter sees them in turn.
    pub fn evaluate_answered(&self, meta: RequestMeta, body: &[u8], status: u16, host: &Host<'_>) -> Decision {
        self.evaluate_recorded(meta, body, &Recorded::status_only(status), host)
    }

    /// The whole body as the glue would have built its prefix chunk by chunk.
    fn prefix_of(&self, ex: &Exchange, body: &[u8]) -> BodyPrefix {
        let s = &self.settings;
        BodyPrefix::of(body, s.max_inspect_bytes, s.max_buffer_bytes, coding(ex))
    }

    /// The decision for a request that is not an LLM API call.
    fn passthrough_decision(&self, meta: &RequestMeta) -> Decision {
        Decision {
            verdict: Verdict::allow(),
            identity: identity::resolve(&self.settings, meta).key,
            reply: None,
            tag_headers: Vec::new(),
        }
    }

    fn policy(&self) -> Policy {
        let s = &self.settings;
        Policy {
            mode: s.mode,
            tag: s.tag_threshold,
            throttle: s.throttle_threshold,
            block: s.block_threshold,
            on_parse_error: s.on_parse_error,
            on_no_prompt_in_prefix: s.on_no_prompt_in_prefix,
            retry_after_secs: s.retry_after_secs,
        }
    }

    fn is_allowlisted(&self, id: &Identity) -> bool {
        self.settings.allow_identities.contains(&id.key)
            || id
                .client_ip
                .is_some_and(|ip| self.settings.allow_cidrs.iter().any(|c| c.contains(ip)))
    }

    fn finish(&self, verdict: Verdict, id: &Identity, api: Option<Api>, metrics: &dyn Metrics) -> Decision {
        metrics.incr(Counter::Decision(verdict.action));
        if verdict.intended.denies() && !verdict.action.denies() {
            metrics.incr(Counter::ShadowWouldDeny(verdict.intended));
        }
        labelled_metrics(&verdict, api, self.settings.mode, metrics);
        let reply = match (verdict.action, api) {
            (Action::Throttle | Action::Block, Some(api)) => {
                Some(reply::local_reply(&self.settings, &verdict, api.provider))
            }
            _ => None,
        };
        let tag_headers = if verdict.action == Action::Tag {
            headers::tag_headers(&verdict, self.settings.mode)
        } else {
            Vec::new()
        };
        Decision {
            verdict,
            identity: id.key.clone(),
            reply,
            tag_headers,
        }
    }
}

/// The Prometheus-shaped view of one decision (`crate::metrics::labelled`):
/// by API, mode, action and intended action; each reason; the score.
fn labelled_metrics(verdict: &Verdict, api: Option<Api>, mode: crate::config::Mode, metrics: &dyn Metrics) {
    metrics.incr(Counter::Decided {
        api: api.map_or("unknown", |a| a.label()),
        mode: if mode == crate::config::Mode::Enforce {
            "enforce"
        } else {
            "shadow"
        },
        action: verdict.action,
        intended: verdict.intended,
    });
    for reason in &verdict.reasons {
        metrics.incr(Counter::Reason(reason));
    }
    // Scores live in [0, 1]; histograms take integers.
    let percent = (verdict.score.clamp(0.0, 1.0) * 100.0).round() as u64;
    metrics.record(crate::metrics::Histogram::ScorePercent, percent);
}
