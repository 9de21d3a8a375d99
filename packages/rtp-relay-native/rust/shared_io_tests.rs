//! Unit tests of shared port mode's socket I/O: checksums, hand-written headers, the
//! original destination of a datagram, and (when privileged) raw sends on loopback.

use super::*;
use crate::sys::{bind_udp, local_addr, send_to, RecvBatch};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// RFC 1071 reference: 16-bit words, end-around carry.
fn reference_sum(data: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in data.chunks(2) {
        s += (u32::from(c[0]) << 8) | u32::from(*c.get(1).unwrap_or(&0));
    }
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

#[test]
fn checksum_matches_the_rfc_1071_reference_for_every_tail_length() {
    let data: Vec<u8> = (0..203u32).map(|i| (i * 37 + 11) as u8).collect();
    for len in [0, 1, 2, 3, 4, 5, 171, 172, 203] {
        assert_eq!(
            csum_fold(csum_add(0, &data[..len])),
            reference_sum(&data[..len]),
            "len {len}"
        );
    }
}

/// Checks a packet the way a receiver does: the sum over pseudo-header + UDP is 0xffff.
fn verify_udp(pkt: &[u8], v6: bool) -> bool {
    let (ip_len, src, dst) = if v6 {
        (40, &pkt[8..24], &pkt[24..40])
    } else {
        (20, &pkt[12..16], &pkt[16..20])
    };
    let udp = &pkt[ip_len..];
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(src);
    pseudo.extend_from_slice(dst);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(udp.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(udp);
    reference_sum(&pseudo) == 0xffff
}

#[test]
fn ipv4_and_ipv6_headers_carry_addresses_ports_lengths_and_a_valid_checksum() {
    for (src, dst, v6) in [
        (addr("127.0.0.2:30000"), addr("192.0.2.9:4000"), false),
        (
            addr("[2001:db8::1]:30002"),
            addr("[2001:db8::9]:5004"),
            true,
        ),
    ] {
        let payload = [0x80u8, 0, 0, 1, 9, 9, 9];
        let mut pkt = vec![0u8; 48 + payload.len()];
        let hl = hdr_len(dst);
        pkt[hl..hl + payload.len()].copy_from_slice(&payload);
        let len = write_headers(&mut pkt, src, dst, payload.len());
        assert_eq!(len, hl + payload.len());
        let pkt = &pkt[..len];
        let udp = &pkt[hl - 8..];
        assert_eq!(u16::from_be_bytes([udp[0], udp[1]]), src.port());
        assert_eq!(u16::from_be_bytes([udp[2], udp[3]]), dst.port());
        assert_eq!(
            u16::from_be_bytes([udp[4], udp[5]]) as usize,
            8 + payload.len()
        );
        assert_ne!(&udp[6..8], &[0, 0], "checksum always computed");
        assert!(verify_udp(pkt, v6), "checksum verifies ({src} -> {dst})");
        assert_eq!(&udp[8..], &payload);
        if v6 {
            assert_eq!((pkt[0] >> 4, pkt[6], pkt[7]), (6, 17, 64));
        } else {
            assert_eq!((pkt[0], pkt[9], pkt[8]), (0x45, 17, 64));
            assert_eq!(u16::from_be_bytes([pkt[2], pkt[3]]) as usize, len);
        }
    }
    let mut pkt = [0u8; 64];
    assert_eq!(
        write_headers(&mut pkt, addr("127.0.0.1:1"), addr("[::1]:2"), 4),
        0,
        "mixed families refused"
    );
}

#[test]
fn the_original_destination_of_a_datagram_is_reported() {
    let rx = shared_udp_socket(false).unwrap();
    let port = local_addr(rx.as_raw_fd()).unwrap().port();
    let tx = bind_udp(addr("127.0.0.1:0")).unwrap();
    let dst = SocketAddr::new("127.0.0.1".parse().unwrap(), port);
    send_to(tx.as_raw_fd(), b"x", &dst).unwrap();
    let mut b = RecvBatch::with_control(64);
    assert_eq!(b.recv(rx.as_raw_fd()).unwrap(), 1);
    assert_eq!(orig_dst(b.header(0)), Some(dst));
    let plain = RecvBatch::new(64);
    assert_eq!(
        orig_dst(plain.header(0)),
        None,
        "no control buffer, no destination"
    );
}

#[test]
fn raw_sends_arrive_from_a_port_nothing_is_bound_to() {
    let Ok(tx) = raw_socket(false) else {
        eprintln!("skipped: raw sockets need CAP_NET_RAW");
        return;
    };
    let rx = bind_udp(addr("127.0.0.1:0")).unwrap();
    let dst = local_addr(rx.as_raw_fd()).unwrap();
    let mut sender = RawSender {
        v4: Some(RawQueue::new(tx, 256)),
        v6: None,
    };
    let mut from = Sock::new(None, addr("127.0.0.1:9"));
    from.local = addr("0.0.0.0:29998"); // wildcard: the route's source is used
    from.src_ip = from.local.ip();
    assert_eq!(sender.send(&mut from, dst, b"hello", 3, 1), None, "queued");
    assert_eq!(from.src_ip, "127.0.0.1".parse::<IpAddr>().unwrap());
    let mut done = Vec::new();
    sender.flush(|s, side, len, ok| done.push((s, side, len, ok)));
    assert_eq!(done, vec![(3, 1, 5, true)]);
    let mut b = RecvBatch::new(64);
    assert_eq!(b.recv(rx.as_raw_fd()).unwrap(), 1);
    let (data, src, _) = b.get(0);
    assert_eq!((data, src), (&b"hello"[..], Some(addr("127.0.0.1:29998"))));
}
