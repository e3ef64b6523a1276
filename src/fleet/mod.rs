//! Fleet mode: detection state shared by many Envoys, in the background.
//!
//! Every request is still decided from this host's shared data. Each slot
//! value may carry, behind this host's own record, the merged record of the
//! fleet's *other* hosts for that slot (`view`); detection judges a request
//! on the two merged (`merge`) and writes back only its own record. A timer
//! sends this host's touched records to a sync service and writes the
//! answers behind them (`wire` is the message, `hub` what the service does
//! with it, over Redis or an in-memory model). Pure: the filter's timer, the
//! sync service and `replay --hosts` all run this code.
//!
//! - `tables`: the slot tables that are synced, their ids and widths;
//! - `merge`: how two hosts' records become one, per table;
//! - `view`: a slot value's two parts and the merged record a request sees;
//! - `carry`: what a request decides on the merged view, kept locally;
//! - `touched`: which slots changed since the last sync, bounded;
//! - `wire`: the sync request and answer, versioned, bounded, keyed MAC;
//! - `exchange`: a host's side of a sync over its shared data;
//! - `hub`: the service's merge over a backend (Redis or memory);
//! - `lease`: one worker per host syncs;
//! - `shared`: the host's fleet bookkeeping in shared data (pending slots,
//!   host id, cursor, outage episodes);
//! - `settings`: the `fleet` configuration section.

pub mod carry;
pub mod exchange;
pub mod hub;
pub mod lease;
pub mod merge;
pub mod settings;
pub mod shared;
pub mod tables;
#[cfg(test)]
mod tests;
pub mod touched;
pub mod view;
pub mod wire;
