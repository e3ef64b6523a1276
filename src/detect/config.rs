//! The `detection` section of the configuration (raw and compiled).
//! OWNER: detection. Placeholder until the detectors land.

use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RawDetection {}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DetectionSettings {}

impl TryFrom<&RawDetection> for DetectionSettings {
    type Error = ConfigError;

    fn try_from(_raw: &RawDetection) -> Result<DetectionSettings, ConfigError> {
        Ok(DetectionSettings {})
    }
}
