//! The proxy-wasm glue (compiled for `wasm32-wasip1` only): the only module
//! that talks to the host. It moves bytes between Envoy and the engine and
//! applies the engine's decisions; it holds no detection logic.
//!
//! - `root`: configuration → `Engine`, shared with every request of the VM.
//! - `http`: one request: headers, body prefix, trailers, decision applied.
//! - `response_body`: the upstream's answer read as it passes (never held):
//!   token counts for the engine.
//! - `host_store`, `host_clock`, `host_metrics`: the engine's host traits
//!   over Envoy's shared data, clock and stats.
//! - `fleet_tick`: fleet sync from the timer (`fleet.enabled`): lease,
//!   pending slots, the call to the sync service and its answer.
//! - `watchdog`: resumes requests an Envoy without
//!   `allow_on_headers_stop_iteration` would leave hanging.
//! - `reasoning`: the answer to a tagged request through the reasoning
//!   stripper (`response.reasoning: strip`).
//! - `abi`: the raw host calls, so no host status can panic the VM.
//! - `calls`: those calls counted by kind (logged at debug level).
//! - `allocator`: the module's heap (talc rather than wasi-libc's dlmalloc:
//!   fewer bytes).
//! - `no_environ`: `getenv` and `getcwd` that keep libc's own heap out of
//!   the module (only std's panic paths call them).
//! - `alloc_count`: bench builds only (feature `alloc-count`): heap
//!   allocations counted and exported for the glue bench.

mod abi;
#[cfg(feature = "alloc-count")]
#[allow(unsafe_code)]
mod alloc_count;
mod allocator;
mod calls;
mod fleet_tick;
mod host_clock;
mod host_metrics;
mod host_store;
mod http;
#[allow(unsafe_code)]
mod no_environ;
mod reasoning;
mod response_body;
mod root;
mod watchdog;

/// The module's entry point. `proxy_wasm::main!` expands to an exported
/// `#[no_mangle] _initialize` with an `unsafe` call to the WASI constructors,
/// hence the allowance on this small module alone.
#[allow(unsafe_code)]
mod entry {
    use super::abi::{self, Level};
    use super::root::Root;

    proxy_wasm::main! {{
        // A panic aborts the VM (panic = "abort"): say why before it goes.
        std::panic::set_hook(Box::new(|info| {
            abi::log(Level::Critical, &format!("distill-guard: panic: {info}"));
        }));
        proxy_wasm::set_root_context(|context_id| Box::new(Root::new(context_id)));
    }}
}
