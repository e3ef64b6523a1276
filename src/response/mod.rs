//! The response side: reading upstream answers as they pass to the client.
//!
//! Pure (no proxy-wasm): the glue (`src/filter/response_body.rs`) and the
//! replay feed the same code.
//!
//! - `sse`: an incremental Server-Sent Events splitter, bounded memory per
//!   stream; also the building block for stream rewriting.
//! - `scan`: a streaming JSON scan that finds usage objects and counts the
//!   answer's text without holding the document.
//! - `usage`: token counts from each provider's usage object.
//! - `meter`: one answer in, its output and reasoning tokens out
//!   ([`ResponseMeter`], [`Tally`]).

pub mod meter;
pub mod scan;
pub mod sse;
pub mod usage;

pub use meter::{ResponseMeter, Source, Tally};
