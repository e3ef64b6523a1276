//! The floor filter (benchmark only, never shipped): holds the request
//! headers, reads every byte of the request body once as it arrives (the
//! way distill-guard reads it: each body callback's newly arrived bytes,
//! under watermark buffering), and adds one request header with the byte
//! count before letting the request go on. What any body-reading proxy-wasm
//! filter pays: the callbacks, the copies across the Wasm boundary, one
//! header write.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

#[cfg(feature = "host-calls")]
mod host_calls;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root) });
}}

struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        #[cfg(feature = "host-calls")]
        return Some(Box::new(host_calls::HostCalls::new(_context_id)));
        #[cfg(not(feature = "host-calls"))]
        Some(Box::new(Floor { bytes: 0 }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

#[cfg_attr(feature = "host-calls", allow(dead_code))]
struct Floor {
    bytes: usize,
}

impl Context for Floor {}

impl HttpContext for Floor {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if end_of_stream {
            self.set_http_request_header("x-floor-bytes", Some("0"));
            return Action::Continue;
        }
        Action::Pause
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if let Some(chunk) = self.get_http_request_body(0, body_size) {
            // Touch the bytes so the copy cannot be optimised away.
            self.bytes += chunk.len() + usize::from(chunk.last().copied().unwrap_or(0) == 0);
        }
        if !end_of_stream {
            return Action::StopIterationAndWatermark;
        }
        self.set_http_request_header("x-floor-bytes", Some(&self.bytes.to_string()));
        Action::Continue
    }
}
