//! Map key and value layouts shared with bpf/relay.bpf.c (`struct flow_key`, `struct flow_value`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `flags` bit: the destination is this host; the packet is delivered through the stack.
pub const FLOW_LOCAL: u32 = 1;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RawKey {
    /// Network byte order words; IPv4 uses word 0.
    pub src: [u32; 4],
    /// All zero = wildcard destination (socket bound to the unspecified address).
    pub dst: [u32; 4],
    /// Network byte order.
    pub sport: u16,
    pub dport: u16,
    pub family: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawValue {
    pub src: [u32; 4],
    pub dst: [u32; 4],
    pub sport: u16,
    pub dport: u16,
    pub ifindex: u32,
    pub flags: u32,
    /// Index into the counters array.
    pub slot: u32,
    /// `struct bpf_redir_neigh`: AF_INET / AF_INET6 next hop, or family 0 (kernel looks it up).
    pub nh_family: u32,
    pub nh: [u32; 4],
}

/// One element of the mmapped counters array (`struct flow_counters`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawCounters {
    pub packets: u64,
    pub bytes: u64,
    pub last_seen_ns: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawConfig {
    pub wildcard_entries: u32,
    pub pad: u32,
}

// SAFETY: plain-old-data without padding holes (explicit `pad` fields are always written).
unsafe impl aya::Pod for RawKey {}
unsafe impl aya::Pod for RawValue {}
unsafe impl aya::Pod for RawConfig {}

/// IPv4-mapped IPv6 addresses (from dual-stack sockets) are treated as IPv4,
/// since that is what travels on the wire.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        v4 => v4,
    }
}

fn family(addr: &SocketAddr) -> u32 {
    if addr.is_ipv4() {
        4
    } else {
        6
    }
}

/// Address as network-order words, as the BPF program reads them straight from the packet.
pub fn ip_words(ip: IpAddr) -> [u32; 4] {
    let mut words = [0u32; 4];
    match ip {
        IpAddr::V4(v4) => words[0] = u32::from_ne_bytes(v4.octets()),
        IpAddr::V6(v6) => {
            let o = v6.octets();
            for (i, w) in words.iter_mut().enumerate() {
                *w = u32::from_ne_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]);
            }
        }
    }
    words
}

