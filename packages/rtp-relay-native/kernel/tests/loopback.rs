//! Loads the real program on loopback and checks forwarding, counters and removal.
//! Needs root (CAP_BPF + CAP_NET_ADMIN); without it each test prints why it skipped.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use switchboard_rtp_kernel::{FlowAction, FlowKey, KernelError, KernelOptions, KernelPath};

fn open_lo() -> Option<KernelPath> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: kernel fast path tests need root");
        return None;
    }
    let opts = KernelOptions {
        interfaces: vec!["lo".into()],
        max_entries: 64,
    };
    match KernelPath::open(&opts) {
        Ok(k) => Some(k),
        Err(KernelError::Unsupported(why)) => {
            eprintln!("SKIPPED: {why}");
            None
        }
        Err(e) => panic!("open failed: {e}"),
    }
}

fn bind(host: &str) -> UdpSocket {
    let s = UdpSocket::bind(format!("{host}:0")).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

struct Quad {
    remote_a: UdpSocket,
    relay_a: UdpSocket,
    relay_b: UdpSocket,
    remote_b: UdpSocket,
}

fn quad(host: &str) -> Quad {
    Quad {
        remote_a: bind(host),
        relay_a: bind(host),
        relay_b: bind(host),
        remote_b: bind(host),
    }
}

fn addr(s: &UdpSocket) -> SocketAddr {
    s.local_addr().unwrap()
}

fn recv(s: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = [0u8; 2048];
    s.recv_from(&mut buf)
        .ok()
        .map(|(n, from)| (buf[..n].to_vec(), from))
}

fn forwards_between(host: &str) {
    let Some(kernel) = open_lo() else { return };
    assert!(
        kernel.mode_description().contains("ingress on lo"),
        "{}",
        kernel.mode_description()
    );
    let q = quad(host);
    let key = FlowKey {
        src: addr(&q.remote_a),
        dst: addr(&q.relay_a),
    };
    let action = FlowAction {
        src: addr(&q.relay_b),
        dst: addr(&q.remote_b),
    };
    kernel.install(&key, &action).unwrap();

    let payload = [0x80u8, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 9, 9, 9, 9];
    for _ in 0..5 {
        q.remote_a.send_to(&payload, addr(&q.relay_a)).unwrap();
        let (data, from) = recv(&q.remote_b).expect("forwarded by the kernel");
        assert_eq!(data, payload);
        assert_eq!(from, addr(&q.relay_b));
    }
    q.relay_a
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    assert!(
        recv(&q.relay_a).is_none(),
        "userspace socket saw a kernel-forwarded packet"
    );
    let c = kernel.counters(&key).unwrap();
    assert_eq!((c.packets, c.bytes), (5, 5 * payload.len() as u64));
    assert!(c.last_seen_ns > 0);

    // The reply direction is not installed: it reaches the relay socket.
    q.remote_b.send_to(b"back", addr(&q.relay_b)).unwrap();
    assert_eq!(recv(&q.relay_b).unwrap().0, b"back");

    kernel.remove(&key).unwrap();
    assert!(kernel.counters(&key).is_none());
    q.remote_a.send_to(b"after", addr(&q.relay_a)).unwrap();
    q.relay_a
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert_eq!(recv(&q.relay_a).unwrap().0, b"after");
    kernel.remove(&key).unwrap();
}

#[test]
fn ipv4_flow_is_rewritten_and_delivered_by_the_kernel() {
    forwards_between("127.0.0.1");
}

#[test]
fn ipv6_flow_is_rewritten_and_delivered_by_the_kernel() {
    forwards_between("[::1]");
}

#[test]
fn wildcard_destination_matches_any_local_address() {
    let Some(kernel) = open_lo() else { return };
    let q = quad("127.0.0.1");
    let port = addr(&q.relay_a).port();
    let key = FlowKey {
        src: addr(&q.remote_a),
        dst: format!("0.0.0.0:{port}").parse().unwrap(),
    };
    let action = FlowAction {
        src: format!("0.0.0.0:{}", addr(&q.relay_b).port())
            .parse()
            .unwrap(),
        dst: addr(&q.remote_b),
    };
    kernel.install(&key, &action).unwrap();
    q.remote_a.send_to(b"wild", addr(&q.relay_a)).unwrap();
    let (data, from) = recv(&q.remote_b).expect("forwarded");
    assert_eq!(data, b"wild");
    assert_eq!(from, addr(&q.relay_b));
    kernel.remove(&key).unwrap();
}

#[test]
fn a_full_map_reports_map_full() {
    let Some(kernel) = KernelPath::open(&KernelOptions {
        interfaces: vec!["lo".into()],
        max_entries: 2,
    })
    .ok() else {
        eprintln!("SKIPPED: cannot open the kernel path");
        return;
    };
    let action = FlowAction {
        src: "127.0.0.1:40000".parse().unwrap(),
        dst: "127.0.0.1:40001".parse().unwrap(),
    };
    for port in 1..=2u16 {
        let key = FlowKey {
            src: format!("127.0.0.1:{port}").parse().unwrap(),
            dst: "127.0.0.1:9".parse().unwrap(),
        };
        kernel.install(&key, &action).unwrap();
    }
    let key = FlowKey {
        src: "127.0.0.1:3".parse().unwrap(),
        dst: "127.0.0.1:9".parse().unwrap(),
    };
    assert!(matches!(
        kernel.install(&key, &action),
        Err(KernelError::MapFull)
    ));
}

#[test]
fn family_translation_is_refused() {
    let Some(kernel) = open_lo() else { return };
    let key = FlowKey {
        src: "127.0.0.1:5000".parse().unwrap(),
        dst: "127.0.0.1:5002".parse().unwrap(),
    };
    let action = FlowAction {
        src: "[::1]:5004".parse().unwrap(),
        dst: "[::1]:5006".parse().unwrap(),
    };
    assert!(matches!(
        kernel.install(&key, &action),
        Err(KernelError::Unsupported(_))
    ));
}
