//! A forwarding thread: one level-triggered epoll, recvmmsg into reusable buffers, and
//! the shared per-packet path of `Session`. Per-port mode: the epoll holds every socket of
//! the sessions the worker owns and packets leave with sendto out of the other side's
//! socket. Shared port mode: the epoll holds the worker's shared sockets, the original
//! destination names the session side, and packets leave in a batch through raw sockets.
//! Control changes arrive as commands over a channel plus an eventfd wake-up.

use crate::config::RemoteSpec;
use crate::events::Event;
use crate::kernel::HkMsg;
use crate::session::{Ctx, KernelOp, Session, SocketEgress};
use crate::shared_io::{orig_dst, RawQueue, RawSender};
use crate::shared_ports::{SharedPorts, WorkerSockets};
use crate::sys::{now_ns, Epoll, EventFd, RecvBatch, BATCH};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::Arc;

pub enum Cmd {
    Add(Box<Session>),
    SetRemote {
        id: u32,
        side: usize,
        spec: RemoteSpec,
        reply: SyncSender<bool>,
    },
    Close {
        id: u32,
        reply: SyncSender<bool>,
    },
    Shutdown,
}

const WAKER: u64 = u64::MAX;
/// Tokens of the shared sockets (IPv4, IPv6) in shared port mode.
const SHARED: [u64; 2] = [u64::MAX - 1, u64::MAX - 2];
/// recvmmsg calls per readable socket per turn; level-triggered epoll brings the rest.
const READS_PER_TURN: usize = 4;

struct SockSlot {
    gen: u32,
    session: u32,
    side: u8,
    rtcp: bool,
    live: bool,
}

/// What a worker needs in shared port mode.
pub struct SharedIo {
    pub index: usize,
    pub ports: Arc<SharedPorts>,
    rx: [Option<OwnedFd>; 2],
    tx: RawSender,
}

impl SharedIo {
    pub fn new(
        index: usize,
        ports: Arc<SharedPorts>,
        socks: WorkerSockets,
        max_packet: usize,
    ) -> SharedIo {
        let [tx4, tx6] = socks.tx;
        SharedIo {
            index,
            ports,
            rx: socks.rx,
            tx: RawSender {
                v4: tx4.map(|fd| RawQueue::new(fd, max_packet)),
                v6: tx6.map(|fd| RawQueue::new(fd, max_packet)),
            },
        }
    }
}

pub struct Worker {
    ep: Epoll,
    shared: Option<SharedIo>,
    waker: Arc<EventFd>,
    rx: Receiver<Cmd>,
    hk: Sender<HkMsg>,
    socks: Vec<SockSlot>,
    free_socks: Vec<u32>,
    sessions: Vec<Option<Box<Session>>>,
    free_sessions: Vec<u32>,
    by_id: HashMap<u32, u32>,
    batch: RecvBatch,
    events: Vec<Event>,
    kernel_ops: Vec<KernelOp>,
    kernel_enabled: bool,
    tick_ns: u64,
}

impl Worker {
    pub fn new(
        rx: Receiver<Cmd>,
        waker: Arc<EventFd>,
        hk: Sender<HkMsg>,
        max_packet: usize,
        kernel_enabled: bool,
        tick_ms: u64,
        shared: Option<SharedIo>,
    ) -> std::io::Result<Worker> {
        let ep = Epoll::new()?;
        ep.add(waker.raw(), WAKER)?;
        if let Some(sh) = &shared {
            for (fd, token) in sh.rx.iter().zip(SHARED) {
                if let Some(fd) = fd {
                    ep.add(fd.as_raw_fd(), token)?;
                }
            }
        }
        let batch = if shared.is_some() {
            RecvBatch::with_control(max_packet)
        } else {
            RecvBatch::new(max_packet)
        };
        Ok(Worker {
            ep,
            shared,
            waker,
            rx,
            hk,
            socks: Vec::new(),
            free_socks: Vec::new(),
            sessions: Vec::new(),
            free_sessions: Vec::new(),
            by_id: HashMap::new(),
            batch,
            events: Vec::new(),
            kernel_ops: Vec::new(),
            kernel_enabled,
            tick_ns: tick_ms.clamp(5, 1000) * 1_000_000,
        })
    }