#[allow(dead_code)]
pub fn words_ip(words: [u32; 4], family: u32) -> IpAddr {
    if family == 4 {
        IpAddr::V4(Ipv4Addr::from(words[0].to_ne_bytes()))
    } else {
        let mut o = [0u8; 16];
        for (i, w) in words.iter().enumerate() {
            o[4 * i..4 * i + 4].copy_from_slice(&w.to_ne_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(o))
    }
}

fn port_be(port: u16) -> u16 {
    u16::from_ne_bytes(port.to_be_bytes())
}

#[allow(dead_code)]
pub fn port_host(raw: u16) -> u16 {
    u16::from_be_bytes(raw.to_ne_bytes())
}

/// Key for a packet from `src` (latched remote) to `dst` (our relay socket).
/// Both must already be canonical and of the same family.
pub fn encode_key(src: SocketAddr, dst: SocketAddr) -> RawKey {
    RawKey {
        src: ip_words(src.ip()),
        dst: if dst.ip().is_unspecified() {
            [0; 4]
        } else {
            ip_words(dst.ip())
        },
        sport: port_be(src.port()),
        dport: port_be(dst.port()),
        family: family(&src),
    }
}

#[allow(dead_code)]
pub fn decode_key(key: &RawKey) -> (SocketAddr, SocketAddr) {
    (
        SocketAddr::new(words_ip(key.src, key.family), port_host(key.sport)),
        SocketAddr::new(words_ip(key.dst, key.family), port_host(key.dport)),
    )
}

/// Value rewriting the packet to `src` (our other-side socket) -> `dst` (other side's remote).
pub fn encode_action(
    src: SocketAddr,
    dst: SocketAddr,
    ifindex: u32,
    flags: u32,
    next_hop: Option<IpAddr>,
) -> RawValue {
    let (nh_family, nh) = match next_hop {
        Some(ip @ IpAddr::V4(_)) => (libc::AF_INET as u32, ip_words(ip)),
        Some(ip @ IpAddr::V6(_)) => (libc::AF_INET6 as u32, ip_words(ip)),
        None => (0, [0; 4]),
    };
    RawValue {
        src: ip_words(src.ip()),
        dst: ip_words(dst.ip()),
        sport: port_be(src.port()),
        dport: port_be(dst.port()),
        ifindex,
        flags,
        slot: 0,
        nh_family,
        nh,
    }
}

pub fn is_wildcard(key: &RawKey) -> bool {
    key.dst == [0; 4]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn layouts_match_the_c_structs() {
        assert_eq!(std::mem::size_of::<RawKey>(), 40);
        assert_eq!(std::mem::size_of::<RawValue>(), 68);
        assert_eq!(std::mem::offset_of!(RawValue, slot), 44);
        assert_eq!(std::mem::offset_of!(RawValue, nh), 52);
        assert_eq!(std::mem::size_of::<RawCounters>(), 24);
        assert_eq!(std::mem::size_of::<RawConfig>(), 8);
    }

    #[test]
    fn ipv4_key_holds_wire_order_bytes() {
        let k = encode_key(sa("192.0.2.10:4000"), sa("198.51.100.1:30000"));
        assert_eq!(k.family, 4);
        assert_eq!(k.src[0].to_ne_bytes(), [192, 0, 2, 10]);
        assert_eq!(&k.src[1..], &[0, 0, 0]);
        assert_eq!(k.dst[0].to_ne_bytes(), [198, 51, 100, 1]);
        assert_eq!(k.sport.to_ne_bytes(), [0x0f, 0xa0]);
        assert_eq!(k.dport.to_ne_bytes(), [0x75, 0x30]);
    }

    #[test]
    fn ipv6_key_round_trips() {
        let src = sa("[2001:db8::1]:5004");
        let dst = sa("[2001:db8::ff]:30002");
        let k = encode_key(src, dst);
        assert_eq!(k.family, 6);
        assert_eq!(k.src[0].to_ne_bytes(), [0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!(decode_key(&k), (src, dst));
    }

    #[test]
    fn unspecified_destination_becomes_a_wildcard_key() {
        let k = encode_key(sa("192.0.2.10:4000"), sa("0.0.0.0:30000"));
        assert!(is_wildcard(&k));
        assert!(!is_wildcard(&encode_key(
            sa("192.0.2.10:4000"),
            sa("127.0.0.1:1")
        )));
    }

    #[test]
    fn mapped_ipv6_is_canonicalised_to_ipv4() {
        assert_eq!(canonical(sa("[::ffff:192.0.2.7]:9")), sa("192.0.2.7:9"));
        assert_eq!(canonical(sa("[2001:db8::7]:9")), sa("[2001:db8::7]:9"));
    }

    #[test]
    fn action_carries_rewrite_and_egress() {
        let v = encode_action(
            sa("203.0.113.1:30010"),
            sa("192.0.2.20:6000"),
            7,
            FLOW_LOCAL,
            None,
        );
        assert_eq!(v.src[0].to_ne_bytes(), [203, 0, 113, 1]);
        assert_eq!(v.dst[0].to_ne_bytes(), [192, 0, 2, 20]);
        assert_eq!(port_host(v.sport), 30010);
        assert_eq!(port_host(v.dport), 6000);
        assert_eq!(
            (v.ifindex, v.flags, v.slot, v.nh_family),
            (7, FLOW_LOCAL, 0, 0)
        );
        let gw = encode_action(
            sa("[2001:db8::1]:1"),
            sa("[2001:db8::2]:2"),
            3,
            0,
            Some("fe80::1".parse().unwrap()),
        );
        assert_eq!(gw.nh_family, libc::AF_INET6 as u32);
        assert_eq!(gw.nh[0].to_ne_bytes(), [0xfe, 0x80, 0, 0]);
    }
}
