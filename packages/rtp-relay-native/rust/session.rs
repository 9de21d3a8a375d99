//! A session as its worker owns it: two sides, their sockets and latches, and the
//! per-packet path (classify → latch → stats → forward). Allocation-free per packet.
//! The path is the same in both port modes; only the `Egress` that sends differs.

use crate::config::RemoteSpec;
use crate::events::Event;
use crate::kernel::Flow;
use crate::latch::{LatchConfig, LatchEvent};
use crate::rtp::{classify, static_clock_rate, DropReason, Packet, RtpHeader};
use crate::session_ctl::SessionControl;
use crate::stats::{bump, Jitter, SeqTracker, SideShared};
use crate::sys::send_to;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// One relay port of a side (RTP, or RTCP on the odd port).
pub struct Sock {
    /// The bound socket in per-port mode; None in shared port mode.
    pub fd: Option<OwnedFd>,
    /// Our local address and port (the IP may be the configured wildcard).
    pub local: SocketAddr,
    /// Source IP for packets written by hand (shared mode): the local IP, or for a
    /// wildcard the address the remote sent to (or the route's source).
    pub src_ip: IpAddr,
    pub latch: crate::latch::Latch,
    /// Slot of this socket in its worker's socket table (per-port mode).
    pub slot: u32,
}

impl Sock {
    pub fn new(fd: Option<OwnedFd>, local: SocketAddr) -> Sock {
        Sock {
            fd,
            local,
            src_ip: local.ip(),
            latch: Default::default(),
            slot: 0,
        }
    }
}

/// How forwarded datagrams leave: per-port sockets send at once; shared port mode
/// queues them for a batched raw send and accounts for them when flushed.
pub trait Egress {
    /// Sends `buf` from `from` (a socket of the other side) to `dst`. Some(sent) when the
    /// send is done; None when queued for `session` (worker slot) and ingress `side`.
    fn send(
        &mut self,
        from: &mut Sock,
        dst: SocketAddr,
        buf: &[u8],
        session: u32,
        side: u8,
    ) -> Option<bool>;
}

/// Per-port mode: `sendto` out of the side's own socket.
pub struct SocketEgress;

impl Egress for SocketEgress {
    #[inline]
    fn send(
        &mut self,
        from: &mut Sock,
        dst: SocketAddr,
        buf: &[u8],
        _: u32,
        _: u8,
    ) -> Option<bool> {
        Some(match &from.fd {
            Some(fd) => send_to(fd.as_raw_fd(), buf, &dst).is_ok(),
            None => false,
        })
    }
}

pub struct Side {
    /// Index of the side's local address in the relay configuration.
    pub addr: usize,
    pub rtp: Sock,
    pub rtcp: Option<Sock>,
    /// Created with a single port (RFC 5761): RTCP always rides on the RTP socket.
    pub mux_only: bool,
    /// The remote's SDP offered/accepted rtcp-mux.
    pub remote_mux: bool,
    pub shared: Arc<SideShared>,
    seq: SeqTracker,
    jitter: Jitter,
}

impl Side {
    pub fn new(rtp: Sock, rtcp: Option<Sock>, shared: Arc<SideShared>) -> Side {
        let mux_only = rtcp.is_none();
        Side {
            addr: 0,
            rtp,
            rtcp,
            mux_only,
            remote_mux: false,
            shared,
            seq: SeqTracker::default(),
            jitter: Jitter::default(),
        }
    }

    pub fn muxed(&self) -> bool {
        self.mux_only || self.remote_mux
    }

    fn sock_mut(&mut self, rtcp: bool) -> Option<&mut Sock> {
        if rtcp {
            self.rtcp.as_mut()
        } else {
            Some(&mut self.rtp)
        }
    }

    /// Socket and destination for RTCP sent towards this side's remote.
    fn rtcp_out(&mut self) -> (&mut Sock, Option<SocketAddr>) {
        let muxed = self.muxed();
        match (&mut self.rtcp, muxed) {
            (Some(s), false) => {
                // RFC 3550 §11: without SDP or a learned RTCP source, RTCP goes to RTP port + 1.
                let fallback = self
                    .rtp
                    .latch
                    .destination()
                    .map(|a| SocketAddr::new(a.ip(), a.port().wrapping_add(1)));
                let dst = s.latch.destination().or(fallback);
                (s, dst)
            }
            _ => {
                let dst = self.rtp.latch.destination();
                (&mut self.rtp, dst)
            }
        }
    }

