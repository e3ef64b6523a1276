//! Host calls counted by kind (issue 8: what the glue costs on Envoy's side
//! of the boundary). Every wrapper in `abi` counts itself here; the count is
//! a plain add on the VM's own memory (one VM per worker thread), no host
//! call. The root context's tick logs the running totals at debug level, so
//! an Envoy run with `--component-log-level wasm:debug` says how many calls
//! of each kind its requests made (`scripts/bench-hostcalls.sh` divides
//! them by the requests); at Envoy's usual levels nothing is logged and the
//! tick costs one `proxy_get_log_level`.

use std::cell::Cell;

/// One kind of host call; or, not host calls: `Requests`, one HTTP context
/// (the denominator), and `Timed`, one request callback timed for
/// `processing_time_us` (its clock reads are the timing's), and `Ticks`,
/// the root context's ticks (each reads the clock once).
#[derive(Clone, Copy)]
pub enum Call {
    Requests,
    Timed,
    Ticks,
    Log,
    LogLevel,
    Clock,
    GetProperty,
    SetProperty,
    GetSharedData,
    SetSharedData,
    HeaderPairs,
    ReplaceHeader,
    RemoveHeader,
    GetBuffer,
    SetBuffer,
    LocalReply,
    DefineMetric,
    IncrementMetric,
    RecordMetric,
    Other,
}

/// Names in the logged line, in `Call`'s order.
const NAMES: [&str; KINDS] = [
    "requests",
    "timed_callbacks",
    "ticks",
    "log",
    "log_level",
    "clock",
    "get_property",
    "set_property",
    "get_shared_data",
    "set_shared_data",
    "header_pairs",
    "replace_header",
    "remove_header",
    "get_buffer",
    "set_buffer",
    "local_reply",
    "define_metric",
    "increment_metric",
    "record_metric",
    "other",
];
const KINDS: usize = 20;

/// Bytes copied across the boundary by shared-data calls (values read plus
/// written).
const SHARED_BYTES: usize = KINDS;
/// Request body bytes read into the VM (what the inspected prefix cost).
const REQUEST_BODY_BYTES: usize = KINDS + 1;

thread_local! {
    static COUNTS: [Cell<u64>; KINDS + 2] = Default::default();
    /// The requests counted at the last line (no line while no request
    /// came: the tick's own calls alone are not news).
    static LOGGED: Cell<u64> = const { Cell::new(0) };
}

fn add(at: usize, by: u64) {
    COUNTS.with(|c| {
        if let Some(cell) = c.get(at) {
            cell.set(cell.get().wrapping_add(by));
        }
    });
}

/// Counts one call of `kind`.
pub fn count(kind: Call) {
    add(kind as usize, 1);
}

/// Counts shared-data value bytes crossing the boundary.
pub fn shared_bytes(bytes: usize) {
    add(SHARED_BYTES, bytes as u64);
}

/// Counts request body bytes read into the VM.
pub fn request_body_bytes(bytes: usize) {
    add(REQUEST_BODY_BYTES, bytes as u64);
}

/// `host calls vm=<vm> requests=… log=… … shared_bytes=… request_body_bytes=…`, cumulative since
/// the VM started, or `None` when no request came since the last line.
pub fn report(vm: u64) -> Option<String> {
    let values: Vec<u64> = COUNTS.with(|c| c.iter().map(Cell::get).collect());
    let requests = values.first().copied().unwrap_or(0);
    if LOGGED.with(|l| l.replace(requests)) == requests {
        return None;
    }
    let mut line = format!("distill-guard: host calls vm={vm:x}");
    for (name, value) in NAMES
        .iter()
        .chain(["shared_bytes", "request_body_bytes"].iter())
        .zip(&values)
    {
        line.push_str(&format!(" {name}={value}"));
    }
    Some(line)
}
