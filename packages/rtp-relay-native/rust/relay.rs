//! The control side of the relay: port pools, session table, worker and housekeeper
//! threads, and the port mode (a socket per port, or shared sockets fed by sk_lookup).
//! Called from the JS thread through the binding; never on the packet path.

use crate::config::{RelayConfig, RemoteSpec, SessionOptions};
use crate::error::RelayError;
use crate::events::EventSink;
use crate::kernel::{HkMsg, Housekeeper, Mode};
use crate::port_mode::{self, allocate, make_sock, Alloc};
use crate::port_pool::PortPool;
use crate::session::{Session, Side};
use crate::shared_ports::SharedPorts;
use crate::stats::{SideShared, SideSnapshot};
use crate::sys::{now_ns, raise_nofile_limit, wall_ms, EventFd};
use crate::worker::{Cmd, SharedIo, Worker};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{channel, sync_channel, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const REPLY_WAIT: Duration = Duration::from_secs(5);

struct WorkerHandle {
    tx: Sender<Cmd>,
    waker: Arc<EventFd>,
    join: Option<JoinHandle<()>>,
    load: AtomicUsize,
}

struct SideCtl {
    addr: usize,
    rtp_port: u16,
    shared: Arc<SideShared>,
}

struct SessionCtl {
    worker: usize,
    sides: [SideCtl; 2],
}

#[derive(Debug, Clone)]
pub struct SideInfo {
    pub local_ip: IpAddr,
    pub advertised: String,
    pub rtp_port: u16,
    /// None for a single-port (rtcp-mux only) side.
    pub rtcp_port: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: u32,
    pub sides: [SideInfo; 2],
}

#[derive(Debug, Clone)]
pub struct SessionStats {
    pub sides: [SideSnapshot; 2],
}

pub use crate::port_mode::PortMode;

pub struct RelayInfo {
    pub mode: Mode,
    pub port_mode: PortMode,
    /// Packets to relay ports no session owns (shared mode; 0 in per-port mode, where
    /// the kernel drops them without telling us).
    pub unused_port_drops: u64,
    pub threads: usize,
    pub nofile_limit: Option<u64>,
    pub ports_total: usize,
    pub ports_free: usize,
    pub sessions: usize,
}

pub struct Relay {
    cfg: RelayConfig,
    pools: Vec<Mutex<PortPool>>,
    workers: Mutex<Vec<WorkerHandle>>,
    sessions: Mutex<HashMap<u32, SessionCtl>>,
    hk_tx: Mutex<Option<Sender<HkMsg>>>,
    hk_join: Mutex<Option<JoinHandle<()>>>,
    next_id: AtomicU32,
    closed: AtomicBool,
    mode: Mode,
    port_mode: PortMode,
    shared: Mutex<Option<Arc<SharedPorts>>>,
    nofile_limit: Option<u64>,
    /// Monotonic ns and wall-clock ms at start, to report last-packet times as wall time.
    epoch: (u64, u64),
}

fn io_err(e: std::io::Error) -> RelayError {
    RelayError::Io(e.to_string())
}

impl Relay {
    pub fn start(cfg: RelayConfig, sink: EventSink) -> Result<Relay, RelayError> {
        cfg.validate()?;
        let nofile_limit = if cfg.nofile_target > 0 {
            raise_nofile_limit(cfg.nofile_target).ok()
        } else {
            None
        };
        let pools = cfg
            .addresses
            .iter()
            .map(|_| PortPool::new(cfg.port_min, cfg.port_max).map(Mutex::new))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                RelayError::BadOption("ports: the range holds no even/odd pair".into())
            })?;
        let (hk_tx, hk_rx) = channel();
        let (mode_tx, mode_rx) = sync_channel(1);
        let (kcfg, poll) = (cfg.kernel.clone(), cfg.kernel_poll_ms);
        // The kernel path is opened inside its own thread, which then owns it alone.
        let hk_join = std::thread::Builder::new()
            .name("rtp-housekeeper".into())
            .spawn(move || {
                let (hk, mode) = Housekeeper::new(hk_rx, sink, &kcfg, poll);
                let _ = mode_tx.send(mode);
                hk.run();
            })
            .map_err(io_err)?;
        let mode = mode_rx
            .recv()
            .map_err(|_| RelayError::Io("housekeeper thread died".into()))?;
        let (port_mode, shared, mut worker_socks) = port_mode::choose(&cfg)?;
        let tick_ms = (cfg.timeout_ms / 4).min(1000);
        let mut workers = Vec::with_capacity(cfg.threads);
        for i in 0..cfg.threads {
            let io = match (&shared, worker_socks.get_mut(i).and_then(Option::take)) {
                (Some(sp), Some(socks)) => {
                    Some(SharedIo::new(i, sp.clone(), socks, cfg.max_packet))
                }
                _ => None,
            };
            let (tx, rx) = channel();
            let waker = Arc::new(EventFd::new().map_err(io_err)?);
            let w = Worker::new(
                rx,
                waker.clone(),
                hk_tx.clone(),
                cfg.max_packet,
                mode.kernel,
                tick_ms,
                io,
            )
            .map_err(io_err)?;
            let join = std::thread::Builder::new()
                .name(format!("rtp-worker-{i}"))
                .spawn(move || w.run())
                .map_err(io_err)?;
            workers.push(WorkerHandle {
                tx,
                waker,
                join: Some(join),
                load: AtomicUsize::new(0),
            });
        }
        Ok(Relay {
            cfg,
            pools,
            workers: Mutex::new(workers),
            sessions: Mutex::new(HashMap::new()),
            hk_tx: Mutex::new(Some(hk_tx)),
            hk_join: Mutex::new(Some(hk_join)),
            next_id: AtomicU32::new(1),
            closed: AtomicBool::new(false),
            mode,
            port_mode,
            shared: Mutex::new(shared),
            nofile_limit,
            epoch: (now_ns(), wall_ms()),
        })
    }

    pub fn port_mode(&self) -> &PortMode {
        &self.port_mode
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    pub fn config(&self) -> &RelayConfig {
        &self.cfg
    }

    /// Converts a monotonic time of this process into Unix epoch milliseconds.
    pub fn wall_time_ms(&self, mono_ns: u64) -> u64 {
        if mono_ns == 0 {
            return 0;
        }
        let (m0, w0) = self.epoch;
        (w0 as i64 + (mono_ns as i64 - m0 as i64) / 1_000_000).max(0) as u64
    }

    pub fn info(&self) -> RelayInfo {
        let (total, free) = self.pools.iter().fold((0, 0), |(t, f), p| match p.lock() {
            Ok(p) => (t + p.capacity(), f + p.free_count()),
            Err(_) => (t, f),
        });
        let unused_port_drops = match self.shared.lock().ok().and_then(|s| s.clone()) {
            Some(sp) => sp.unused_drops(),
            None => 0,
        };
        RelayInfo {
            mode: self.mode.clone(),
            port_mode: self.port_mode.clone(),
            unused_port_drops,
            threads: self.cfg.threads,
            nofile_limit: self.nofile_limit,
            ports_total: total,
            ports_free: free,
            sessions: self.sessions.lock().map(|s| s.len()).unwrap_or(0),
        }
    }

    fn check_open(&self) -> Result<(), RelayError> {
        if self.closed.load(Relaxed) {
            Err(RelayError::RelayClosed)
        } else {
            Ok(())
        }
    }

    fn bind_side(&self, addr: usize, mux_only: bool) -> Result<Alloc, RelayError> {
        let pool = self.pools[addr]
            .lock()
            .map_err(|_| RelayError::Io("port pool poisoned".into()))?;
        allocate(&self.cfg, pool, addr, mux_only, !self.port_mode.shared)
    }

    fn release_port(&self, addr: usize, port: u16) {
        if let Some(Ok(mut p)) = self.pools.get(addr).map(|p| p.lock()) {
            p.release(port);
        }
    }

    pub fn create_session(&self, opts: &SessionOptions) -> Result<SessionInfo, RelayError> {
        self.check_open()?;
        for s in &opts.sides {
            if s.address_index >= self.cfg.addresses.len() {
                return Err(RelayError::BadAddress(format!(
                    "local address #{} is not configured",
                    s.address_index
                )));
            }
        }
        let a = self.bind_side(opts.sides[0].address_index, opts.sides[0].rtcp_mux_only)?;
        let b = match self.bind_side(opts.sides[1].address_index, opts.sides[1].rtcp_mux_only) {
            Ok(b) => b,
            Err(e) => {
                let port = a.port;
                drop(a);
                self.release_port(opts.sides[0].address_index, port);
                return Err(e);
            }
        };
        let ports = [
            (a.port, opts.sides[0].address_index),
            (b.port, opts.sides[1].address_index),
        ];
        let built = (|| -> Result<_, RelayError> {
            let mk = |al: Alloc, addr: usize| -> Result<Side, RelayError> {
                let ip = self.cfg.addresses[addr].ip;
                let rtcp = if al.mux_only {
                    None
                } else {
                    Some(make_sock(al.rtcp, ip, al.port + 1)?)
                };
                let rtp = make_sock(al.rtp, ip, al.port)?;
                let mut side = Side::new(rtp, rtcp, Arc::new(SideShared::default()));
                side.addr = addr;
                Ok(side)
            };
            Ok([mk(a, ports[0].1)?, mk(b, ports[1].1)?])
        })();
        let sides = match built {
            Ok(s) => s,
            Err(e) => {
                for (port, addr) in ports {
                    self.release_port(addr, port);
                }
                return Err(e);
            }
        };
        self.register(opts, sides, ports)
    }

    fn register(
        &self,
        opts: &SessionOptions,
        sides: [Side; 2],
        ports: [(u16, usize); 2],
    ) -> Result<SessionInfo, RelayError> {
        let mut map = self
            .sessions
            .lock()
            .map_err(|_| RelayError::Io("session table poisoned".into()))?;
        let mut id = self.next_id.fetch_add(1, Relaxed);
        while id == 0 || map.contains_key(&id) {
            id = self.next_id.fetch_add(1, Relaxed);
        }
        let info_side = |i: usize| {
            let la = &self.cfg.addresses[ports[i].1];
            SideInfo {
                local_ip: la.ip,
                advertised: la.advertised.clone().unwrap_or_else(|| la.ip.to_string()),
                rtp_port: ports[i].0,
                rtcp_port: sides[i].rtcp.as_ref().map(|s| s.local.port()),
            }
        };
        let info = SessionInfo {
            id,
            sides: [info_side(0), info_side(1)],
        };
        let ctl = |i: usize, s: &Side| SideCtl {
            addr: ports[i].1,
            rtp_port: ports[i].0,
            shared: s.shared.clone(),
        };
        let sides_ctl = [ctl(0, &sides[0]), ctl(1, &sides[1])];
        let timeout_ns = opts.timeout_ms.unwrap_or(self.cfg.timeout_ms) * 1_000_000;
        let session = Box::new(Session::new(
            id,
            sides,
            opts.latch,
            timeout_ns,
            &opts.clock_rates,
            now_ns(),
        ));
        let workers = self
            .workers
            .lock()
            .map_err(|_| RelayError::Io("worker table poisoned".into()))?;
        let (wi, w) = workers
            .iter()
            .enumerate()
            .min_by_key(|(_, w)| w.load.load(Relaxed))
            .ok_or(RelayError::RelayClosed)?;
        if w.tx.send(Cmd::Add(session)).is_err() {
            // The worker is gone: the session (and its sockets) were dropped with the command.
            for (port, addr) in ports {
                self.release_port(addr, port);
            }
            return Err(RelayError::RelayClosed);
        }
        w.waker.wake();
        w.load.fetch_add(1, Relaxed);
        map.insert(
            id,
            SessionCtl {
                worker: wi,
                sides: sides_ctl,
            },
        );
        Ok(info)
    }

    pub fn set_remote(&self, id: u32, side: usize, spec: RemoteSpec) -> Result<(), RelayError> {
        self.check_open()?;
        let (worker, family_ok) = {
            let map = self
                .sessions
                .lock()
                .map_err(|_| RelayError::Io("session table poisoned".into()))?;
            let ctl = map.get(&id).ok_or(RelayError::SessionClosed(id))?;
            let local = self.cfg.addresses[ctl.sides[side].addr].ip;
            (ctl.worker, local.is_ipv4() == spec.rtp.is_ipv4())
        };
        if !family_ok {
            return Err(RelayError::BadAddress(format!(
                "{} is not of the side's address family",
                spec.rtp.ip()
            )));
        }
        let (reply, rx) = sync_channel(1);
        self.send_to_worker(
            worker,
            Cmd::SetRemote {
                id,
                side,
                spec,
                reply,
            },
        )?;
        match rx.recv_timeout(REPLY_WAIT) {
            Ok(true) => Ok(()),
            Ok(false) => Err(RelayError::SessionClosed(id)),
            Err(_) => Err(RelayError::Io("worker did not answer".into())),
        }
    }

    fn send_to_worker(&self, worker: usize, cmd: Cmd) -> Result<(), RelayError> {
        let workers = self
            .workers
            .lock()
            .map_err(|_| RelayError::Io("worker table poisoned".into()))?;
        let w = workers.get(worker).ok_or(RelayError::RelayClosed)?;
        w.tx.send(cmd).map_err(|_| RelayError::RelayClosed)?;
        w.waker.wake();
        Ok(())
    }

    pub fn stats(&self, id: u32) -> Result<SessionStats, RelayError> {
        let map = self
            .sessions
            .lock()
            .map_err(|_| RelayError::Io("session table poisoned".into()))?;
        let ctl = map.get(&id).ok_or(RelayError::SessionClosed(id))?;
        Ok(SessionStats {
            sides: [
                ctl.sides[0].shared.snapshot(),
                ctl.sides[1].shared.snapshot(),
            ],
        })
    }

    /// Closes a session: its worker closes the sockets, then the ports go back to the
    /// pool. Returns false when the session was already closed.
    pub fn close_session(&self, id: u32) -> Result<bool, RelayError> {
        let ctl = match self.sessions.lock() {
            Ok(mut m) => m.remove(&id),
            Err(_) => return Err(RelayError::Io("session table poisoned".into())),
        };
        let Some(ctl) = ctl else { return Ok(false) };
        let (reply, rx) = sync_channel(1);
        if self
            .send_to_worker(ctl.worker, Cmd::Close { id, reply })
            .is_ok()
        {
            // The ports are reused only once the worker has dropped the sockets.
            if rx.recv_timeout(REPLY_WAIT).is_err() {
                return Err(RelayError::Io(format!("worker did not close session {id}")));
            }
        }
        if let Ok(ws) = self.workers.lock() {
            if let Some(w) = ws.get(ctl.worker) {
                w.load.fetch_sub(1, Relaxed);
            }
        }
        for s in &ctl.sides {
            self.release_port(s.addr, s.rtp_port);
        }
        Ok(true)
    }

    /// Stops every thread and closes every socket. Safe to call twice.
    pub fn shutdown(&self) {
        if self.closed.swap(true, Relaxed) {
            return;
        }
        let mut workers = match self.workers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(_) => Vec::new(),
        };
        for w in &workers {
            let _ = w.tx.send(Cmd::Shutdown);
            w.waker.wake();
        }
        for w in workers.iter_mut() {
            if let Some(j) = w.join.take() {
                let _ = j.join();
            }
        }
        if let Ok(mut m) = self.sessions.lock() {
            for (_, ctl) in m.drain() {
                for s in &ctl.sides {
                    self.release_port(s.addr, s.rtp_port);
                }
            }
        }
        // Every worker has released its ports: stop steering packets to the relay.
        if let Some(sp) = self.shared.lock().ok().and_then(|mut s| s.take()) {
            sp.detach();
        }
        if let Some(tx) = self.hk_tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(HkMsg::Shutdown);
        }
        if let Some(j) = self.hk_join.lock().ok().and_then(|mut j| j.take()) {
            let _ = j.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shutdown();
    }
}
