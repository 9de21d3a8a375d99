//! A forwarding thread: one level-triggered epoll, recvmmsg into reusable buffers, and
//! the shared per-packet path of `Session`. Per-port mode: the epoll holds every socket of
//! the sessions the worker owns and packets leave with sendto out of the other side's
//! socket. Shared port mode: the epoll holds the worker's shared sockets, the original
//! destination names the session side, and packets leave in a batch through raw sockets.
//! Sessions arrive and leave as commands over a channel plus an eventfd wake-up; nobody
//! waits for a command to be done. Remote specs do not travel as commands: the calling
//! thread sets them in the session's `SessionControl`, read before each of its packets.

use crate::doorbell::Doorbell;
use crate::events::Event;
use crate::kernel::HkMsg;
use crate::pools::Pools;
use crate::session::{Ctx, KernelOp, Session, SocketEgress};
use crate::sys::{now_ns, Epoll, RecvBatch, BATCH};
pub use crate::worker_shared::SharedIo;
use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

pub enum Cmd {
    Add(Box<Session>),
    /// Close the session's sockets (or release its shared-port claims), then give its
    /// ports back to the pool and count the queued close as done.
    Close(u32),
    Shutdown,
}

const WAKER: u64 = u64::MAX;
/// Tokens of the shared sockets (IPv4, IPv6) in shared port mode.
pub(crate) const SHARED: [u64; 2] = [u64::MAX - 1, u64::MAX - 2];
/// recvmmsg calls per readable socket per turn; level-triggered epoll brings the rest.
pub(crate) const READS_PER_TURN: usize = 4;

/// A worker's session slots, handed out by the calling thread (which claims shared ports
/// for a slot before the worker sees the session) and given back by the worker.
#[derive(Default)]
pub struct Slots {
    free: Vec<u32>,
    next: u32,
}

impl Slots {
    pub fn take(&mut self) -> u32 {
        self.free.pop().unwrap_or_else(|| {
            self.next += 1;
            self.next - 1
        })
    }

    pub fn give_back(&mut self, slot: u32) {
        self.free.push(slot);
    }
}

struct SockSlot {
    gen: u32,
    session: u32,
    side: u8,
    rtcp: bool,
    live: bool,
}

pub struct Worker {
    ep: Epoll,
    pub(crate) shared: Option<SharedIo>,
    waker: Arc<Doorbell>,
    rx: Receiver<Cmd>,
    hk: Sender<HkMsg>,
    pools: Arc<Pools>,
    socks: Vec<SockSlot>,
    free_socks: Vec<u32>,
    pub(crate) sessions: Vec<Option<Box<Session>>>,
    slots: Arc<Mutex<Slots>>,
    by_id: HashMap<u32, u32>,
    pub(crate) batch: RecvBatch,
    pub(crate) events: Vec<Event>,
    pub(crate) kernel_ops: Vec<KernelOp>,
    pub(crate) kernel_enabled: bool,
    tick_ns: u64,
}

impl Worker {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rx: Receiver<Cmd>,
        waker: Arc<Doorbell>,
        hk: Sender<HkMsg>,
        pools: Arc<Pools>,
        slots: Arc<Mutex<Slots>>,
        max_packet: usize,
        kernel_enabled: bool,
        tick_ms: u64,
        shared: Option<SharedIo>,
    ) -> std::io::Result<Worker> {
        let ep = Epoll::new()?;
        let (now, soon) = waker.fds();
        ep.add(now, WAKER)?;
        ep.add(soon, WAKER)?;
        if let Some(sh) = &shared {
            for (fd, token) in sh.rx_fds().into_iter().zip(SHARED) {
                if let Some(fd) = fd {
                    ep.add(fd, token)?;
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
            pools,
            socks: Vec::new(),
            free_socks: Vec::new(),
            sessions: Vec::new(),
            slots,
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
            let mut stop = false;
            for ev in &evs[..n] {
                if ev.u64 == WAKER {
                    commands = true;
                } else if ev.u64 == SHARED[0] || ev.u64 == SHARED[1] {
                    stop |= !self.on_shared_readable(usize::from(ev.u64 == SHARED[1]));
                } else {
                    self.on_readable(ev.u64);
                }
            }
            if commands {
                self.waker.answer();
                stop |= !self.on_commands();
            }
            if stop {
                break;
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

    /// Runs queued commands; false when the worker must stop.
    pub(crate) fn on_commands(&mut self) -> bool {
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Cmd::Add(s) => self.add(s),
                Cmd::Close(id) => {
                    self.remove(id);
                    self.pools.close_done();
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
        // The slot was taken by the calling thread (and its shared ports claimed for it).
        let slot = s.slot;
        if self.sessions.len() <= slot as usize {
            self.sessions.resize_with(slot as usize + 1, || None);
        }
        // Remote specs set before the worker saw the session.
        let (mut ctx, _) = self.ctx();
        // (a session closed before the worker saw it is dropped by the Close queued after it)
        let _open = s.sync_remotes(&mut ctx);
        if self.shared.is_some() {
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
        // The housekeeper forgets these entries before the ports can go to a new session.
        self.flush();
        let ports = s.sides.each_ref().map(|x| (x.addr, x.rtp.local.port()));
        if let Ok(mut slots) = self.slots.lock() {
            slots.give_back(slot);
        }
        drop(s); // closes the sockets
        for (addr, port) in ports {
            self.pools.release(addr, port);
        }
        self.events.push(Event::Closed { session: id });
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
