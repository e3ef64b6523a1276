//! Bench builds only (feature `alloc-count`, scripts/glue-v8.sh --allocs):
//! the module's allocator wrapped to count allocations and reallocations,
//! exported as `distill_guard_alloc_count` / `distill_guard_realloc_count`
//! so `scripts/lib/glue-bench.mjs` can print them per request. A shipped
//! module is built without it (scripts/build.sh passes no features).
//!
//! It wraps the module's own allocator (src/filter/allocator.rs), so the
//! counts and the bench's timings are those of the shipped heap.
//!
//! A Wasm VM runs one thread: relaxed atomics are plain counters here.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU64, Ordering};

use talc::wasm::WasmDynamicTalc;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static REALLOCS: AtomicU64 = AtomicU64::new(0);

struct Counting(WasmDynamicTalc);

// SAFETY: every call is forwarded unchanged to the module's allocator;
// only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the wrapped allocator's.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting(super::allocator::heap());

/// Allocations (`alloc` and `alloc_zeroed`) since the module started.
#[no_mangle]
pub extern "C" fn distill_guard_alloc_count() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

/// Reallocations (a `Vec` or `String` grown in place or moved) since the
/// module started.
#[no_mangle]
pub extern "C" fn distill_guard_realloc_count() -> u64 {
    REALLOCS.load(Ordering::Relaxed)
}
