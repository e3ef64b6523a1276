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

/// [`client_ip`] for the glue, which has not yet asked Envoy for the peer
/// address: `peer` is asked (into `meta.source_ip`) only when
/// `x-forwarded-for` does not name the client, a host call fewer behind a
/// trusted proxy. The header is read once; the engine takes the address
/// from here ([`crate::engine::Engine::begin_from`]) instead of reading it
/// again.
pub fn client_ip_asking_peer(
    meta: &mut RequestMeta,
    trusted_hops: u32,
    peer: impl FnOnce() -> Option<IpAddr>,
) -> Option<IpAddr> {
    let forwarded = forwarded_ip(meta, trusted_hops);
    if forwarded.is_none() {
        meta.source_ip = peer();
    }
    forwarded.or(meta.source_ip)
}

/// The address `x-forwarded-for` gives with `trusted_hops` (none at 0, or
/// when the header cannot say): when there is one, the peer address is not
/// needed.
fn forwarded_ip(meta: &RequestMeta, trusted_hops: u32) -> Option<IpAddr> {
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

    /// The glue's reading before `client_ip_asking_peer`: the header read
    /// for whether to ask the peer, the peer asked into the meta, then the
    /// header read again by `client_ip` (in `identity::resolve`).
    fn glue_then_resolve(mut meta: RequestMeta, hops: u32, peer: Option<IpAddr>) -> (RequestMeta, Option<IpAddr>) {
        if forwarded_ip(&meta, hops).is_none() {
            meta.source_ip = peer;
        }
        let ip = client_ip(&meta, hops);
        (meta, ip)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn one_read_gives_what_two_gave_and_asks_the_peer_as_rarely() {
        let headers = [
            None,
            Some(""),
            Some("1.2.3.4"),
            Some("6.6.6.6, 198.51.100.7, 192.0.2.1"),
            Some("6.6.6.6,198.51.100.7 ,  192.0.2.1 "),
            Some("[2001:db8::1]:443"),
            Some("2001:db8::2"),
            Some("192.0.2.9:8080, garbage"),
            Some("garbage"),
            Some(", ,"),
        ];
        for xff in headers {
            for hops in 0..5 {
                for peer in [None, Some(IpAddr::from([10, 9, 8, 7]))] {
                    let mut m = meta(xff);
                    m.source_ip = None;
                    let (old_meta, old_ip) = glue_then_resolve(m.clone(), hops, peer);
                    let mut asked = 0;
                    let ip = client_ip_asking_peer(&mut m, hops, || {
                        asked += 1;
                        peer
                    });
                    assert_eq!((ip, &m), (old_ip, &old_meta), "{xff:?} {hops}");
                    let needed = usize::from(forwarded_ip(&m, hops).is_none());
                    assert_eq!(asked, needed, "{xff:?} {hops}");
                }
            }
        }
    }
}
