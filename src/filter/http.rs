//! One HTTP request: moves headers and the inspected body prefix into the
//! engine and applies its decision. No detection logic lives here.
//!
//! Flow. Headers: strip client-sent `x-distill-guard-*`, ask the engine
//! whether this is an LLM API call; if so hold the headers (StopIteration)
//! so tag headers can still be added. Body: each chunk goes into the inspected
//! prefix (`api::BodyPrefix`: gzip/deflate decoded, whitespace and long base64
//! runs dropped, so padding does not use up the cap), held until the
//! compacted cap, the raw bound `body.max_buffer_bytes` or the end of the
//! stream, then decide and let everything flow. A body larger than that is
//! decided on its prefix and then streamed, so Envoy never buffers past its
//! limit (a 4 MiB prompt still reaches the upstream as long as
//! `body.max_buffer_bytes` is at most `per_connection_buffer_limit_bytes`).
//! HTTP/2 requests with trailers never set end_of_stream on the body, so the
//! trailers callback decides if the body phase did not.
//!
//! Filter state. `set_property(["distill_guard.action"], …)` is stored by
//! Envoy as filter state `wasm.distill_guard.action` (Envoy prefixes every
//! Wasm property key with `wasm.`), so an access log prints it with
//! `%FILTER_STATE(wasm.distill_guard.action:PLAIN)%` (`:PLAIN` prints the
//! string; without it Envoy prints a base64 protobuf `BytesValue`). Keys:
//! `action` (what was done), `intended` (what enforce mode does or would
//! do), `mode`, `score`, `reasons`, `identity` (see `engine::headers`).
//! Six host calls per decision: `access_log.filter_state: false` skips
//! them where no access log or other filter reads them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use super::abi::{self, Level};
use super::calls::{self, Call};
use super::host_clock::HostClock;
use super::host_metrics::HostMetrics;
use super::host_store::with_host;
use super::reasoning::Withholding;
use super::response_body::{self, Answer};
use super::watchdog::Watchdog;
use crate::api::BodyPrefix;
use crate::clock::Clock;
use crate::config::Mode;
use crate::content_length::{ContentLength, OVERRUN_BODY, OVERRUN_STATUS};
use crate::engine::headers::{
    is_reserved_bytes, STATE_ACTION, STATE_IDENTITY, STATE_INTENDED, STATE_MODE, STATE_REASONS, STATE_SCORE,
};
use crate::engine::{Decision, Engine, Exchange};
use crate::fleet::touched::Touched;
use crate::header_map::{self, HeaderMap};
use crate::identity::client_addr;
use crate::metrics::{Counter, Histogram, Metrics};
use crate::netaddr::{parse_ip, parse_socket_ip};
use crate::request::RequestMeta;

pub struct Request {
    context_id: u32,
    engine: Option<Rc<Engine>>,
    metrics: Rc<HostMetrics>,
    watchdog: Rc<Watchdog>,
    /// Set between an LLM API request's headers and its decision.
    exchange: Option<Exchange>,
    /// The inspected body prefix so far (compacted, at most the inspection
    /// cap; see `api::BodyPrefix`). Kept here because under watermark
    /// buffering each body callback sees only the newly arrived chunk.
    body: Option<BodyPrefix>,
    /// Fleet mode: where this VM notes the detection slots it writes.
    touched: Option<Rc<RefCell<Touched>>>,
    /// Nanoseconds spent in this request's callbacks so far, and whether
    /// the decision is in and its processing time not yet recorded.
    busy_ns: u64,
    record_busy: bool,
    /// A forwarded LLM API request, until the upstream's answer is seen,
    /// and the action applied to it.
    forwarded: Option<Exchange>,
    forwarded_action: crate::verdict::Action,
    /// The upstream's answer being read (see `response_body`).
    answer: Option<Answer>,
    /// Set for a tagged request whose answer loses its reasoning.
    reasoning: Option<Withholding>,
    /// The request's `content-length`: once that many bytes arrived the
    /// body is whole, decided at once rather than on the empty
    /// end-of-stream callback Envoy sends after it; a byte after that is
    /// refused (`content_length`).
    content_length: ContentLength,
}

