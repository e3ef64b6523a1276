//! The upstream's answer to a forwarded request: the glue (and the replay)
//! feeds its bytes to a [`ResponseMeter`] as they pass and hands the
//! resulting [`Tally`] to [`Engine::answered`].

use super::{Decision, Engine, Exchange, Host};
use crate::metrics::Counter;
use crate::request::RequestMeta;
use crate::response::meter::DEFAULT_MAX_EVENT;
use crate::response::{reasoning, ResponseMeter, Tally};
use crate::verdict::Action;

/// A recorded upstream answer (the replay's trace `response`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Recorded<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    /// The answer's bytes (a stream's SSE text); `None`: not recorded, no
    /// tokens counted.
    pub body: Option<&'a [u8]>,
}

impl Recorded<'_> {
    /// Only the status is known.
    pub fn status_only(status: u16) -> Recorded<'static> {
        Recorded {
            status,
            ..Recorded::default()
        }
    }
}

impl Engine {
    /// A meter for the answer with these response headers.
    pub fn response_meter(&self, content_type: Option<&str>, content_encoding: Option<&str>) -> ResponseMeter {
        ResponseMeter::new(content_type, content_encoding, DEFAULT_MAX_EVENT)
    }

    /// The answer to a request forwarded with `action` was read to its end
    /// (or cut off): count its tokens, for the identity and for the
    /// template cluster its request was judged in.
    pub fn answered(&self, ex: &Exchange, action: Action, tally: &Tally, host: &Host<'_>) {
        let m = host.metrics;
        let api = ex.api.label();
        m.incr(Counter::Response(tally.source.as_str()));
        if tally.overlong_events > 0 {
            m.incr_by(Counter::Response("sse_overlong"), tally.overlong_events);
        }
        m.incr_by(Counter::OutputTokens { api, action }, tally.output_tokens);
        m.incr_by(Counter::ReasoningTokens { api, action }, tally.reasoning_tokens);
        self.detector.answered(
            &ex.identity,
            ex.charge.get(),
            tally.output_tokens,
            host.clock.now_secs(),
            host,
        );
    }

    /// What the filter's reasoning glue (`response.reasoning: strip`) does
    /// to a recorded answer, counted as the glue counts it
    /// (`reasoning.<kind>.<api>`), so a replay reports it too.
    fn withhold_reasoning(
        &self,
        ex: &Exchange,
        decision: &Decision,
        answer: &Recorded<'_>,
        body: &[u8],
        host: &Host<'_>,
    ) {
        let settings = &self.settings;
        if !reasoning::applies(settings.strip_reasoning, settings.mode, &decision.verdict) {
            return;
        }
        let Some(format) = reasoning::Format::of(ex.api) else {
            return;
        };
        let content_encoding = answer.content_encoding;
        let (_, counted) = reasoning::whole(
            format,
            answer.content_type,
            content_encoding,
            body,
            settings.reasoning_max_bytes,
        );
        // Only a 2xx answer counts as unreadable, as in the glue.
        let counted = reasoning::Counted {
            unreadable: counted.unreadable && (200..300).contains(&answer.status),
            ..counted
        };
        for kind in counted.kinds() {
            host.metrics.incr(Counter::Reasoning {
                api: ex.api.label(),
                kind,
            });
        }
    }

    /// Headers and whole body at once, then, when the request is forwarded,
    /// the upstream's answer, as the filter sees them in turn: its status,
    /// and for a 2xx answer whose bytes were recorded, those bytes through
    /// the same meter the glue feeds.
    pub fn evaluate_recorded(
        &self,
        meta: RequestMeta,
        body: &[u8],
        answer: &Recorded<'_>,
        host: &Host<'_>,
    ) -> Decision {
        let Some(ex) = self.begin(meta.clone(), host.metrics) else {
            return self.passthrough_decision(&meta);
        };
        let decision = self.decide(&ex, &self.prefix_of(&ex, body), true, host);
        let action = decision.verdict.action;
        if !action.denies() {
            self.upstream_status(&ex, answer.status, host);
            if let (true, Some(bytes)) = ((200..300).contains(&answer.status), answer.body) {
                let mut meter = self.response_meter(answer.content_type, answer.content_encoding);
                meter.feed(bytes);
                self.answered(&ex, action, &meter.finish(), host);
            }
            if let Some(bytes) = answer.body {
                self.withhold_reasoning(&ex, &decision, answer, bytes, host);
            }
        }
        decision
    }
}
