//! The few proxy-wasm host calls whose SDK wrappers panic on a status they
//! do not expect (`proxy_wasm::hostcalls::{get_shared_data, set_shared_data,
//! get_property, set_property, log, get_current_time}` all end in
//! `status => panic!(…)`), and the header-map reader unwraps
//! `String::from_utf8` on every value, so one client header carrying a
//! non-UTF-8 byte would take the VM down). A panic aborts the VM and every request on the
//! worker with it, so these are declared here again with a raw `u32` status
//! and every status is returned to the caller as a value.
//!
//! Memory the host hands back was allocated through the SDK's exported
//! `proxy_on_memory_allocate` (a boxed `[u8]` of exactly `size` bytes), so it
//! is reclaimed as a `Vec` of that length and capacity, as the SDK does.
#![allow(unsafe_code)]

use std::ptr::null_mut;

use super::calls::{self, Call};
use crate::header_map::{self, HeaderMap};

/// `proxy_wasm::types::Status` values this module distinguishes.
pub const OK: u32 = 0;
pub const NOT_FOUND: u32 = 1;
pub const CAS_MISMATCH: u32 = 8;

/// `proxy_wasm::types::LogLevel` values.
#[derive(Clone, Copy)]
#[repr(u32)]
pub enum Level {
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_get_log_level(return_level: *mut u32) -> u32;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_data: *mut *mut u8,
        return_size: *mut usize,
    ) -> u32;
    fn proxy_set_property(path_data: *const u8, path_size: usize, value_data: *const u8, value_size: usize) -> u32;
    fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_data: *mut *mut u8,
        return_size: *mut usize,
        return_cas: *mut u32,
    ) -> u32;
    fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
    fn proxy_get_header_map_pairs(map_type: u32, return_data: *mut *mut u8, return_size: *mut usize) -> u32;
    fn proxy_replace_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_data: *mut *mut u8,
        return_size: *mut usize,
    ) -> u32;
    fn proxy_send_local_response(
        status_code: u32,
        details_data: *const u8,
        details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_set_effective_context(context_id: u32) -> u32;
    fn proxy_continue_stream(stream_type: u32) -> u32;
    fn proxy_define_metric(metric_type: u32, name_data: *const u8, name_size: usize, return_id: *mut u32) -> u32;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
    fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
}

/// Logs a line; a failing log call is ignored (there is nowhere to report it).
pub fn log(level: Level, message: &str) {
    calls::count(Call::Log);
    // SAFETY: pointer and length come from a live `&str`.
    let _ = unsafe { proxy_log(level as u32, message.as_ptr(), message.len()) };
}

thread_local! {
    /// The host's log level as last asked (`log_enabled`), until the root
    /// context's tick forgets it.
    static LOG_LEVEL: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

/// Whether the host keeps messages at `level` (true when it cannot say), so
/// a message it would drop is neither formatted nor sent. The host's level
/// is asked once per tick (`forget_log_level`), not once per message
/// (issue 8): a level changed through Envoy's admin applies within one
/// tick (500 ms).
pub fn log_enabled(level: Level) -> bool {
    let current = match LOG_LEVEL.with(std::cell::Cell::get) {
        Some(current) => current,
        None => {
            let mut current: u32 = 0;
            calls::count(Call::LogLevel);
            // SAFETY: `current` outlives the call.
            match unsafe { proxy_get_log_level(&mut current) } {
                OK => LOG_LEVEL.with(|l| l.set(Some(current))),
                _ => return true,
            }
            current
        }
    };
    level as u32 >= current
}

/// Asks the host's log level again at the next `log_enabled`.
pub fn forget_log_level() {
    LOG_LEVEL.with(|l| l.set(None));
}

/// Nanoseconds since the Unix epoch, or the status on failure.
pub fn now_nanos() -> Result<u64, u32> {
    let mut t: u64 = 0;
    calls::count(Call::Clock);
    // SAFETY: `t` outlives the call.
    match unsafe { proxy_get_current_time_nanoseconds(&mut t) } {
        OK => Ok(t),
        status => Err(status),
    }
}

/// Takes ownership of a host-allocated buffer.
fn reclaim(data: *mut u8, size: usize) -> Option<Vec<u8>> {
    if data.is_null() {
        return None;
    }
    // SAFETY: the host filled `data` through `proxy_on_memory_allocate(size)`,
    // which leaks a boxed slice of exactly `size` bytes; nobody else owns it.
    Some(unsafe { Vec::from_raw_parts(data, size, size) })
}

/// A property path as the ABI wants it: the parts joined by NUL.
fn property_path(path: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, part) in path.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(part.as_bytes());
    }
    out
}