impl Request {
    pub fn new(
        context_id: u32,
        engine: Option<Rc<Engine>>,
        metrics: Rc<HostMetrics>,
        watchdog: Rc<Watchdog>,
    ) -> Request {
        Request {
            context_id,
            engine,
            metrics,
            watchdog,
            exchange: None,
            body: None,
            touched: None,
            busy_ns: 0,
            record_busy: false,
            forwarded: None,
            forwarded_action: crate::verdict::Action::Allow,
            answer: None,
            reasoning: None,
            content_length: ContentLength::default(),
        }
    }

    pub fn with_touched(mut self, touched: Option<Rc<RefCell<Touched>>>) -> Request {
        self.touched = touched;
        self
    }

    /// Runs one callback and adds its wall time to the request's; once the
    /// request is decided, records the total (`processing_time_us`).
    /// The start's reading is the callback's clock (`HostClock::during`).
    fn timed(&mut self, callback: impl FnOnce(&mut Self) -> Action) -> Action {
        calls::count(Call::Timed);
        let start = abi::now_nanos().ok();
        let action = match start {
            Some(nanos) => HostClock::during(nanos, || callback(self)),
            None => callback(self),
        };
        if let (Some(start), Ok(end)) = (start, abi::now_nanos()) {
            self.busy_ns = self.busy_ns.saturating_add(end.saturating_sub(start));
        }
        if self.record_busy {
            self.record_busy = false;
            self.metrics.record(Histogram::ProcessingMicros, self.busy_ns / 1000);
        }
        action
    }

    /// Runs the engine on the kept prefix and applies the decision. Takes
    /// the exchange, so a request is decided at most once.
    fn decide(&mut self, end_of_stream: bool) -> Action {
        let (Some(engine), Some(ex)) = (self.engine.as_ref(), self.exchange.take()) else {
            return Action::Continue;
        };
        let body = self.body.take().unwrap_or_else(|| engine.body_prefix(&ex));
        let decision = with_host(
            &self.metrics,
            self.touched.as_deref(),
            &engine.settings().namespace,
            |host| engine.decide(&ex, &body, end_of_stream, host),
        );
        self.record_busy = true;
        log_decision(&ex, &decision);
        if engine.settings().filter_state {
            record_state(&decision, engine.settings().mode);
        }
        if let Some(reply) = &decision.reply {
            if abi::send_response(reply.status, &reply.headers, reply.body.as_bytes()).is_ok() {
                return Action::Pause;
            }
            // The local reply failed: forwarding is the safe fallback.
            abi::log(
                Level::Error,
                "distill-guard: could not send the local reply; forwarding",
            );
        }
        for (name, value) in &decision.tag_headers {
            let _ = abi::set_request_header(name, value);
        }
        response_body::ask_readable_coding(&ex);
        self.reasoning = Withholding::for_decision(engine.settings(), ex.api, &decision);
        if let Some(w) = &self.reasoning {
            w.request();
        }
        self.forwarded = Some(ex);
        self.forwarded_action = decision.verdict.action;
        Action::Continue
    }

    /// Hands a finished (or abandoned) answer's counts to the engine.
    fn finish_answer(&mut self) {
        if let (Some(engine), Some(answer)) = (self.engine.as_ref(), self.answer.take()) {
            answer.finish(engine, &self.metrics);
        }
    }
}

impl Context for Request {
    fn on_done(&mut self) -> bool {
        self.watchdog.release(self.context_id);
        self.finish_answer();
        true
    }
}

