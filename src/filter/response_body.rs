//! The upstream's answer to a forwarded LLM API request, read as it
//! passes: every body chunk goes to the engine's response meter and
//! straight on to the client (`Action::Continue`: the stream is never held,
//! the first byte never delayed). At the end of the stream (or when the
//! request ends without one: a client gone, a reset) the meter's counts go
//! to `Engine::answered`. No detection logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use super::abi;
use super::host_metrics::HostMetrics;
use super::host_store::with_host;
use crate::engine::{Engine, Exchange};
use crate::fleet::touched::Touched;
use crate::header_map::HeaderMap;
use crate::response::{accept, ResponseMeter};
use crate::verdict::Action;

/// Before a forwarded LLM API request goes upstream: its answer must come
/// in a coding the meter reads, or its tokens would not count
/// (`response::accept`).
pub fn ask_readable_coding(ex: &Exchange) {
    if let Some(narrowed) = ex.meta.header("accept-encoding").and_then(accept::narrow) {
        let _ = abi::set_request_header("accept-encoding", &narrowed);
    }
}

/// Bytes read from the response body buffer per host call.
const READ_SLICE: usize = 64 * 1024;

/// One answer being read.
pub struct Answer {
    ex: Exchange,
    action: Action,
    meter: ResponseMeter,
    /// Fleet mode: where this VM notes the detection slots it writes (the
    /// identity's token count syncs like its other counts).
    touched: Option<Rc<RefCell<Touched>>>,
}

impl Answer {
    /// At response headers (`headers`, as read from the host), for a
    /// request forwarded with `action`.
    pub fn start(
        engine: &Engine,
        headers: &HeaderMap,
        ex: Exchange,
        action: Action,
        touched: Option<Rc<RefCell<Touched>>>,
    ) -> Answer {
        let meter = engine.response_meter(
            headers.get("content-type").as_deref(),
            headers.get("content-encoding").as_deref(),
        );
        Answer {
            ex,
            action,
            meter,
            touched,
        }
    }

    /// Reads the newly arrived chunk (`body_size` bytes) into the meter.
    pub fn chunk(&mut self, body_size: usize) {
        let mut offset = 0;
        while offset < body_size {
            let want = (body_size - offset).min(READ_SLICE);
            let slice = abi::get_buffer(abi::RESPONSE_BODY, offset, want)
                .ok()
                .flatten()
                .unwrap_or_default();
            if slice.is_empty() {
                break;
            }
            offset += slice.len();
            self.meter.feed(&slice);
        }
    }

    /// The answer ended: its counts go to the engine.
    pub fn finish(self, engine: &Engine, metrics: &Rc<HostMetrics>) {
        let tally = self.meter.finish();
        with_host(metrics, self.touched.as_deref(), &engine.settings().namespace, |host| {
            engine.answered(&self.ex, self.action, &tally, host)
        });
    }
}
