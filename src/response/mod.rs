//! Upstream answers: what the filter reads from (and, for tagged callers,
//! removes from) a response. Pure: no proxy-wasm here; `src/filter/` moves
//! the bytes.
//!
//! Files: `reasoning/` (reasoning withheld from tagged callers, in JSON
//! answers and SSE streams).

pub mod reasoning;
