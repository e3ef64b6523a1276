//! IP addresses read and written by hand, exactly as `core::net` does
//! (`IpAddr`'s and `SocketAddr`'s `FromStr`, `IpAddr`'s `Display`), so that
//! core's address parser and formatter (~6 KB of code, issue 8: module size)
//! stay out of the Envoy module. The tests compare both ways with `core`
//! on every edge case of its grammar and on random and mutated text.
//!
//! The grammar (core's `net/parser.rs`): IPv4 is four decimal parts of one
//! to three digits, each at most 255, no leading zero; IPv6 is up to eight
//! groups of one to four hex digits with at most one `::`, optionally ending
//! in an embedded IPv4 address (not before `::`); a socket address is
//! `v4:port` or `[v6]:port` / `[v6%scope]:port`, port and scope decimal with
//! any number of digits (leading zeros allowed) within `u16` / `u32`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `s.parse::<IpAddr>().ok()`.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let mut p = Parser { rest: s.as_bytes() };
    let ip = p.ip()?;
    p.rest.is_empty().then_some(ip)
}

/// `s.parse::<SocketAddr>().ok().map(|a| a.ip())`: the address of a
/// socket address (its port and scope read and dropped).
pub fn parse_socket_ip(s: &str) -> Option<IpAddr> {
    let mut p = Parser { rest: s.as_bytes() };
    let ip = p.atomically(|p| {
        let ip = p.ipv4()?;
        p.port()?;
        Some(IpAddr::V4(ip))
    });
    let ip = match ip {
        Some(ip) => ip,
        None => p.atomically(|p| {
            p.given(b'[')?;
            let ip = p.ipv6()?;
            let _ = p.atomically(|p| {
                p.given(b'%')?;
                p.number::<u32>(10, None, true)
            });
            p.given(b']')?;
            p.port()?;
            Some(IpAddr::V6(ip))
        })?,
    };
    p.rest.is_empty().then_some(ip)
}

/// `ip.to_string()`.
pub fn ip_text(ip: IpAddr) -> String {
    let mut out = String::with_capacity(39);
    match ip {
        IpAddr::V4(v4) => write_v4(&mut out, v4),
        IpAddr::V6(v6) => write_v6(&mut out, v6),
    }
    out
}

fn write_v4(out: &mut String, ip: Ipv4Addr) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        crate::decimal::push_u64(out, u64::from(octet));
    }
}

fn write_v6(out: &mut String, ip: Ipv6Addr) {
    if let Some(v4) = ip.to_ipv4_mapped() {
        out.push_str("::ffff:");
        write_v4(out, v4);
        return;
    }
    let segments = ip.segments();
    // The longest run of zero groups (the first of equal ones).
    let (mut start, mut len) = (0, 0);
    let (mut run_start, mut run_len) = (0, 0);
    for (i, &segment) in segments.iter().enumerate() {
        if segment == 0 {
            if run_len == 0 {
                run_start = i;
            }
            run_len += 1;
            if run_len > len {
                (start, len) = (run_start, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    if len > 1 {
        write_groups(out, segments.get(..start).unwrap_or_default());
        out.push_str("::");
        write_groups(out, segments.get(start + len..).unwrap_or_default());
    } else {
        write_groups(out, &segments);
    }
}

fn write_groups(out: &mut String, groups: &[u16]) {
    for (i, &group) in groups.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let mut started = false;
        for shift in [12u32, 8, 4, 0] {
            let digit = (group >> shift) & 0xf;
            if started || digit != 0 || shift == 0 {
                let digit = usize::from(digit);
                out.push_str("0123456789abcdef".get(digit..=digit).unwrap_or("0"));
                started = true;
            }
        }
    }
}

/// The unread rest of the text; every reader restores it when it fails.
struct Parser<'a> {
    rest: &'a [u8],
}

/// The unsigned integers the grammar reads.
trait Number: Copy {
    const ZERO: Self;
    fn push_digit(self, radix: u32, digit: u32) -> Option<Self>;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Number for $t {
            const ZERO: Self = 0;
            fn push_digit(self, radix: u32, digit: u32) -> Option<Self> {
                self.checked_mul(<$t>::try_from(radix).ok()?)?
                    .checked_add(<$t>::try_from(digit).ok()?)
            }
        }
    )*};
}
number!(u8, u16, u32);

