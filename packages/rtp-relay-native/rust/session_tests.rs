//! Unit tests of the per-packet path and the kernel-entry decisions of `Session`.

use super::*;
use crate::latch::{LatchMode, SourceChange};
use crate::sys::{bind_udp, local_addr};

fn sock() -> Sock {
    let fd = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let local = local_addr(fd.as_raw_fd()).unwrap();
    Sock::new(Some(fd), local)
}

fn session(mux_a: bool) -> Session {
    let side = |mux: bool| {
        Side::new(
            sock(),
            if mux { None } else { Some(sock()) },
            Arc::new(SideShared::default()),
        )
    };
    let cfg = LatchConfig {
        mode: LatchMode::Immediate,
        strict_source: false,
        source_change: SourceChange::Relearn,
        learn_window_ns: 0,
    };
    Session::new(1, [side(mux_a), side(false)], cfg, 1_000_000_000, &[], 0)
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut v = vec![0x80, 0, (seq >> 8) as u8, seq as u8, 0, 0, 0, 0, 0, 0, 0, 1];
    v.extend_from_slice(&[0; 160]);
    v
}

struct Out {
    events: Vec<Event>,
    kernel: Vec<KernelOp>,
}

impl Out {
    fn new() -> Out {
        Out {
            events: Vec::new(),
            kernel: Vec::new(),
        }
    }
    fn ctx(&mut self) -> Ctx<'_> {
        Ctx {
            now_ns: 1,
            events: &mut self.events,
            kernel: &mut self.kernel,
            kernel_enabled: true,
        }
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn kernel_entries_appear_once_both_sides_are_latched_keyed_by_the_arriving_packet() {
    let mut s = session(false);
    let mut out = Out::new();
    s.on_datagram(
        0,
        false,
        &rtp(1),
        addr("127.0.0.1:4000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    assert!(out.kernel.is_empty(), "one side latched is not enough");
    s.on_datagram(
        1,
        false,
        &rtp(1),
        addr("127.0.0.1:5000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    let [KernelOp::Install(flows)] = &out.kernel[..] else {
        panic!("expected one install")
    };
    assert_eq!(flows.len(), 2, "RTCP sockets are not latched yet");
    let (a_local, b_local) = (s.sides[0].rtp.local, s.sides[1].rtp.local);
    assert_eq!(flows[0].key, (addr("127.0.0.1:4000"), a_local));
    assert_eq!(flows[0].action, (b_local, addr("127.0.0.1:5000")));
    assert_eq!(flows[1].key, (addr("127.0.0.1:5000"), b_local));
    assert_eq!(flows[1].action, (a_local, addr("127.0.0.1:4000")));
    assert_eq!(out.events.len(), 2);
}

#[test]
fn a_source_change_removes_the_old_entries_before_installing_new_ones() {
    let mut s = session(false);
    let mut out = Out::new();
    s.on_datagram(
        0,
        false,
        &rtp(1),
        addr("127.0.0.1:4000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    s.on_datagram(
        1,
        false,
        &rtp(1),
        addr("127.0.0.1:5000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    out.kernel.clear();
    s.on_datagram(
        0,
        false,
        &rtp(2),
        addr("127.0.0.1:4100"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    let [KernelOp::Remove(old), KernelOp::Install(new)] = &out.kernel[..] else {
        panic!("expected remove then install")
    };
    assert!(old.iter().any(|k| k.0 == addr("127.0.0.1:4000")));
    assert!(new.iter().any(|f| f.key.0 == addr("127.0.0.1:4100")));
    assert!(matches!(
        out.events.last(),
        Some(Event::SourceChanged { .. })
    ));
}

#[test]
fn no_kernel_entry_bridges_a_muxed_side_to_a_non_muxed_side() {
    let mut s = session(true);
    let mut out = Out::new();
    s.on_datagram(
        0,
        false,
        &rtp(1),
        addr("127.0.0.1:4000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    s.on_datagram(
        1,
        false,
        &rtp(1),
        addr("127.0.0.1:5000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    assert!(out.kernel.is_empty(), "RTCP demultiplexing needs userspace");
}

#[test]
fn a_new_remote_address_drops_the_kernel_entries() {
    let mut s = session(false);
    let mut out = Out::new();
    s.on_datagram(
        0,
        false,
        &rtp(1),
        addr("127.0.0.1:4000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    s.on_datagram(
        1,
        false,
        &rtp(1),
        addr("127.0.0.1:5000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    out.kernel.clear();
    let spec = RemoteSpec {
        rtp: addr("127.0.0.1:6000"),
        rtcp: None,
        rtcp_mux: false,
    };
    s.set_remote(0, &spec, &mut out.ctx());
    assert!(matches!(&out.kernel[..], [KernelOp::Remove(k)] if k.len() == 2));
    assert!(s.take_kernel_keys().is_empty());
}

#[test]
fn oversized_and_foreign_packets_are_counted_not_forwarded() {
    let mut s = session(false);
    let mut out = Out::new();
    s.on_datagram(
        0,
        false,
        &rtp(1),
        addr("127.0.0.1:4000"),
        true,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    s.on_datagram(
        0,
        false,
        b"junk",
        addr("127.0.0.1:4000"),
        false,
        &mut out.ctx(),
        &mut SocketEgress,
    );
    let snap = s.sides[0].shared.snapshot();
    assert_eq!(snap.dropped[DropReason::Oversize as usize], 1);
    assert_eq!(snap.dropped[DropReason::Garbage as usize], 1);
    assert_eq!(snap.packets_in, 0);
    assert!(out.events.is_empty(), "bad packets never latch");
}

#[test]
fn the_timeout_fires_once_per_silence() {
    let mut s = session(false);
    let mut ev = Vec::new();
    s.check_timeout(500_000_000, &mut ev);
    assert!(ev.is_empty());
    s.check_timeout(1_500_000_000, &mut ev);
    s.check_timeout(2_500_000_000, &mut ev);
    assert_eq!(
        ev,
        vec![Event::Timeout {
            session: 1,
            idle_ms: 1500
        }]
    );
    s.sides[0]
        .shared
        .last_packet_ns
        .store(3_000_000_000, Relaxed);
    s.check_timeout(3_100_000_000, &mut ev);
    s.check_timeout(4_100_000_000, &mut ev);
    assert_eq!(ev.len(), 2, "re-armed by media");
}

/// An egress that queues everything, as shared port mode does.
struct Queue(Vec<(SocketAddr, SocketAddr, usize, u32, u8)>);

impl Egress for Queue {
    fn send(
        &mut self,
        from: &mut Sock,
        dst: SocketAddr,
        buf: &[u8],
        session: u32,
        side: u8,
    ) -> Option<bool> {
        self.0.push((from.local, dst, buf.len(), session, side));
        None
    }
}

#[test]
fn a_queued_send_is_accounted_when_flushed_and_a_failed_one_counts_as_a_send_error() {
    let mut s = session(false);
    s.slot = 7;
    let mut out = Out::new();
    let mut q = Queue(Vec::new());
    s.set_remote(
        1,
        &RemoteSpec {
            rtp: addr("127.0.0.1:5000"),
            rtcp: None,
            rtcp_mux: false,
        },
        &mut out.ctx(),
    );
    let pkt = rtp(1);
    s.on_datagram(
        0,
        false,
        &pkt,
        addr("127.0.0.1:4000"),
        false,
        &mut out.ctx(),
        &mut q,
    );
    s.on_datagram(
        0,
        false,
        &rtp(2),
        addr("127.0.0.1:4000"),
        false,
        &mut out.ctx(),
        &mut q,
    );
    let b_local = s.sides[1].rtp.local;
    assert_eq!(q.0[0], (b_local, addr("127.0.0.1:5000"), pkt.len(), 7, 0));
    assert_eq!(
        s.sides[1].shared.snapshot().packets_out,
        0,
        "nothing counted while queued"
    );
    s.account_send(0, pkt.len(), true);
    s.account_send(0, pkt.len(), false);
    let (a, b) = (s.sides[0].shared.snapshot(), s.sides[1].shared.snapshot());
    assert_eq!((b.packets_out, b.bytes_out), (1, pkt.len() as u64));
    assert_eq!(a.dropped[DropReason::SendError as usize], 1);
    assert_eq!(a.packets_in, 2);
}

#[test]
fn a_wildcard_port_sends_from_the_address_its_remote_reached() {
    let shared = Arc::new(SideShared::default());
    let any = Sock::new(None, addr("0.0.0.0:30000"));
    let mut side = Side::new(any, None, shared);
    side.note_local(false, "127.0.0.5".parse().unwrap());
    assert_eq!(side.rtp.src_ip, "127.0.0.5".parse::<IpAddr>().unwrap());
    let mut fixed = Side::new(
        Sock::new(None, addr("127.0.0.1:30002")),
        None,
        Arc::new(SideShared::default()),
    );
    fixed.note_local(false, "127.0.0.5".parse().unwrap());
    assert_eq!(
        fixed.rtp.src_ip,
        "127.0.0.1".parse::<IpAddr>().unwrap(),
        "a fixed address stays"
    );
}
