//! The client's address: the downstream peer, unless the operator says how
//! many `x-forwarded-for` hops their own proxies add. The header is never
//! trusted by default, since any client can send one.

use std::net::IpAddr;

use crate::netaddr::parse_ip;
use crate::request::RequestMeta;

/// With `trusted_hops = n > 0`, the address `n` entries from the right of
/// `x-forwarded-for` (the one the outermost trusted proxy saw). A header
/// with fewer entries, or an unparseable entry, falls back to the peer.
pub fn client_ip(meta: &RequestMeta, trusted_hops: u32) -> Option<IpAddr> {
    forwarded_ip(meta, trusted_hops).or(meta.source_ip)
}

/// The address `x-forwarded-for` gives with `trusted_hops` (none at 0, or
/// when the header cannot say): when there is one, the peer address is not
/// needed (the glue then does not ask Envoy for it).
pub fn forwarded_ip(meta: &RequestMeta, trusted_hops: u32) -> Option<IpAddr> {
    if trusted_hops == 0 {
        return None;
    }
    meta.header("x-forwarded-for").and_then(|xff| {
        let hops: Vec<&str> = xff.split(',').map(str::trim).collect();
        let index = hops.len().checked_sub(usize::try_from(trusted_hops).ok()?)?;
        parse_addr(hops.get(index)?)
    })
}

/// An address, tolerating `[v6]:port` and `v4:port` forms.
fn parse_addr(s: &str) -> Option<IpAddr> {
    if let Some(ip) = parse_ip(s) {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return parse_ip(rest.split(']').next()?);
    }
    s.rsplit_once(':').and_then(|(host, _)| parse_ip(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn meta(xff: Option<&str>) -> RequestMeta {
        RequestMeta {
            headers: xff
                .map(|v| vec![("x-forwarded-for".to_owned(), v.to_owned())])
                .unwrap_or_default(),
            source_ip: Some("10.0.0.1".parse().unwrap()),
            ..RequestMeta::default()
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn header_ignored_by_default() {
        assert_eq!(client_ip(&meta(Some("1.2.3.4")), 0), Some("10.0.0.1".parse().unwrap()));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn trusted_hops_count_from_the_right() {
        let m = meta(Some("6.6.6.6, 198.51.100.7, 192.0.2.1"));
        assert_eq!(client_ip(&m, 1), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(client_ip(&m, 2), Some("198.51.100.7".parse().unwrap()));
        assert_eq!(client_ip(&m, 4), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(
            client_ip(&meta(Some("[2001:db8::1]:443")), 1),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(client_ip(&meta(Some("garbage")), 1), Some("10.0.0.1".parse().unwrap()));
        // What the glue asks before fetching the peer address.
        assert_eq!(forwarded_ip(&meta(Some("1.2.3.4")), 0), None);
        assert_eq!(forwarded_ip(&meta(Some("garbage")), 1), None);
        assert_eq!(forwarded_ip(&meta(None), 1), None);
        assert_eq!(forwarded_ip(&m, 1), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(forwarded_ip(&m, 4), None);
    }
}