impl Parser<'_> {
    fn atomically<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let before = self.rest;
        let result = read(self);
        if result.is_none() {
            self.rest = before;
        }
        result
    }

    fn given(&mut self, byte: u8) -> Option<()> {
        let (&first, tail) = self.rest.split_first()?;
        if first != byte {
            return None;
        }
        self.rest = tail;
        Some(())
    }

    /// Digits, greedily; fails (consuming nothing) on no digit, an
    /// overflow, more than `max_digits`, or a forbidden leading zero.
    fn number<T: Number>(&mut self, radix: u32, max_digits: Option<usize>, zero_prefix: bool) -> Option<T> {
        self.atomically(|p| {
            let leading_zero = p.rest.first() == Some(&b'0');
            let mut value = T::ZERO;
            let mut digits = 0;
            while let Some(digit) = p.rest.first().and_then(|&b| char::from(b).to_digit(radix)) {
                p.rest = p.rest.get(1..).unwrap_or_default();
                value = value.push_digit(radix, digit)?;
                digits += 1;
                if max_digits.is_some_and(|max| digits > max) {
                    return None;
                }
            }
            (digits > 0 && (zero_prefix || !leading_zero || digits == 1)).then_some(value)
        })
    }

    /// `inner`, preceded by `separator` unless it is the first part.
    fn part<T>(&mut self, separator: u8, index: usize, inner: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.atomically(|p| {
            if index > 0 {
                p.given(separator)?;
            }
            inner(p)
        })
    }

    fn ipv4(&mut self) -> Option<Ipv4Addr> {
        self.atomically(|p| {
            let mut octets = [0u8; 4];
            for (i, slot) in octets.iter_mut().enumerate() {
                *slot = p.part(b'.', i, |p| p.number(10, Some(3), false))?;
            }
            Some(Ipv4Addr::from(octets))
        })
    }

    /// Colon-separated groups into `groups`, the last two possibly an
    /// embedded IPv4 address: how many were read, and whether that was.
    fn groups(&mut self, groups: &mut [u16]) -> (usize, bool) {
        let limit = groups.len();
        for i in 0..limit {
            if i + 1 < limit {
                if let Some(v4) = self.part(b':', i, Parser::ipv4) {
                    let [a, b, c, d] = v4.octets();
                    if let Some(pair) = groups.get_mut(i..i + 2) {
                        pair.copy_from_slice(&[u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
                    }
                    return (i + 2, true);
                }
            }
            match self.part(b':', i, |p| p.number::<u16>(16, Some(4), true)) {
                Some(group) => {
                    if let Some(slot) = groups.get_mut(i) {
                        *slot = group;
                    }
                }
                None => return (i, false),
            }
        }
        (limit, false)
    }

    fn ipv6(&mut self) -> Option<Ipv6Addr> {
        self.atomically(|p| {
            let mut head = [0u16; 8];
            let (head_size, head_v4) = p.groups(&mut head);
            if head_size == 8 {
                return Some(Ipv6Addr::from(head));
            }
            if head_v4 {
                return None;
            }
            p.given(b':')?;
            p.given(b':')?;
            let mut tail = [0u16; 7];
            let limit = 8 - (head_size + 1);
            let (tail_size, _) = p.groups(tail.get_mut(..limit)?);
            head.get_mut(8 - tail_size..)?.copy_from_slice(tail.get(..tail_size)?);
            Some(Ipv6Addr::from(head))
        })
    }

    fn ip(&mut self) -> Option<IpAddr> {
        match self.ipv4() {
            Some(v4) => Some(IpAddr::V4(v4)),
            None => self.ipv6().map(IpAddr::V6),
        }
    }

    fn port(&mut self) -> Option<u16> {
        self.atomically(|p| {
            p.given(b':')?;
            p.number(10, None, true)
        })
    }
}

#[cfg(test)]
#[path = "netaddr_tests.rs"]
mod tests;
