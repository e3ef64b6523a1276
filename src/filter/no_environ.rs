//! `getenv` and `getcwd` for the module, in place of wasi-libc's: they keep
//! libc's own heap (dlmalloc, ~7.5 KB) out of the module, whose heap is
//! talc (src/filter/allocator.rs).
//!
//! Nothing in distill-guard reads the environment or the working
//! directory. std does, but only on its panic and out-of-memory paths (the
//! `RUST_BACKTRACE` variable; the directory when printing a backtrace), and
//! wasi-libc's versions allocate with `malloc`/`calloc` (the environment
//! copied on first use, `strdup` of the directory), which alone would link
//! dlmalloc beside talc. The linker takes a symbol the crate defines before
//! it looks in libc, so these two replace libc's, and `malloc` is never
//! referenced. Envoy ignores the two extra exports (it calls
//! `proxy_on_memory_allocate`, not `malloc`, as there is none).
//!
//! What changes: `RUST_BACKTRACE` set in the VM's `environment_variables`
//! no longer turns on backtraces (a Wasm VM has no symbolised backtrace to
//! print anyway); the working directory is "/", as wasi-libc's is in a VM
//! that never changes it.

use std::ffi::c_char;
use std::ptr;

/// No variable is set: every lookup misses.
#[no_mangle]
pub extern "C" fn getenv(_name: *const c_char) -> *mut c_char {
    ptr::null_mut()
}

/// "/" written into the caller's buffer. std always passes a buffer of 512
/// bytes or more; a null or too small one gets null (errno untouched: std
/// never asks with either).
#[no_mangle]
pub extern "C" fn getcwd(buf: *mut c_char, size: usize) -> *mut c_char {
    if buf.is_null() || size < 2 {
        return ptr::null_mut();
    }
    // SAFETY: the caller hands over `size` (>= 2) writable bytes at `buf`,
    // getcwd's contract.
    unsafe {
        buf.write(b'/' as c_char);
        buf.add(1).write(0);
    }
    buf
}
