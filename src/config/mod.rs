//! Plugin configuration, in two phases: `read` reads the JSON document
//! Envoy (or Istio's `pluginConfig`) passes into `raw`, with a default for every field
//! and unknown fields refused; `compile` checks ranges and cross-references
//! and produces the [`Settings`] the engine runs with. Errors name the
//! field's path. docs/configuration.md documents every field.

pub mod compile;
pub mod error;
use crate::json::reader as json;
pub mod raw;
mod read;

pub use compile::{IdentitySource, Settings};
pub use error::ConfigError;
pub use raw::{Mode, ParseErrorPolicy};

impl Mode {
    /// The name used in the `x-distill-guard-mode` header, metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Shadow => "shadow",
            Mode::Enforce => "enforce",
        }
    }
}

/// Parses and validates a configuration document. An empty document (or
/// only whitespace) means "all defaults", as Envoy passes no bytes when the
/// `configuration` field is absent.
pub fn load(bytes: &[u8]) -> Result<Settings, ConfigError> {
    let raw = raw::RawConfig::from_bytes(bytes)?;
    Settings::try_from(raw)
}

#[cfg(test)]
mod read_tests;
#[cfg(test)]
mod tests;