impl HttpContext for Request {
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        self.timed(|r| r.request_headers(num_headers, end_of_stream))
    }

    /// Timed only while a decision is pending: the time of a callback
    /// after it (or of a request that is no LLM call) is never recorded,
    /// so it reads no clock.
    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.content_length.refuse_overrun(body_size) {
            return self.refuse_overrun();
        }
        if self.exchange.is_none() {
            return self.request_body(body_size, end_of_stream);
        }
        self.timed(|r| r.request_body(body_size, end_of_stream))
    }

    fn on_http_request_trailers(&mut self, num_trailers: usize) -> Action {
        if self.exchange.is_none() {
            return self.request_trailers(num_trailers);
        }
        self.timed(|r| r.request_trailers(num_trailers))
    }

    /// The upstream's `:status` for a request this filter forwarded (a
    /// local reply of this filter never gets here as `forwarded`).
    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if let (Some(engine), Some(ex)) = (self.engine.as_ref(), self.forwarded.take()) {
            // One read of the response headers serves the status and the
            // answer's meter.
            let headers = abi::response_headers().unwrap_or_default();
            if let Some(status) = abi::status_of(&headers) {
                // Through the fleet's touched set too: an identity's first
                // request writes its cluster counts here, on a 2xx.
                with_host(
                    &self.metrics,
                    self.touched.as_deref(),
                    &engine.settings().namespace,
                    |host| engine.upstream_status(&ex, status, host),
                );
                // Only answers the upstream served are read for tokens.
                if (200..300).contains(&status) {
                    self.answer = Some(Answer::start(
                        engine,
                        &headers,
                        ex,
                        self.forwarded_action,
                        self.touched.clone(),
                    ));
                }
            }
        }
        if end_of_stream {
            self.finish_answer();
        }
        match self.reasoning.as_mut() {
            Some(w) => w.response_headers(end_of_stream, &*self.metrics),
            None => Action::Continue,
        }
    }

    /// Each chunk of an answer being read goes to its meter (the upstream's
    /// bytes) and on to the client at once, never held; unless the answer
    /// loses its reasoning (`reasoning`), which rewrites the chunk after
    /// the meter read it.
    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if let Some(answer) = self.answer.as_mut() {
            answer.chunk(body_size);
        }
        if end_of_stream {
            self.finish_answer();
        }
        match self.reasoning.as_mut() {
            Some(w) => w.response_body(body_size, end_of_stream, &*self.metrics),
            None => Action::Continue,
        }
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        match self.reasoning.as_mut() {
            Some(w) => w.response_trailers(&*self.metrics),
            None => Action::Continue,
        }
    }
}

impl Request {
    fn request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let headers = abi::request_headers().unwrap_or_default();
        strip_reserved(&headers, &*self.metrics);
        let Some(engine) = self.engine.clone() else {
            return Action::Continue;
        };
        // Borrowed from the host's buffer: only the kept headers are copied.
        let mut meta = RequestMeta::from_header_pairs(headers.pairs(), headers.len_hint(), None);
        drop(headers);
        // The peer address only when `x-forwarded-for` does not name the
        // client (a host call fewer behind a trusted proxy).
        let client_ip = client_addr::client_ip_asking_peer(&mut meta, engine.settings().trusted_xff_hops, source_ip);
        let content_length = ContentLength::from_header(meta.header("content-length"));
        let Some(ex) = engine.begin_from(meta, client_ip, &*self.metrics) else {
            return Action::Continue;
        };
        self.content_length = content_length;
        self.body = Some(engine.body_prefix(&ex));
        self.exchange = Some(ex);
        if end_of_stream {
            return self.decide(true);
        }
        // Hold the headers until the body is decided: tag headers must be
        // added before they go upstream (unless the watchdog saw that this
        // Envoy cannot: then decide on the body with the headers gone on).
        if self.watchdog.hold(self.context_id, HostClock.now_secs()) {
            Action::Pause
        } else {
            Action::Continue
        }
    }

    fn request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.watchdog.body_arrived(self.context_id);
        let Some(prefix) = self.body.as_mut() else {
            return Action::Continue;
        };
        // The whole newly arrived chunk (under watermark buffering Envoy
        // hands the filter only what is new), up to the raw bound; the
        // prefix compacts it and stops at the cap.
        // Read a slice at a time, so a large read is not copied past what
        // the prefix takes.
        let want = prefix.wants(body_size);
        prefix.arrived(body_size);
        let mut offset = 0;
        while offset < want && !prefix.done() {
            let slice = read_body(offset, (want - offset).min(READ_SLICE));
            if slice.is_empty() {
                break;
            }
            offset += slice.len();
            prefix.feed(&slice);
        }
        // Every byte `content-length` announced is in: the body is whole
        // (Envoy's codecs refuse a body longer than its content-length),
        // as at the end of the stream; decided now, the body goes on with
        // this chunk instead of being buffered until Envoy's empty
        // end-of-stream callback (issue 8).
        let at_length = !end_of_stream && self.content_length.reached(prefix.raw_seen());
        let whole = end_of_stream || at_length;
        if !prefix.done() && !whole {
            // Buffer under flow control, not StopIterationAndBuffer: with
            // plain buffering Envoy answers 413 as soon as one large read
            // pushes the buffer past the connection limit, even if this
            // filter would have let the body stream on at the cap.
            return Action::StopIterationAndWatermark;
        }
        if at_length {
            self.content_length.decided_here();
        }
        self.decide(whole)
    }

    /// A body byte after a decision taken at `content-length`: never
    /// inspected, so the request is answered with a plain 400 (the same
    /// for every such request) or, if that cannot be sent, reset. Whatever
    /// was forwarded is forgotten: the local reply is no upstream answer.
    fn refuse_overrun(&mut self) -> Action {
        self.forwarded = None;
        self.reasoning = None;
        self.finish_answer();
        abi::log(Level::Debug, "distill-guard: body longer than content-length; refused");
        if abi::send_response(OVERRUN_STATUS, &[], OVERRUN_BODY.as_bytes()).is_err() {
            let _ = abi::reset_request();
        }
        Action::Pause
    }

    fn request_trailers(&mut self, _num_trailers: usize) -> Action {
        self.watchdog.body_arrived(self.context_id);
        // The body phase never saw end_of_stream: the trailers end the
        // stream (if the body went past the cap the body phase decided).
        self.decide(true)
    }
}