/// A property's bytes; `Ok(None)` when the host has no such property.
pub fn get_property(path: &[&str]) -> Result<Option<Vec<u8>>, u32> {
    let p = property_path(path);
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    calls::count(Call::GetProperty);
    // SAFETY: `p`, `data` and `size` outlive the call.
    match unsafe { proxy_get_property(p.as_ptr(), p.len(), &mut data, &mut size) } {
        OK => Ok(reclaim(data, size)),
        NOT_FOUND => Ok(None),
        status => Err(status),
    }
}

/// Sets a property. Envoy stores it as filter state under `wasm.<path>`.
pub fn set_property(path: &[&str], value: &[u8]) -> Result<(), u32> {
    // A one-part path (the filter state's keys) is its own bytes: no copy.
    let joined;
    let p: &[u8] = match path {
        [one] => one.as_bytes(),
        _ => {
            joined = property_path(path);
            &joined
        }
    };
    calls::count(Call::SetProperty);
    // SAFETY: `p` and `value` outlive the call.
    match unsafe { proxy_set_property(p.as_ptr(), p.len(), value.as_ptr(), value.len()) } {
        OK => Ok(()),
        status => Err(status),
    }
}

/// A shared-data value and its cas; `Ok(None)` when the key is missing.
pub fn get_shared_data(key: &str) -> Result<Option<(Vec<u8>, u32)>, u32> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    let mut cas: u32 = 0;
    calls::count(Call::GetSharedData);
    // SAFETY: `key`, `data`, `size` and `cas` outlive the call.
    match unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) } {
        OK => {
            calls::shared_bytes(size);
            Ok(Some((reclaim(data, size).unwrap_or_default(), cas)))
        }
        NOT_FOUND => Ok(None),
        status => Err(status),
    }
}

/// Writes a shared-data value (cas 0: unconditionally).
pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> Result<(), u32> {
    calls::count(Call::SetSharedData);
    calls::shared_bytes(value.len());
    // SAFETY: `key` and `value` outlive the call.
    match unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas) } {
        OK => Ok(()),
        status => Err(status),
    }
}

/// Defines a counter (Envoy names it `wasmcustom.<name>`) and returns its id.
pub fn define_counter(name: &str) -> Result<u32, u32> {
    let mut id: u32 = 0;
    calls::count(Call::DefineMetric);
    // SAFETY: `name` and `id` outlive the call. Metric type 0 is a counter.
    match unsafe { proxy_define_metric(0, name.as_ptr(), name.len(), &mut id) } {
        OK => Ok(id),
        status => Err(status),
    }
}

/// Defines a histogram (Envoy names it `wasmcustom.<name>`) and returns its id.
pub fn define_histogram(name: &str) -> Result<u32, u32> {
    let mut id: u32 = 0;
    calls::count(Call::DefineMetric);
    // SAFETY: `name` and `id` outlive the call. Metric type 2 is a histogram.
    match unsafe { proxy_define_metric(2, name.as_ptr(), name.len(), &mut id) } {
        OK => Ok(id),
        status => Err(status),
    }
}

/// Records one histogram value.
pub fn record(id: u32, value: u64) -> Result<(), u32> {
    calls::count(Call::RecordMetric);
    // SAFETY: plain values.
    match unsafe { proxy_record_metric(id, value) } {
        OK => Ok(()),
        status => Err(status),
    }
}

pub fn increment(id: u32, by: i64) -> Result<(), u32> {
    calls::count(Call::IncrementMetric);
    // SAFETY: plain values.
    match unsafe { proxy_increment_metric(id, by) } {
        OK => Ok(()),
        status => Err(status),
    }
}

/// `proxy_wasm::types::MapType::HttpRequestHeaders`.
const REQUEST_HEADERS: u32 = 0;
/// `proxy_wasm::types::BufferType::HttpRequestBody`.
pub const REQUEST_BODY: u32 = 0;
/// `proxy_wasm::types::BufferType::HttpResponseBody`.
pub const RESPONSE_BODY: u32 = 1;
/// `proxy_wasm::types::BufferType::PluginConfiguration`.
pub const PLUGIN_CONFIGURATION: u32 = 7;

/// Up to `max` bytes of a host buffer from `start`; `Ok(None)` when absent.
pub fn get_buffer(buffer_type: u32, start: usize, max: usize) -> Result<Option<Vec<u8>>, u32> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    calls::count(Call::GetBuffer);
    // SAFETY: `data` and `size` outlive the call.
    match unsafe { proxy_get_buffer_bytes(buffer_type, start, max, &mut data, &mut size) } {
        OK => Ok(reclaim(data, size)),
        NOT_FOUND => Ok(None),
        status => Err(status),
    }
}

/// The request headers (pseudo-headers included), in order, read in place
/// (`header_map`: names and values that are not UTF-8 are decoded lossily
/// rather than trusted).
pub fn request_headers() -> Result<HeaderMap, u32> {
    header_map(REQUEST_HEADERS)
}

/// `proxy_wasm::types::MapType::HttpCallResponseHeaders`.
pub const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
/// `proxy_wasm::types::BufferType::HttpCallResponseBody`.
pub const HTTP_CALL_RESPONSE_BODY: u32 = 4;

