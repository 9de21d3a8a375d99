//! The control side of the relay: port pools, session table, worker and housekeeper
//! threads, and the port mode (a socket per port, or shared sockets fed by sk_lookup).
//! Called from the JS thread through the binding; never on the packet path, and never
//! waiting for a worker on the way (see `relay_sessions` for the session calls).

use crate::config::RelayConfig;
use crate::doorbell::Doorbell;
use crate::error::RelayError;
use crate::events::EventSink;
use crate::kernel::{Backend, HkMsg, Housekeeper, Mode};
use crate::pools::Pools;
use crate::port_mode;
use crate::port_pool::PortPool;
use crate::port_prober::{Prober, ProberHandle};
use crate::session_ctl::SessionControl;
use crate::shared_ports::SharedPorts;
use crate::stats::{SideShared, SideSnapshot};
use crate::sys::{now_ns, raise_nofile_limit, wall_ms};
use crate::worker::{Cmd, SharedIo, Slots, Worker};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{channel, sync_channel, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The longest a call waits for queued closes (pool exhausted, `info`).
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(5);

pub(crate) struct WorkerHandle {
    pub(crate) tx: Sender<Cmd>,
    pub(crate) waker: Arc<Doorbell>,
    join: Option<JoinHandle<()>>,
    pub(crate) load: AtomicUsize,
    /// The worker's session slots: taken here, given back by the worker.
    pub(crate) slots: Arc<Mutex<Slots>>,
}

pub(crate) struct SideCtl {
    pub(crate) addr: usize,
    pub(crate) rtp_port: u16,
    /// The side has an RTCP port (not single-port rtcp-mux).
    pub(crate) rtcp: bool,
    pub(crate) shared: Arc<SideShared>,
}

pub(crate) struct SessionCtl {
    pub(crate) worker: usize,
    pub(crate) sides: [SideCtl; 2],
    pub(crate) control: Arc<SessionControl>,
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
    pub(crate) cfg: RelayConfig,
    pub(crate) pools: Arc<Pools>,
    pub(crate) workers: Mutex<Vec<WorkerHandle>>,
    pub(crate) sessions: Mutex<HashMap<u32, SessionCtl>>,
    hk_tx: Mutex<Option<Sender<HkMsg>>>,
    hk_join: Mutex<Option<JoinHandle<()>>>,
    pub(crate) next_id: AtomicU32,
    pub(crate) closed: AtomicBool,
    mode: Mode,
    /// The kernel path, shared with the housekeeper: entries are deleted on this thread.
    pub(crate) kernel: Option<Arc<Backend>>,
    pub(crate) port_mode: PortMode,
    /// Shared port mode: the port table, claimed for a session before create returns.
    pub(crate) shared: Mutex<Option<Arc<SharedPorts>>>,
    /// Shared port mode: probes free pairs ahead of `create_session`.
    pub(crate) prober: Option<ProberHandle>,
    nofile_limit: Option<u64>,
    /// Monotonic ns and wall-clock ms at start, to report last-packet times as wall time.
    epoch: (u64, u64),
}

pub(crate) fn io_err(e: std::io::Error) -> RelayError {
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
            .map(|_| PortPool::new(cfg.port_min, cfg.port_max))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                RelayError::BadOption("ports: the range holds no even/odd pair".into())
            })?;
        let pools = Arc::new(Pools::new(pools));
        let (hk_tx, hk_rx) = channel();
        let (mode_tx, mode_rx) = sync_channel(1);
        let (kcfg, poll) = (cfg.kernel.clone(), cfg.kernel_poll_ms);
        // The kernel path is opened inside its own thread, which then owns it alone.
        let hk_join = std::thread::Builder::new()
            .name("rtp-housekeeper".into())
            .spawn(move || {
                let (hk, mode, fast) = Housekeeper::new(hk_rx, sink, &kcfg, poll);
                let _ = mode_tx.send((mode, fast));
                hk.run();
            })
            .map_err(io_err)?;
        let (mode, kernel) = mode_rx
            .recv()
            .map_err(|_| RelayError::Io("housekeeper thread died".into()))?;
        let (port_mode, shared, mut worker_socks) = port_mode::choose(&cfg)?;
        let prober = match port_mode.shared {
            true => {
                let ips = cfg.addresses.iter().map(|a| a.ip).collect();
                Some(Prober::new(pools.clone(), ips).spawn().map_err(io_err)?)
            }
            false => None,
        };
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
            let waker = Arc::new(Doorbell::new().map_err(io_err)?);
            let slots = Arc::new(Mutex::new(Slots::default()));
            let w = Worker::new(
                rx,
                waker.clone(),
                hk_tx.clone(),
                pools.clone(),
                slots.clone(),
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
                slots,
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
            kernel,
            port_mode,
            shared: Mutex::new(shared),
            prober,
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

    /// Waits (at most `CLOSE_WAIT`) for the queued closes, waking the workers at once.
    /// False when no close was queued.
    pub(crate) fn wait_closes(&self) -> bool {
        if !self.pools.has_pending() {
            return false;
        }
        if let Ok(ws) = self.workers.lock() {
            for w in ws.iter() {
                w.waker.ring_now();
            }
        }
        self.pools.wait_closes(CLOSE_WAIT);
        true
    }

    /// Counts after every queued close is done (a short wait right after closes).
    pub fn info(&self) -> RelayInfo {
        self.wait_closes();
        let (total, free) = self.pools.counts();
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

    /// Shared port mode: how many ports the sk_lookup program steers to a worker now.
    pub fn claimed_ports(&self) -> Option<usize> {
        let sp = self.shared.lock().ok()?.clone()?;
        Some(sp.claimed())
    }

    /// Shared port mode: whether claiming a port is a store into the mapped port map.
    pub fn claims_mapped(&self) -> Option<bool> {
        let sp = self.shared.lock().ok()?.clone()?;
        Some(sp.mapped())
    }

    /// Stops every thread and closes every socket. Safe to call twice.
    pub fn shutdown(&self) {
        if self.closed.swap(true, Relaxed) {
            return;
        }
        if let Some(p) = &self.prober {
            p.stop();
        }
        let mut workers = match self.workers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(_) => Vec::new(),
        };
        for w in &workers {
            let _ = w.tx.send(Cmd::Shutdown);
            w.waker.ring_now();
        }
        for w in workers.iter_mut() {
            if let Some(j) = w.join.take() {
                let _ = j.join();
            }
        }
        // The workers closed their sessions and gave the ports back.
        if let Ok(mut m) = self.sessions.lock() {
            for (_, ctl) in m.drain() {
                ctl.control.close(self.kernel.as_deref());
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
