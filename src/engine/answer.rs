//! The upstream's answer to a forwarded request: the glue (and the replay)
//! feeds its bytes to a [`ResponseMeter`] as they pass and hands the
//! resulting [`Tally`] to [`Engine::answered`].

use super::{Engine, Exchange, Host};
use crate::metrics::Counter;
use crate::response::meter::DEFAULT_MAX_EVENT;
use crate::response::{ResponseMeter, Tally};
use crate::verdict::Action;

impl Engine {
    /// A meter for the answer with these response headers.
    pub fn response_meter(&self, content_type: Option<&str>, content_encoding: Option<&str>) -> ResponseMeter {
        ResponseMeter::new(content_type, content_encoding, DEFAULT_MAX_EVENT)
    }

    /// The answer to a request forwarded with `action` was read to its end
    /// (or cut off): count its tokens.
    pub fn answered(&self, ex: &Exchange, action: Action, tally: &Tally, host: &Host<'_>) {
        let m = host.metrics;
        let api = ex.api.label();
        m.incr(Counter::Response(tally.source.as_str()));
        if tally.overlong_events > 0 {
            m.incr_by(Counter::Response("sse_overlong"), tally.overlong_events);
        }
        m.incr_by(Counter::OutputTokens { api, action }, tally.output_tokens);
        m.incr_by(Counter::ReasoningTokens { api, action }, tally.reasoning_tokens);
    }
}