/// A header map as the host encodes it; nothing is copied out of it until
/// a caller keeps a name or value.
pub fn header_map(map_type: u32) -> Result<HeaderMap, u32> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    calls::count(Call::HeaderPairs);
    // SAFETY: `data` and `size` outlive the call.
    match unsafe { proxy_get_header_map_pairs(map_type, &mut data, &mut size) } {
        OK => Ok(reclaim(data, size).map(HeaderMap::new).unwrap_or_default()),
        status => Err(status),
    }
}

/// `proxy_wasm::types::MapType::HttpResponseHeaders`.
const RESPONSE_HEADERS: u32 = 2;

/// The response headers (pseudo-headers included), read in place.
pub fn response_headers() -> Result<HeaderMap, u32> {
    header_map(RESPONSE_HEADERS)
}

/// The response's `:status` among its headers, when there is one and it is
/// a number.
pub fn status_of(headers: &HeaderMap) -> Option<u16> {
    headers.get_exact(":status").and_then(|value| value.trim().parse().ok())
}

pub fn set_request_header(name: &str, value: &str) -> Result<(), u32> {
    replace_header(REQUEST_HEADERS, name, value)
}

pub fn remove_request_header(name: &str) -> Result<(), u32> {
    remove_header(REQUEST_HEADERS, name)
}

fn replace_header(map_type: u32, name: &str, value: &str) -> Result<(), u32> {
    calls::count(Call::ReplaceHeader);
    // SAFETY: `name` and `value` outlive the call.
    match unsafe { proxy_replace_header_map_value(map_type, name.as_ptr(), name.len(), value.as_ptr(), value.len()) } {
        OK => Ok(()),
        status => Err(status),
    }
}

fn remove_header(map_type: u32, name: &str) -> Result<(), u32> {
    calls::count(Call::RemoveHeader);
    // SAFETY: `name` outlives the call.
    match unsafe { proxy_remove_header_map_value(map_type, name.as_ptr(), name.len()) } {
        OK => Ok(()),
        status => Err(status),
    }
}

/// Answers the request locally instead of forwarding it.
pub fn send_response(status: u16, headers: &[(String, String)], body: &[u8]) -> Result<(), u32> {
    let h = header_map::encode(headers);
    let details = "distill_guard";
    calls::count(Call::LocalReply);
    // SAFETY: every buffer outlives the call. -1: not a gRPC status.
    match unsafe {
        proxy_send_local_response(
            u32::from(status),
            details.as_ptr(),
            details.len(),
            body.as_ptr(),
            body.len(),
            h.as_ptr(),
            h.len(),
            -1,
        )
    } {
        OK => Ok(()),
        status => Err(status),
    }
}

/// Calls the root context's `on_tick` every `millis` milliseconds.
pub fn set_tick_period(millis: u32) -> Result<(), u32> {
    calls::count(Call::Other);
    // SAFETY: plain value.
    match unsafe { proxy_set_tick_period_milliseconds(millis) } {
        OK => Ok(()),
        status => Err(status),
    }
}

/// Resumes the paused request of another context (from the root's tick).
pub fn resume_request_of(context_id: u32) -> Result<(), u32> {
    calls::count(Call::Other);
    // SAFETY: plain values. Stream type 0 is the HTTP request.
    match unsafe { proxy_set_effective_context(context_id) } {
        OK => {}
        status => return Err(status),
    }
    calls::count(Call::Other);
    match unsafe { proxy_continue_stream(0) } {
        OK => Ok(()),
        status => Err(status),
    }
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_close_stream(stream_type: u32) -> u32;
}

/// Resets the current request's stream (stream type 0, the HTTP request).
pub fn reset_request() -> Result<(), u32> {
    calls::count(Call::Other);
    // SAFETY: a plain value.
    match unsafe { proxy_close_stream(0) } {
        OK => Ok(()),
        status => Err(status),
    }
}

// Response headers and body, for the answers of `filter::reasoning`.
#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_set_buffer_bytes(
        buffer_type: u32,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> u32;
}

pub fn set_response_header(name: &str, value: &str) -> Result<(), u32> {
    replace_header(RESPONSE_HEADERS, name, value)
}

pub fn remove_response_header(name: &str) -> Result<(), u32> {
    remove_header(RESPONSE_HEADERS, name)
}

/// Replaces `size` bytes of a host buffer from `start` with `data`.
pub fn set_buffer(buffer_type: u32, start: usize, size: usize, data: &[u8]) -> Result<(), u32> {
    calls::count(Call::SetBuffer);
    // SAFETY: `data` outlives the call.
    match unsafe { proxy_set_buffer_bytes(buffer_type, start, size, data.as_ptr(), data.len()) } {
        OK => Ok(()),
        status => Err(status),
    }
}
