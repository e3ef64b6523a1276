//! The host services the engine uses: Envoy's in the filter, in-memory ones
//! in the replay and tests.

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::SharedStore;

pub struct Host<'a> {
    pub store: &'a dyn SharedStore,
    pub clock: &'a dyn Clock,
    pub metrics: &'a dyn Metrics,
}
