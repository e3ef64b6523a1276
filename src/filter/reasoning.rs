//! Glue of `response::reasoning`: the answer to a tagged request, when
//! `response.reasoning` is `strip`, goes through the stripper on its way
//! to the caller. Every other answer never gets here (the HTTP context
//! holds no `Withholding` for it), so it passes byte for byte.
//!
//! - Request: `accept-encoding` is removed, so the upstream answers
//!   unencoded (an encoded answer could not be read and goes on as it
//!   came, counted `unreadable`).
//! - An SSE answer streams: `content-length` removed, each chunk replaced
//!   by what the stripper forwards now (complete events only).
//! - A JSON answer is held: its headers wait (so `content-length` and, for
//!   an answer over `response.reasoning_max_bytes`, `:status` can still be
//!   set), each chunk is moved out of Envoy's buffer into the stripper, and
//!   at the end of the stream the whole new body goes out at once. Over the
//!   bound: a 502 in the API's error format (counted `oversize`), never the
//!   unread answer.

use proxy_wasm::types::Action;

use super::abi;
use crate::api::{error_body, Api};
use crate::config::Settings;
use crate::engine::Decision;
use crate::metrics::{Counter, Metrics};
use crate::response::reasoning::{self, Counted, Format, JsonOutcome, Plan};

/// The status and message of an answer withheld whole.
const OVERSIZE_STATUS: u16 = 502;
const OVERSIZE_MESSAGE: &str = "The upstream answer could not be delivered.";

pub struct Withholding {
    api: Api,
    format: Format,
    max: usize,
    plan: Option<Plan>,
    /// The answer's status is 2xx (only those count as `unreadable`).
    success: bool,
}

impl Withholding {
    /// For a forwarded request whose answer loses its reasoning; `None`
    /// for every other (its answer is never touched).
    pub fn for_decision(settings: &Settings, api: Api, decision: &Decision) -> Option<Withholding> {
        if !reasoning::applies(settings.strip_reasoning, settings.mode, &decision.verdict) {
            return None;
        }
        let format = Format::of(api)?;
        Some(Withholding {
            api,
            format,
            max: settings.reasoning_max_bytes,
            plan: None,
            success: false,
        })
    }

    /// While the request headers can still change.
    pub fn request(&self) {
        let _ = abi::remove_request_header("accept-encoding");
    }

    fn count(&self, metrics: &dyn Metrics, kind: &'static str) {
        metrics.incr(Counter::Reasoning {
            api: self.api.label(),
            kind,
        });
    }

    pub fn response_headers(&mut self, end_of_stream: bool, metrics: &dyn Metrics) -> Action {
        if end_of_stream {
            return Action::Continue;
        }
        let headers = abi::response_headers().unwrap_or_default();
        self.success = headers.get(":status").is_some_and(|s| s.starts_with('2'));
        match reasoning::plan(
            self.format,
            headers.get("content-type").as_deref(),
            headers.get("content-encoding").as_deref(),
            self.max,
        ) {
            Err(_) => {
                let unreadable = Counted {
                    unreadable: true,
                    ..Counted::default()
                };
                self.counted(unreadable, metrics);
                Action::Continue
            }
            Ok(plan) => {
                let json = matches!(plan, Plan::Json(_));
                self.plan = Some(plan);
                if json {
                    // Held until the body is in; its length is set then.
                    Action::Pause
                } else {
                    let _ = abi::remove_response_header("content-length");
                    Action::Continue
                }
            }
        }
    }

    pub fn response_body(&mut self, body_size: usize, end_of_stream: bool, metrics: &dyn Metrics) -> Action {
        let Some(plan) = self.plan.as_mut() else {
            return Action::Continue;
        };
        let chunk = abi::get_buffer(abi::RESPONSE_BODY, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        match plan {
            Plan::Stream(stripper) => {
                let mut out = Vec::with_capacity(chunk.len());
                stripper.push(&chunk, &mut out);
                if end_of_stream {
                    stripper.finish(&mut out);
                }
                let counted = Counted::of_stream(stripper);
                let _ = abi::set_buffer(abi::RESPONSE_BODY, 0, body_size, &out);
                if end_of_stream {
                    self.plan = None;
                    self.counted(counted, metrics);
                }
                Action::Continue
            }
            Plan::Json(answer) => {
                answer.push(&chunk);
                if !end_of_stream {
                    // Out of Envoy's buffer: what it holds stays empty
                    // between callbacks; the bound is ours. Held under flow
                    // control, not StopIterationAndBuffer: with plain
                    // buffering one read that brings more than Envoy's
                    // buffer limit at once (an answer that reached the
                    // socket whole while Envoy was busy) overflows the
                    // buffer before this callback can empty it, and Envoy
                    // answers 500; under watermark buffering it only stops
                    // reading the upstream until the buffer drains (as the
                    // request side does).
                    let _ = abi::set_buffer(abi::RESPONSE_BODY, 0, body_size, &[]);
                    return Action::StopIterationAndWatermark;
                }
                let outcome = answer.finish();
                self.plan = None;
                self.deliver(outcome, body_size, metrics);
                Action::Continue
            }
        }
    }

    /// Trailers end the stream when the body phase did not.
    pub fn response_trailers(&mut self, metrics: &dyn Metrics) -> Action {
        match self.plan.take() {
            Some(Plan::Json(mut answer)) => {
                let outcome = answer.finish();
                self.deliver(outcome, 0, metrics);
            }
            Some(Plan::Stream(stripper)) => self.counted(Counted::of_stream(&stripper), metrics),
            None => {}
        }
        Action::Continue
    }

    /// Counts what became of the answer (`unreadable` for a 2xx one only,
    /// as the replay does).
    fn counted(&self, counted: Counted, metrics: &dyn Metrics) {
        let counted = Counted {
            unreadable: counted.unreadable && self.success,
            ..counted
        };
        for kind in counted.kinds() {
            self.count(metrics, kind);
        }
    }

    /// The whole JSON answer, as the caller gets it: replaces the `size`
    /// bytes Envoy holds, with headers to match.
    fn deliver(&self, outcome: JsonOutcome, size: usize, metrics: &dyn Metrics) {
        self.counted(Counted::of_json(&outcome), metrics);
        let body = match outcome {
            JsonOutcome::Unchanged(bytes) | JsonOutcome::Withheld(bytes) | JsonOutcome::Unreadable(bytes) => bytes,
            JsonOutcome::Oversize => {
                let (content_type, body) = error_body(self.api.provider, OVERSIZE_STATUS, OVERSIZE_MESSAGE);
                let _ = abi::set_response_header(":status", &OVERSIZE_STATUS.to_string());
                let _ = abi::set_response_header("content-type", &content_type);
                body.into_bytes()
            }
        };
        let _ = abi::set_response_header("content-length", &body.len().to_string());
        let _ = abi::set_buffer(abi::RESPONSE_BODY, 0, size, &body);
    }
}