    /// Shared mode: remembers which of our addresses a wildcard-bound port was reached at.
    #[inline]
    pub fn note_local(&mut self, rtcp: bool, ip: IpAddr) {
        if let Some(s) = self.sock_mut(rtcp) {
            if s.local.ip().is_unspecified() {
                s.src_ip = ip;
            }
        }
    }

    fn record_rtp(&mut self, h: &RtpHeader, now_ns: u64, rates: &[u32; 128]) {
        self.seq.update(h.ssrc, h.seq);
        self.shared.rtp_expected.store(self.seq.expected(), Relaxed);
        self.shared.rtp_lost.store(self.seq.lost(), Relaxed);
        let rate = rates[h.payload_type as usize];
        if rate > 0 {
            self.jitter.update(h.ssrc, h.timestamp, now_ns, rate);
            let j = self.jitter.value() as u64;
            self.shared.jitter_ts.store(j, Relaxed);
            self.shared
                .jitter_us
                .store(j * 1_000_000 / rate as u64, Relaxed);
        }
    }
}

/// What a worker hands the per-packet path besides the packet.
pub struct Ctx<'a> {
    pub now_ns: u64,
    pub events: &'a mut Vec<Event>,
    pub kernel: &'a mut Vec<KernelOp>,
    pub kernel_enabled: bool,
}

pub enum KernelOp {
    Install(Vec<Flow>),
    Remove(Vec<(SocketAddr, SocketAddr)>),
}

pub struct Session {
    pub id: u32,
    /// Slot of the session in its worker's table (names it in queued sends).
    pub slot: u32,
    pub sides: [Side; 2],
    pub latch: LatchConfig,
    pub timeout_ns: u64,
    pub created_ns: u64,
    timed_out: bool,
    clock_rates: [u32; 128],
    pub(crate) kernel_keys: Vec<(SocketAddr, SocketAddr)>,
    /// Shared with the calling thread: remote specs set by `set_remote`, the kernel gate.
    pub control: Arc<SessionControl>,
    /// Generation of `control`'s specs this session runs with.
    pub(crate) applied: u64,
    /// Set once the calling thread closed the session (seen through `control`).
    closed: bool,
}

impl Session {
    pub fn new(
        id: u32,
        sides: [Side; 2],
        latch: LatchConfig,
        timeout_ns: u64,
        rates: &[(u8, u32)],
        now_ns: u64,
    ) -> Session {
        let mut clock_rates = [0u32; 128];
        for (pt, r) in clock_rates.iter_mut().enumerate() {
            *r = static_clock_rate(pt as u8).unwrap_or(0);
        }
        for &(pt, rate) in rates {
            if let Some(slot) = clock_rates.get_mut(pt as usize) {
                *slot = rate;
            }
        }
        Session {
            id,
            slot: 0,
            sides,
            latch,
            timeout_ns,
            created_ns: now_ns,
            timed_out: false,
            clock_rates,
            kernel_keys: Vec::new(),
            control: Arc::default(),
            applied: 0,
            closed: false,
        }
    }

    /// Applies the remote specs set on the calling thread since the last call; the worker
    /// calls it before each packet of the session (one atomic load when nothing changed).
    /// False once `close_session` was called: the packet must not be forwarded.
    #[inline]
    pub fn sync_remotes(&mut self, ctx: &mut Ctx) -> bool {
        if self.control.generation() != self.applied {
            self.apply_remotes(ctx);
        }
        !self.closed
    }

    #[cold]
    fn apply_remotes(&mut self, ctx: &mut Ctx) {
        let (generation, specs, closed) = self.control.take_pending();
        self.applied = generation;
        if closed {
            // the close is queued to this worker; until it arrives the session forwards nothing
            self.closed = true;
            return;
        }
        let mut refreshed = false;
        for (side, spec) in specs.iter().enumerate() {
            if let Some(spec) = spec {
                refreshed |= self.set_remote(side, spec, ctx);
            }
        }
        // The calling thread removed the kernel entries: install them again at this generation.
        if !refreshed {
            self.refresh_kernel(ctx);
        }
    }