/// Bytes read from the body buffer per host call.
const READ_SLICE: usize = 64 * 1024;

/// Up to `max` bytes of the newly arrived request body from `offset` (empty
/// on a host error: the engine then sees an unparsable body and counts it).
fn read_body(offset: usize, max: usize) -> Vec<u8> {
    let bytes = abi::get_buffer(abi::REQUEST_BODY, offset, max)
        .ok()
        .flatten()
        .unwrap_or_default();
    calls::request_body_bytes(bytes.len());
    bytes
}

/// Removes every client-sent `x-distill-guard-*` header: upstreams trust
/// them, so only this filter may set them.
fn strip_reserved(headers: &HeaderMap, metrics: &dyn Metrics) {
    let mut removed: Vec<Cow<'_, str>> = Vec::new();
    // Names tested as the host's bytes; only a reserved one is decoded.
    for (raw, _) in headers.raw_pairs() {
        if !is_reserved_bytes(raw) {
            continue;
        }
        let name = header_map::text(raw);
        if !removed.contains(&name) {
            let _ = abi::remove_request_header(&name);
            metrics.incr(Counter::SpoofedHeaderStripped);
            removed.push(name);
        }
    }
}

/// The downstream peer (`source.address`, e.g. `10.0.0.1:5555` or
/// `[::1]:5555`) without its port.
fn source_ip() -> Option<IpAddr> {
    let raw = abi::get_property(&["source", "address"]).ok().flatten()?;
    let text = std::str::from_utf8(&raw).ok()?;
    // By hand, as core parses them: core's address parser stays out of
    // the module (src/netaddr.rs).
    parse_socket_ip(text).or_else(|| parse_ip(text))
}

/// Filter state for access logs; a failure only loses the log fields.
fn record_state(d: &Decision, mode: Mode) {
    let strip = |key: &'static str| key.strip_prefix("wasm.").unwrap_or(key);
    // Borrowed where the text exists already: no copy per field.
    let (score, reasons) = (d.verdict.score_header(), d.verdict.reasons_header());
    let fields = [
        (STATE_ACTION, d.verdict.action.as_str()),
        (STATE_INTENDED, d.verdict.intended.as_str()),
        (STATE_MODE, mode.as_str()),
        (STATE_SCORE, score.as_str()),
        (STATE_REASONS, reasons.as_str()),
        (STATE_IDENTITY, d.identity.as_str()),
    ];
    for (key, value) in fields {
        let _ = abi::set_property(&[strip(key)], value.as_bytes());
    }
}

/// One line per decision (info for tag and denials, debug for allow):
/// identity key, API, action, score, reasons. Never prompt text or a
/// credential.
fn log_decision(ex: &Exchange, d: &Decision) {
    let v = &d.verdict;
    // Allowed requests are the bulk of the traffic: at debug level, so a
    // busy gateway's log holds what an operator acts on.
    let level = if v.action == crate::verdict::Action::Allow && v.intended == crate::verdict::Action::Allow {
        Level::Debug
    } else {
        Level::Info
    };
    // Allowed requests' lines are usually below the host's level: skip the
    // formatting and the host call (issue 8).
    if !abi::log_enabled(level) {
        return;
    }
    abi::log(
        level,
        &format!(
            "distill-guard: identity={} api={} action={} intended={} score={} reasons={}",
            d.identity,
            ex.api.label(),
            v.action.as_str(),
            v.intended.as_str(),
            v.score_header(),
            if v.reasons.is_empty() {
                crate::config::raw::owned("-")
            } else {
                v.reasons_header()
            },
        ),
    );
}
