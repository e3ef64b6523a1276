//! The Envoy module's heap: talc, not `System`.
//!
//! On wasm32-wasip1 `System` is wasi-libc's dlmalloc (with `posix_memalign`
//! and Rust's realloc shim around it): about 10.9 KB of the module's code.
//! talc's WebAssembly allocator does the same job in ~2 KB (issue 8: module
//! size; the bytes, speed under V8 and Envoy's memory over a long run with
//! both are in docs/benchmarks.md, "Session 11: the allocator"). dlmalloc
//! leaves the module only because libc's own callers of `malloc` are gone
//! too (src/filter/no_environ.rs). talc takes pages with
//! `memory.grow` as it needs them and, like dlmalloc in a Wasm VM, never
//! gives them back: the VM's memory is its high-water mark.
//!
//! `new_wasm_dynamic_allocator` is safe to call because the module runs on
//! one thread with no signal handlers, which talc checks at compile time
//! (it refuses a Wasm target with atomics). The native tool and the
//! wasm32-unknown-unknown tests never compile this file (`filter` is
//! wasm32-wasip1 only) and keep their targets' allocators.

use talc::wasm::WasmDynamicTalc;

/// A fresh heap, empty until the first allocation grows the memory.
pub(super) const fn heap() -> WasmDynamicTalc {
    talc::wasm::new_wasm_dynamic_allocator()
}

/// Bench builds (`alloc-count`) register the counting wrapper around a
/// heap of the same kind instead (src/filter/alloc_count.rs).
#[cfg(not(feature = "alloc-count"))]
#[global_allocator]
static HEAP: WasmDynamicTalc = heap();
