//! Detection: turns one request, its identity and the shared counters into a
//! suspicion score with reason codes. OWNER: detection.

pub mod config;

use crate::api::RequestView;
use crate::host::Host;
use crate::identity::Identity;
use crate::request::RequestMeta;
use crate::verdict::ReasonCode;

/// Everything detection may look at for one request.
pub struct Observation<'a> {
    pub identity: &'a Identity,
    /// `None` when the body could not be parsed.
    pub view: Option<&'a RequestView>,
    pub meta: &'a RequestMeta,
    /// Seconds since the epoch (the host clock, or the trace's timestamp).
    pub now: f64,
}

/// Detection's answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assessment {
    /// Suspicion in [0, 1].
    pub score: f64,
    /// Most important first.
    pub reasons: Vec<ReasonCode>,
    /// `Some(retry_after_secs)` when a (dynamic) rate limit is exceeded.
    pub rate_limited: Option<u64>,
}

/// Stateless between requests: all state lives in the shared store.
pub struct Detector {
    #[allow(dead_code)]
    settings: config::DetectionSettings,
}

impl Detector {
    pub fn new(settings: config::DetectionSettings) -> Detector {
        Detector { settings }
    }

    pub fn assess(&self, _obs: &Observation<'_>, _host: &Host<'_>) -> Assessment {
        Assessment::default()
    }
}
