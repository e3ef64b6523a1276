//! What the glue (or the replay) knows about a request before its body.

use std::net::IpAddr;

/// Request line and headers, as Envoy hands them to the filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestMeta {
    pub method: String,
    /// Path with query, as in `:path`.
    pub path: String,
    pub authority: Option<String>,
    /// Header names in lower case; repeated headers joined by `", "`.
    pub headers: Vec<(String, String)>,
    /// The downstream peer as Envoy sees it (`source.address`), no port.
    pub source_ip: Option<IpAddr>,
}

impl RequestMeta {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}
