//! Shared port mode end to end on loopback: sk_lookup steers packets to the workers'
//! shared sockets and raw sends leave from relay ports nothing is bound to. Skips (with a
//! message) where the build, privileges or kernel do not allow shared mode.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
use switchboard_rtp_relay::config::{
    LocalAddress, PortModeOption, RelayConfig, RemoteSpec, SessionOptions,
};
use switchboard_rtp_relay::latch::LatchMode;
use switchboard_rtp_relay::relay::Relay;
use switchboard_rtp_relay::sys::{bind_udp, local_addr, send_to, RecvBatch};

// Port range of this file: 26000–26199 (below the ephemeral range): 26000–26099 and
// 26100–26199 per test.
fn relay(min: u16, ips: &[&str]) -> Option<Relay> {
    let mut cfg = RelayConfig {
        addresses: ips
            .iter()
            .map(|ip| LocalAddress {
                ip: ip.parse().unwrap(),
                advertised: None,
            })
            .collect(),
        port_min: min,
        port_max: min + 99,
        threads: 2,
        port_mode: PortModeOption::Shared,
        ..RelayConfig::default()
    };
    cfg.kernel.enabled = false;
    match Relay::start(cfg, Box::new(|_| {})) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("SKIPPED: shared port mode unavailable here: {e}");
            None
        }
    }
}

fn recv_one(fd: i32) -> Option<(Vec<u8>, SocketAddr)> {
    let mut b = RecvBatch::new(2048);
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        if b.recv(fd).ok()? > 0 {
            let (d, src, _) = b.get(0);
            return Some((d.to_vec(), src?));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn rtp(seq: u8) -> Vec<u8> {
    let mut v = vec![0x80, 0, 0, seq, 0, 0, 0, 0, 0, 0, 0, 1];
    v.extend_from_slice(&[0xd5; 160]);
    v
}

#[test]
fn shared_mode_relays_both_ways_over_ipv4_and_ipv6_without_a_socket_per_port() {
    let Some(r) = relay(26000, &["127.0.0.1", "::1"]) else {
        return;
    };
    assert!(r.port_mode().shared, "{}", r.port_mode().reason);
    for (ip, idx) in [("127.0.0.1", 0usize), ("::1", 1)] {
        let ip: IpAddr = ip.parse().unwrap();
        let pa = bind_udp(SocketAddr::new(ip, 0)).unwrap();
        let pb = bind_udp(SocketAddr::new(ip, 0)).unwrap();
        let (a_addr, b_addr) = (
            local_addr(pa.as_raw_fd()).unwrap(),
            local_addr(pb.as_raw_fd()).unwrap(),
        );
        let mut opts = SessionOptions::new(3000);
        opts.latch.mode = LatchMode::Off;
        opts.sides[0].address_index = idx;
        opts.sides[1].address_index = idx;
        let s = r.create_session(&opts).unwrap();
        let remote = |a| RemoteSpec {
            rtp: a,
            rtcp: None,
            rtcp_mux: false,
        };
        r.set_remote(s.id, 0, remote(a_addr)).unwrap();
        r.set_remote(s.id, 1, remote(b_addr)).unwrap();
        let (ra, rb) = (
            SocketAddr::new(ip, s.sides[0].rtp_port),
            SocketAddr::new(ip, s.sides[1].rtp_port),
        );
        assert!(bind_udp(ra).is_ok(), "nothing holds the relay port {ra}");
        send_to(pa.as_raw_fd(), &rtp(1), &ra).unwrap();
        let (data, from) = recv_one(pb.as_raw_fd()).expect("B got A's packet");
        assert_eq!((data, from), (rtp(1), rb));
        send_to(pb.as_raw_fd(), &rtp(2), &rb).unwrap();
        let (data, from) = recv_one(pa.as_raw_fd()).expect("A got B's packet");
        assert_eq!((data, from), (rtp(2), ra));
        let st = r.stats(s.id).unwrap();
        assert_eq!((st.sides[0].packets_in, st.sides[1].packets_out), (1, 1));
        assert!(r.close_session(s.id).unwrap());
    }
    let before = r.info().unused_port_drops;
    let tx = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    send_to(tx.as_raw_fd(), &rtp(3), &"127.0.0.1:26050".parse().unwrap()).unwrap();
    assert_eq!(
        r.info().unused_port_drops,
        before + 1,
        "a packet to an unused port is counted"
    );
    r.shutdown();
}

#[test]
fn claims_are_stores_into_the_mapped_port_map_and_none_outlives_its_session() {
    let Some(r) = relay(26100, &["127.0.0.1"]) else {
        return;
    };
    assert_eq!(r.claims_mapped(), Some(true), "sb_ports is memory-mapped");
    let opts = SessionOptions::new(3000);
    let s = r.create_session(&opts).unwrap();
    assert_eq!(r.claimed_ports(), Some(4), "RTP and RTCP of both sides");
    assert!(r.close_session(s.id).unwrap());
    // 2,000 create/close cycles over a 50-pair range: every pair is reused many times.
    for round in 0..100 {
        r.info(); // the closes queued so far are done: their ports are released
        let ids: Vec<u32> = (0..20)
            .map(|_| r.create_session(&opts).unwrap().id)
            .collect();
        assert_eq!(r.claimed_ports(), Some(80), "round {round}");
        for id in ids {
            assert!(r.close_session(id).unwrap());
        }
    }
    let info = r.info(); // waits for the queued closes
    assert_eq!(
        (info.ports_free, info.ports_total),
        (50, 50),
        "no port leaked"
    );
    assert_eq!(r.claimed_ports(), Some(0), "no map entry leaked");
    r.shutdown();
}
