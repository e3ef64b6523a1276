//! The response side: reading upstream answers as they pass to the client,
//! and, for tagged callers, removing their reasoning.
//!
//! Pure (no proxy-wasm): the glue (`src/filter/response_body.rs`,
//! `src/filter/reasoning.rs`) and the replay feed the same code.
//!
//! - `sse`: an incremental Server-Sent Events splitter, bounded memory per
//!   stream; also the building block for stream rewriting.
//! - `scan`: a streaming JSON scan that finds usage objects and counts the
//!   answer's text without holding the document.
//! - `usage`: token counts from each provider's usage object.
//! - `accept`: the `accept-encoding` a metered request is forwarded with,
//!   narrowed to the codings the meter reads.
//! - `meter`: one answer in, its output and reasoning tokens out
//!   ([`ResponseMeter`], [`Tally`]).
//! - `reasoning/`: reasoning withheld from tagged callers
//!   (`response.reasoning: strip`), in JSON answers and SSE streams.

pub mod accept;
pub mod meter;
pub mod reasoning;
pub mod scan;
pub mod sse;
pub mod usage;

pub use meter::{ResponseMeter, Source, Tally};