    /// The per-packet path for a datagram received on `side`'s RTP or RTCP port.
    #[allow(clippy::too_many_arguments)]
    pub fn on_datagram<E: Egress>(
        &mut self,
        side: usize,
        rtcp_sock: bool,
        buf: &[u8],
        src: SocketAddr,
        truncated: bool,
        ctx: &mut Ctx,
        out: &mut E,
    ) {
        if !self.sync_remotes(ctx) {
            return;
        }
        let (x, y) = split(&mut self.sides, side);
        if truncated {
            x.shared.drop_packet(DropReason::Oversize);
            return;
        }
        let header = match classify(buf, rtcp_sock, x.muxed()) {
            Packet::Drop(r) => return x.shared.drop_packet(r),
            Packet::Rtp(h) => Some(h),
            Packet::Rtcp => None,
        };
        let Some(sock) = x.sock_mut(rtcp_sock) else {
            return;
        };
        let verdict = sock.latch.on_packet(src, ctx.now_ns, &self.latch);
        let latched_now = sock.latch.latched();
        let mut relatch = false;
        if let Some(ev) = verdict.event {
            let (s, i) = (self.id, side as u8);
            ctx.events.push(match ev {
                LatchEvent::Latched(addr) => Event::Latched {
                    session: s,
                    side: i,
                    rtcp: rtcp_sock,
                    addr,
                },
                LatchEvent::SourceChanged { from, to } => Event::SourceChanged {
                    session: s,
                    side: i,
                    rtcp: rtcp_sock,
                    from,
                    to,
                },
            });
            if !rtcp_sock {
                if let Ok(mut g) = x.shared.latched.lock() {
                    *g = latched_now;
                }
            }
            relatch = true;
        }
        if !verdict.accept {
            x.shared.drop_packet(DropReason::UnexpectedSource);
            return;
        }
        bump(&x.shared.packets_in, 1);
        bump(&x.shared.bytes_in, buf.len() as u64);
        x.shared.last_packet_ns.store(ctx.now_ns, Relaxed);
        if let Some(h) = &header {
            x.record_rtp(h, ctx.now_ns, &self.clock_rates);
        }
        let (sock, dst) = if header.is_some() {
            let dst = y.rtp.latch.destination();
            (&mut y.rtp, dst)
        } else {
            y.rtcp_out()
        };
        match dst {
            None => x.shared.drop_packet(DropReason::NoRemote),
            Some(dst) => {
                // None: queued, accounted by `account_send` once flushed.
                if let Some(sent) = out.send(sock, dst, buf, self.slot, side as u8) {
                    account(x, y, buf.len(), sent);
                }
            }
        }
        self.timed_out = false;
        if relatch {
            self.refresh_kernel(ctx);
        }
    }

    /// Accounts for a queued send of a packet that arrived on `side`.
    pub fn account_send(&mut self, side: usize, len: usize, sent: bool) {
        let (x, y) = split(&mut self.sides, side);
        account(x, y, len, sent);
    }

    /// New SDP for one side. True when the kernel entries were refreshed (the latch
    /// restarted or rtcp-mux changed).
    pub fn set_remote(&mut self, side: usize, spec: &RemoteSpec, ctx: &mut Ctx) -> bool {
        let x = &mut self.sides[side];
        let mux_changed = x.remote_mux != spec.rtcp_mux;
        x.remote_mux = spec.rtcp_mux;
        let mut changed = x.rtp.latch.set_expected(Some(spec.rtp));
        if let Some(r) = x.rtcp.as_mut() {
            changed |= r.latch.set_expected(Some(spec.rtcp_addr()));
        }
        if changed {
            // A wildcard port's source address is learned again for the new remote.
            for s in std::iter::once(&mut x.rtp).chain(x.rtcp.as_mut()) {
                s.src_ip = s.local.ip();
            }
        }
        if changed {
            if let Ok(mut g) = x.shared.latched.lock() {
                *g = None;
            }
        }
        if changed || mux_changed {
            self.refresh_kernel(ctx);
        }
        changed || mux_changed
    }

    /// Fires one timeout event per silence longer than the session timeout.
    pub fn check_timeout(&mut self, now_ns: u64, events: &mut Vec<Event>) {
        let last = self
            .sides
            .iter()
            .map(|s| s.shared.last_packet_ns.load(Relaxed))
            .max()
            .unwrap_or(0)
            .max(self.created_ns);
        let idle = now_ns.saturating_sub(last);
        if idle < self.timeout_ns {
            self.timed_out = false;
        } else if !self.timed_out {
            self.timed_out = true;
            events.push(Event::Timeout {
                session: self.id,
                idle_ms: idle / 1_000_000,
            });
        }
    }
}

#[inline]
fn account(x: &Side, y: &Side, len: usize, sent: bool) {
    if sent {
        bump(&y.shared.packets_out, 1);
        bump(&y.shared.bytes_out, len as u64);
    } else {
        x.shared.drop_packet(DropReason::SendError);
    }
}

fn split(sides: &mut [Side; 2], i: usize) -> (&mut Side, &mut Side) {
    let (a, b) = sides.split_at_mut(1);
    if i == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
