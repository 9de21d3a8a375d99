//! Forwarding between two network namespaces ("hosts" A and B) joined to this namespace by
//! veth pairs, the way a relay box sits between two networks. Needs root; skips otherwise.
//! Addresses come from the benchmarking ranges (198.18.0.0/15, 2001:2::/48).

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

use switchboard_rtp_kernel::{FlowAction, FlowKey, KernelError, KernelOptions, KernelPath};

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces with one veth each; removed on drop, also when a test fails.
struct Hosts {
    tag: String,
    a: String,
    b: String,
    idx: u32,
}

impl Hosts {
    fn new(tag: &str) -> Hosts {
        let pid = std::process::id();
        // Every test of this file has its own tag, hence its own pair of /30s.
        const TAGS: [&str; 8] = ["4", "66", "auto", "x6", "lo", "gw", "c4", "c6"];
        let n = TAGS
            .iter()
            .position(|t| *t == tag)
            .expect("tag listed in TAGS") as u32;
        let idx = (pid * TAGS.len() as u32 + n) % 8192; // 198.18.0.0/16 (198.19.0.0/17 for "far" hosts)
        let h = Hosts {
            tag: tag.into(),
            a: format!("sbk-a-{pid}-{tag}"),
            b: format!("sbk-b-{pid}-{tag}"),
            idx,
        };
        h.cleanup();
        for (ns, side) in [(&h.a, 0u32), (&h.b, 1u32)] {
            let root_if = h.root_if(side);
            ip(&["netns", "add", ns]);
            ip(&[
                "link", "add", &root_if, "type", "veth", "peer", "name", "eth0", "netns", ns,
            ]);
            ip(&[
                "addr",
                "add",
                &format!("{}/30", h.v4(side, 1)),
                "dev",
                &root_if,
            ]);
            ip(&[
                "-6",
                "addr",
                "add",
                &format!("{}/64", h.v6(side, 1)),
                "dev",
                &root_if,
                "nodad",
            ]);
            ip(&["link", "set", &root_if, "up"]);
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{}/30", h.v4(side, 2)),
                "dev",
                "eth0",
            ]);
            ip(&[
                "-n",
                ns,
                "-6",
                "addr",
                "add",
                &format!("{}/64", h.v6(side, 2)),
                "dev",
                "eth0",
                "nodad",
            ]);
            ip(&["-n", ns, "link", "set", "eth0", "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        h
    }

    /// Checksums computed in software and verified on receipt (no offload on any veth end):
    /// packets then carry a full UDP checksum instead of CHECKSUM_PARTIAL's pseudo-header sum.
    fn without_offloads(&self) {
        for side in [0, 1] {
            let ns = if side == 0 { &self.a } else { &self.b };
            let root_if = self.root_if(side);
            for args in [
                vec!["ethtool", "-K", &root_if, "tx", "off", "rx", "off"],
                vec![
                    "ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off", "rx", "off",
                ],
            ] {
                let out = Command::new(args[0])
                    .args(&args[1..])
                    .output()
                    .expect("run ethtool");
                assert!(
                    out.status.success(),
                    "{}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    fn root_if(&self, side: u32) -> String {
        format!(
            "sbk{}{}{}",
            if side == 0 { "a" } else { "b" },
            self.idx,
            &self.tag[..1]
        )
    }

    fn v4(&self, side: u32, host: u32) -> IpAddr {
        let n = (198u32 << 24) | (18 << 16) | (self.idx * 8 + side * 4 + host);
        IpAddr::from(n.to_be_bytes())
    }

    fn v6(&self, side: u32, host: u16) -> IpAddr {
        let net = (self.idx * 2 + side) as u16;
        IpAddr::from([0x2001, 2, 0, net, 0, 0, 0, host])
    }

    fn cleanup(&self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// A UDP socket created inside namespace `ns` (it stays there when used from this thread).
fn socket_in(ns: &str, addr: IpAddr) -> UdpSocket {
    let path = format!("/var/run/netns/{ns}");
    let sock = std::thread::scope(|s| {
        s.spawn(|| {
            let f = std::fs::File::open(&path).expect("open netns");
            // SAFETY: setns on this helper thread only; the fd is valid.
            let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {ns}");
            UdpSocket::bind(SocketAddr::new(addr, 0)).expect("bind in netns")
        })
        .join()
        .expect("netns thread")
    });
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    sock
}

fn recv(s: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = [0u8; 2048];
    s.recv_from(&mut buf)
        .ok()
        .map(|(n, from)| (buf[..n].to_vec(), from))
}

/// Opens the kernel path, or None (with the reason printed) when this build has no BPF object.
fn open(interfaces: Vec<String>, max_entries: u32) -> Option<KernelPath> {
    match KernelPath::open(&KernelOptions {
        interfaces,
        max_entries,
    }) {
        Ok(k) => Some(k),
        Err(KernelError::Unsupported(why)) => {
            eprintln!("SKIPPED: {why}");
            None
        }
        Err(e) => panic!("open: {e}"),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("SKIPPED: network namespace tests need root");
    }
    root
}

fn forwards_between_namespaces(v6: bool, auto: bool) {
    forwards(v6, auto, false);
}

fn forwards(v6: bool, auto: bool, software_checksums: bool) {
    if !is_root() {
        return;
    }
    let tag = match (v6, auto, software_checksums) {
        (false, _, true) => "c4",
        (true, _, true) => "c6",
        (false, false, _) => "4",
        (true, false, _) => "66",
        (false, true, _) => "auto",
        _ => "x6",
    };
    let h = Hosts::new(tag);
    if software_checksums {
        h.without_offloads();
    }
    let addr = |side, host| {
        if v6 {
            h.v6(side, host)
        } else {
            h.v4(side, host as u32)
        }
    };
    let interfaces = if auto {
        vec![]
    } else {
        vec![h.root_if(0), h.root_if(1)]
    };
    let Some(kernel) = open(interfaces, 16) else {
        return;
    };
    let remote_a = socket_in(&h.a, addr(0, 2));
    let remote_b = socket_in(&h.b, addr(1, 2));
    let relay_a = UdpSocket::bind(SocketAddr::new(addr(0, 1), 0)).unwrap();
    let relay_b = UdpSocket::bind(SocketAddr::new(addr(1, 1), 0)).unwrap();
    relay_a
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let la = |s: &UdpSocket| s.local_addr().unwrap();

    let key = FlowKey {
        src: la(&remote_a),
        dst: la(&relay_a),
    };
    kernel
        .install(
            &key,
            &FlowAction {
                src: la(&relay_b),
                dst: la(&remote_b),
            },
        )
        .expect("install");
    assert!(
        kernel.mode_description().contains(&h.root_if(0)),
        "{}",
        kernel.mode_description()
    );

    for i in 0..20u8 {
        remote_a
            .send_to(&[0x80, 0, 0, i, 7, 7, 7, 7], la(&relay_a))
            .unwrap();
        let got = recv(&remote_b);
        let (data, from) = got.expect("packet forwarded to B");
        assert_eq!(data, [0x80, 0, 0, i, 7, 7, 7, 7]);
        assert_eq!(
            from,
            la(&relay_b),
            "source rewritten to the relay's B-side socket"
        );
    }
    relay_a
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    assert!(
        recv(&relay_a).is_none(),
        "the relay socket saw a kernel-forwarded packet"
    );
    assert_eq!(kernel.counters(&key).unwrap().packets, 20);

    kernel.remove(&key).unwrap();
    remote_a.send_to(b"to userspace", la(&relay_a)).unwrap();
    relay_a
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert_eq!(
        recv(&relay_a)
            .expect("after removal the relay socket gets it")
            .0,
        b"to userspace"
    );
}

#[test]
fn ipv4_packets_cross_between_namespaces_without_userspace() {
    forwards_between_namespaces(false, false);
}

#[test]
fn ipv6_packets_cross_between_namespaces_without_userspace() {
    forwards_between_namespaces(true, false);
}

#[test]
fn full_ipv4_udp_checksums_stay_valid_after_the_rewrite() {
    forwards(false, false, true);
}

#[test]
fn full_ipv6_udp_checksums_stay_valid_after_the_rewrite() {
    forwards(true, false, true);
}

#[test]
fn automatic_mode_attaches_to_the_interface_a_flow_arrives_on() {
    forwards_between_namespaces(false, true);
}

#[test]
fn a_flow_from_another_host_to_a_local_endpoint_is_left_to_userspace() {
    if !is_root() {
        return;
    }
    let h = Hosts::new("lo");
    let Some(kernel) = open(vec![h.root_if(0), "lo".into()], 16) else {
        return;
    };
    let key = FlowKey {
        src: SocketAddr::new(h.v4(0, 2), 5000),
        dst: SocketAddr::new(h.v4(0, 1), 30000),
    };
    for local in [
        SocketAddr::new(h.v4(1, 1), 40002),
        "127.0.0.1:40002".parse().unwrap(),
    ] {
        let action = FlowAction {
            src: SocketAddr::new(local.ip(), 40000),
            dst: local,
        };
        assert!(
            matches!(
                kernel.install(&key, &action),
                Err(KernelError::Unsupported(_))
            ),
            "{local}"
        );
    }
    assert!(kernel.counters(&key).is_none());
}

#[test]
fn a_remote_behind_a_gateway_is_reached_through_that_gateway() {
    if !is_root() {
        return;
    }
    let h = Hosts::new("gw");
    // B also answers for 198.19.<idx/64>.<idx%64*4+1>, which this namespace routes via B's link address.
    let far = IpAddr::from([198, 19, (h.idx / 64) as u8, ((h.idx % 64) * 4 + 1) as u8]);
    ip(&["-n", &h.b, "addr", "add", &format!("{far}/32"), "dev", "lo"]);
    ip(&[
        "route",
        "add",
        &format!("{far}/32"),
        "via",
        &h.v4(1, 2).to_string(),
    ]);
    struct Route(String);
    impl Drop for Route {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["route", "del", &self.0]).output();
        }
    }
    let _route = Route(format!("{far}/32"));
    let Some(kernel) = open(vec![h.root_if(0), h.root_if(1)], 4) else {
        return;
    };
    let remote_a = socket_in(&h.a, h.v4(0, 2));
    let remote_far = socket_in(&h.b, far);
    let relay_a = UdpSocket::bind(SocketAddr::new(h.v4(0, 1), 0)).unwrap();
    let relay_b = UdpSocket::bind(SocketAddr::new(h.v4(1, 1), 0)).unwrap();
    let la = |s: &UdpSocket| s.local_addr().unwrap();
    let key = FlowKey {
        src: la(&remote_a),
        dst: la(&relay_a),
    };
    kernel
        .install(
            &key,
            &FlowAction {
                src: la(&relay_b),
                dst: la(&remote_far),
            },
        )
        .expect("install");
    for i in 0..5u8 {
        remote_a.send_to(&[0x80, i], la(&relay_a)).unwrap();
        let (data, from) = recv(&remote_far).expect("forwarded via the gateway");
        assert_eq!((data, from), (vec![0x80, i], la(&relay_b)));
    }
    assert_eq!(kernel.counters(&key).unwrap().packets, 5);
}