    pub fn run(mut self) {
        let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        let mut next_tick = now_ns() + self.tick_ns;
        loop {
            let wait_ms = (next_tick.saturating_sub(now_ns()) / 1_000_000) as i32 + 1;
            let n = match self.ep.wait(&mut evs, wait_ms) {
                Ok(n) => n,
                Err(_) => break,
            };
            let mut commands = false;
            for ev in &evs[..n] {
                if ev.u64 == WAKER {
                    commands = true;
                } else if ev.u64 == SHARED[0] || ev.u64 == SHARED[1] {
                    self.on_shared_readable(usize::from(ev.u64 == SHARED[1]));
                } else {
                    self.on_readable(ev.u64);
                }
            }
            if commands {
                self.waker.drain();
                if !self.on_commands() {
                    break;
                }
            }
            let now = now_ns();
            if now >= next_tick {
                for s in self.sessions.iter_mut().flatten() {
                    s.check_timeout(now, &mut self.events);
                }
                next_tick = now + self.tick_ns;
            }
            self.flush();
        }
        self.close_all();
        self.flush();
    }

    fn flush(&mut self) {
        if !self.events.is_empty() {
            let _ = self
                .hk
                .send(HkMsg::Events(std::mem::take(&mut self.events)));
        }
        for op in self.kernel_ops.drain(..) {
            let _ = self.hk.send(match op {
                KernelOp::Install(f) => HkMsg::Install(f),
                KernelOp::Remove(k) => HkMsg::Remove(k),
            });
        }
    }

    fn ctx(&mut self) -> (Ctx<'_>, &mut Vec<Option<Box<Session>>>) {
        let ctx = Ctx {
            now_ns: now_ns(),
            events: &mut self.events,
            kernel: &mut self.kernel_ops,
            kernel_enabled: self.kernel_enabled,
        };
        (ctx, &mut self.sessions)
    }

    fn on_readable(&mut self, token: u64) {
        let (slot, gen) = (token as u32 as usize, (token >> 32) as u32);
        let Some(s) = self.socks.get(slot) else {
            return;
        };
        if !s.live || s.gen != gen {
            return;
        }
        let (sidx, side, rtcp) = (s.session as usize, s.side as usize, s.rtcp);
        let Worker {
            sessions,
            batch,
            events,
            kernel_ops,
            kernel_enabled,
            ..
        } = self;
        let Some(Some(sess)) = sessions.get_mut(sidx) else {
            return;
        };
        let fd = match (rtcp, &sess.sides[side].rtcp) {
            (true, Some(r)) => r.fd.as_ref(),
            (true, None) => return,
            (false, _) => sess.sides[side].rtp.fd.as_ref(),
        };
        let Some(fd) = fd.map(|f| f.as_raw_fd()) else {
            return;
        };
        for _ in 0..READS_PER_TURN {
            let n = match batch.recv(fd) {
                Ok(n) => n,
                Err(_) => return,
            };
            let mut ctx = Ctx {
                now_ns: now_ns(),
                events,
                kernel: kernel_ops,
                kernel_enabled: *kernel_enabled,
            };
            for i in 0..n {
                let (buf, src, truncated) = batch.get(i);
                if let Some(src) = src {
                    sess.on_datagram(side, rtcp, buf, src, truncated, &mut ctx, &mut SocketEgress);
                }
            }
            if n < BATCH {
                return;
            }
        }
    }

    /// Shared port mode: datagrams for any owned port of family `fam`; the original
    /// destination names the session side (O(1) through the port table).
    fn on_shared_readable(&mut self, fam: usize) {
        let Worker {
            shared: Some(sh),
            sessions,
            batch,
            events,
            kernel_ops,
            kernel_enabled,
            ..
        } = self
        else {
            return;
        };
        let Some(fd) = sh.rx[fam].as_ref().map(|f| f.as_raw_fd()) else {
            return;
        };
        for _ in 0..READS_PER_TURN {
            let n = match batch.recv(fd) {
                Ok(n) => n,
                Err(_) => return,
            };
            let mut ctx = Ctx {
                now_ns: now_ns(),
                events,
                kernel: kernel_ops,
                kernel_enabled: *kernel_enabled,
            };
            for i in 0..n {
                let (buf, src, truncated) = batch.get(i);
                let owner =
                    orig_dst(batch.header(i)).and_then(|dst| Some((dst, sh.ports.lookup(dst)?)));
                let (Some(src), Some((dst, (worker, slot, side, rtcp)))) = (src, owner) else {
                    sh.ports.count_unused();
                    continue;
                };
                let sess = match sessions.get_mut(slot as usize) {
                    Some(Some(s)) if worker == sh.index => s,
                    _ => {
                        sh.ports.count_unused();
                        continue;
                    }
                };
                sess.sides[side].note_local(rtcp, dst.ip());
                sess.on_datagram(side, rtcp, buf, src, truncated, &mut ctx, &mut sh.tx);
            }
            sh.tx.flush(|slot, side, len, sent| {
                if let Some(Some(s)) = sessions.get_mut(slot as usize) {
                    s.account_send(side as usize, len, sent);
                }
            });
            if n < BATCH {
                return;
            }
        }
    }

