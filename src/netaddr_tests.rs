//! `netaddr` against `core::net`: the same addresses accepted and refused,
//! the same text written.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use wasm_bindgen_test::wasm_bindgen_test;

use super::*;

fn same(s: &str) {
    assert_eq!(parse_ip(s), s.parse::<IpAddr>().ok(), "ip {s:?}");
    assert_eq!(
        parse_socket_ip(s),
        s.parse::<SocketAddr>().ok().map(|a| a.ip()),
        "socket {s:?}"
    );
    if let Ok(ip) = s.parse::<IpAddr>() {
        assert_eq!(ip_text(ip), ip.to_string(), "{s:?}");
    }
}

/// Reproducible variety: xorshift (13, 7, 17).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn next(&mut self) -> u64 {
        self.below(usize::MAX) as u64 ^ (self.0 >> 32)
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn grammar_edges() {
    for s in [
        "",
        "0.0.0.0",
        "255.255.255.255",
        "256.0.0.1",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3.0",
        "1.2.3.00",
        "1.2.3.4 ",
        " 1.2.3.4",
        "1.2.3.1234",
        "1..3.4",
        "+1.2.3.4",
        "1.2.3.4:80",
        "1.2.3.4:0",
        "1.2.3.4:65535",
        "1.2.3.4:65536",
        "1.2.3.4:000080",
        "1.2.3.4:",
        "1.2.3.4:+80",
        "::",
        "::1",
        "1::",
        ":::",
        "1:::2",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "1.2.3.4::",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::",
        "1:2:3:4:5:6::7:8",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5::1.2.3.4",
        "::1:2:3:4:5:6:7",
        "::1:2:3:4:5:6:7:8",
        "12345::",
        "0000:0000::",
        "00000::",
        "FFFF::fFfF",
        "g::",
        "2001:db8::1",
        "2001:0db8:0000:0000:0000:ff00:0042:8329",
        "[::1]:443",
        "[::1]",
        "[::1]:",
        "[::1%3]:443",
        "[::1%]:443",
        "[::1%4294967295]:1",
        "[::1%4294967296]:1",
        "[1.2.3.4]:80",
        "[::ffff:1.2.3.4]:80",
        "::1:443",
        "1:0:0:1:0:0:0:1",
        "1:0:0:0:1:0:0:1",
        "0:0:1:0:0:1:0:0",
        "1:0:1:0:1:0:1:0",
        "::ffff:0:0",
        "::fffe:1.2.3.4",
        "\u{e9}1.2.3.4",
        "1.2.3.\u{663}",
    ] {
        same(s);
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn random_text() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabet = b"0123456789abcdefABCDEFg:.[]%: .0 1f";
    for _ in 0..200_000 {
        let len = rng.below(24);
        let s: String = (0..len)
            .map(|_| char::from(alphabet[rng.below(alphabet.len())]))
            .collect();
        same(&s);
    }
}

fn random_v6(rng: &mut Rng) -> Ipv6Addr {
    let mut segments = [0u16; 8];
    for s in &mut segments {
        *s = match rng.below(4) {
            0 | 1 => 0,
            2 => rng.below(16) as u16,
            _ => rng.next() as u16,
        };
    }
    match rng.below(8) {
        0 => Ipv4Addr::from(rng.next() as u32).to_ipv6_mapped(),
        1 => Ipv4Addr::from(rng.next() as u32).to_ipv6_compatible(),
        _ => Ipv6Addr::from(segments),
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn written_and_mutated_addresses() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mutations = b"0123456789abcdef:.[]%";
    for _ in 0..100_000 {
        let ip = if rng.below(3) == 0 {
            IpAddr::V4(Ipv4Addr::from(rng.next() as u32))
        } else {
            IpAddr::V6(random_v6(&mut rng))
        };
        assert_eq!(ip_text(ip), ip.to_string());
        let mut texts = vec![ip.to_string()];
        if let IpAddr::V6(v6) = ip {
            let full: Vec<String> = v6.segments().iter().map(|s| format!("{s:x}")).collect();
            texts.push(full.join(":"));
            texts.push(format!("[{v6}]:{}", rng.below(70_000)));
            texts.push(format!("[{v6}%{}]:{}", rng.next() as u32, rng.below(100)));
        } else {
            texts.push(format!("{ip}:{}", rng.below(70_000)));
        }
        for text in texts {
            same(&text);
            let mut bytes = text.into_bytes();
            for _ in 0..1 + rng.below(2) {
                let at = rng.below(bytes.len() + 1);
                let c = mutations[rng.below(mutations.len())];
                match rng.below(3) {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 if at < bytes.len() => bytes[at] = c,
                    _ => bytes.insert(at, c),
                }
            }
            same(&String::from_utf8(bytes).unwrap());
        }
    }
}