    /// Runs queued commands; false when the worker must stop.
    fn on_commands(&mut self) -> bool {
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Cmd::Add(s) => self.add(s),
                Cmd::SetRemote {
                    id,
                    side,
                    spec,
                    reply,
                } => {
                    let found = self.by_id.get(&id).copied();
                    let (mut ctx, sessions) = self.ctx();
                    let ok = match found
                        .and_then(|i| sessions.get_mut(i as usize))
                        .and_then(|s| s.as_mut())
                    {
                        Some(s) => {
                            s.set_remote(side, &spec, &mut ctx);
                            true
                        }
                        None => false,
                    };
                    let _ = reply.send(ok);
                }
                Cmd::Close { id, reply } => {
                    let ok = self.remove(id);
                    let _ = reply.send(ok);
                }
                Cmd::Shutdown => return false,
            }
        }
        true
    }

    fn alloc_sock(&mut self, session: u32, side: u8, rtcp: bool) -> u32 {
        match self.free_socks.pop() {
            Some(i) => {
                let s = &mut self.socks[i as usize];
                s.gen = s.gen.wrapping_add(1);
                (s.session, s.side, s.rtcp, s.live) = (session, side, rtcp, true);
                i
            }
            None => {
                self.socks.push(SockSlot {
                    gen: 0,
                    session,
                    side,
                    rtcp,
                    live: true,
                });
                (self.socks.len() - 1) as u32
            }
        }
    }

    fn add(&mut self, mut s: Box<Session>) {
        // A session with a shorter timeout than the relay's makes the timeout check finer.
        self.tick_ns = self.tick_ns.min((s.timeout_ns / 4).max(5_000_000));
        let slot = match self.free_sessions.pop() {
            Some(i) => i,
            None => {
                self.sessions.push(None);
                (self.sessions.len() - 1) as u32
            }
        };
        s.slot = slot;
        if let Some(sh) = &self.shared {
            for (side, x) in s.sides.iter().enumerate() {
                let rtcp = x.rtcp.as_ref().map(|r| r.local.port());
                for (port, is_rtcp) in [(Some(x.rtp.local.port()), false), (rtcp, true)] {
                    if let Some(port) = port {
                        // A failed map update leaves the port silent; the session times out.
                        sh.ports
                            .claim(x.addr, port, (sh.index, slot, side, is_rtcp));
                    }
                }
            }
            self.by_id.insert(s.id, slot);
            self.sessions[slot as usize] = Some(s);
            return;
        }
        for side in 0..2 {
            let rtcp_present = s.sides[side].rtcp.is_some();
            for rtcp in [false, true] {
                if rtcp && !rtcp_present {
                    continue;
                }
                let sock_slot = self.alloc_sock(slot, side as u8, rtcp);
                let token = ((self.socks[sock_slot as usize].gen as u64) << 32) | sock_slot as u64;
                let sock = if rtcp {
                    s.sides[side].rtcp.as_mut()
                } else {
                    Some(&mut s.sides[side].rtp)
                };
                if let Some(sock) = sock {
                    sock.slot = sock_slot;
                    // Registration cannot fail for a fresh UDP fd short of ENOMEM; the
                    // session then simply forwards nothing and times out.
                    if let Some(fd) = &sock.fd {
                        let _ = self.ep.add(fd.as_raw_fd(), token);
                    }
                }
            }
        }
        self.by_id.insert(s.id, slot);
        self.sessions[slot as usize] = Some(s);
    }

    fn remove(&mut self, id: u32) -> bool {
        let Some(slot) = self.by_id.remove(&id) else {
            return false;
        };
        let Some(mut s) = self.sessions.get_mut(slot as usize).and_then(|x| x.take()) else {
            return false;
        };
        for side in s.sides.iter() {
            for sock in std::iter::once(&side.rtp).chain(side.rtcp.iter()) {
                if let Some(sh) = &self.shared {
                    sh.ports.release(side.addr, sock.local.port());
                    continue;
                }
                if let Some(fd) = &sock.fd {
                    self.ep.delete(fd.as_raw_fd());
                }
                if let Some(ss) = self.socks.get_mut(sock.slot as usize) {
                    ss.live = false;
                }
                self.free_socks.push(sock.slot);
            }
        }
        let keys = s.take_kernel_keys();
        if !keys.is_empty() {
            self.kernel_ops.push(KernelOp::Remove(keys));
        }
        self.events.push(Event::Closed { session: id });
        self.free_sessions.push(slot);
        drop(s); // closes the sockets
        true
    }

    fn close_all(&mut self) {
        let ids: Vec<u32> = self.by_id.keys().copied().collect();
        for id in ids {
            self.remove(id);
        }
        self.events.retain(|e| !matches!(e, Event::Closed { .. }));
    }
}
