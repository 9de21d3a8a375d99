//! The housekeeper thread: it batches events for the sink, installs/removes the kernel
//! entries that workers ask for (through each session's `SessionControl` gate, so a closed or
//! re-pointed session gets none) and polls kernel counters into stats. The kernel path is
//! shared with the relay, which deletes a session's entries itself on close and set_remote.

use crate::config::KernelConfig;
use crate::events::{Event, EventSink};
use crate::session_ctl::SessionControl;
use crate::stats::{bump, SideShared};
use crate::sys::now_ns;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// One direction of a latched stream, keyed by the packet as it arrives.
#[derive(Clone)]
pub struct Flow {
    /// Source of arriving packets (the latched remote) and our local socket address.
    pub key: (SocketAddr, SocketAddr),
    /// Our outgoing socket address and the other side's latched remote.
    pub action: (SocketAddr, SocketAddr),
    pub ingress: Arc<SideShared>,
    pub egress: Arc<SideShared>,
    /// The session's gate, and the generation of its remote specs the flow was computed at.
    pub control: Arc<SessionControl>,
    pub generation: u64,
}

pub use backend::Backend;

pub enum HkMsg {
    Events(Vec<Event>),
    Install(Vec<Flow>),
    Remove(Vec<(SocketAddr, SocketAddr)>),
    Shutdown,
}

/// What the relay runs on: the kernel path, or userspace with the reason.
#[derive(Debug, Clone)]
pub struct Mode {
    pub kernel: bool,
    pub reason: String,
}

struct Installed {
    flow: Flow,
    packets: u64,
    bytes: u64,
}

/// Batching delay: events closer together than this go to JS in one call.
const COALESCE_NS: u64 = 2_000_000;

pub struct Housekeeper {
    rx: Receiver<HkMsg>,
    sink: EventSink,
    fast: Option<Arc<Backend>>,
    flows: HashMap<(SocketAddr, SocketAddr), Installed>,
    pending: Vec<Event>,
    first_pending_ns: u64,
    poll_ns: u64,
}

impl Housekeeper {
    /// Opens the kernel path (when enabled and compiled in) and reports the mode.
    pub fn new(
        rx: Receiver<HkMsg>,
        sink: EventSink,
        cfg: &KernelConfig,
        poll_ms: u64,
    ) -> (Housekeeper, Mode, Option<Arc<Backend>>) {
        let (fast, mode) = if cfg.enabled {
            match Backend::open(cfg) {
                Ok((b, desc)) => (
                    Some(Arc::new(b)),
                    Mode {
                        kernel: true,
                        reason: desc,
                    },
                ),
                Err(reason) => (
                    None,
                    Mode {
                        kernel: false,
                        reason,
                    },
                ),
            }
        } else {
            (
                None,
                Mode {
                    kernel: false,
                    reason: "kernel fast path disabled by option".into(),
                },
            )
        };
        let hk = Housekeeper {
            rx,
            sink,
            fast: fast.clone(),
            flows: HashMap::new(),
            pending: Vec::new(),
            first_pending_ns: 0,
            poll_ns: poll_ms.max(10) * 1_000_000,
        };
        (hk, mode, fast)
    }

    pub fn run(mut self) {
        let mut next_poll = now_ns() + self.poll_ns;
        loop {
            let now = now_ns();
            let mut deadline = next_poll;
            if !self.pending.is_empty() {
                deadline = deadline.min(self.first_pending_ns + COALESCE_NS);
            }
            let wait = Duration::from_nanos(deadline.saturating_sub(now));
            match self.rx.recv_timeout(wait) {
                Ok(HkMsg::Events(evs)) => self.queue(evs),
                Ok(HkMsg::Install(flows)) => self.install(flows),
                Ok(HkMsg::Remove(keys)) => self.remove(&keys),
                Ok(HkMsg::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = now_ns();
            if !self.pending.is_empty() && now >= self.first_pending_ns + COALESCE_NS {
                self.flush();
            }
            if now >= next_poll {
                self.poll_counters(now);
                next_poll = now + self.poll_ns;
            }
        }
        while let Ok(msg) = self.rx.try_recv() {
            if let HkMsg::Events(evs) = msg {
                self.queue(evs);
            }
        }
        self.flush();
        let keys: Vec<_> = self.flows.keys().copied().collect();
        self.remove(&keys);
    }

    fn queue(&mut self, evs: Vec<Event>) {
        if self.pending.is_empty() {
            self.first_pending_ns = now_ns();
        }
        self.pending.extend(evs);
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            (self.sink)(std::mem::take(&mut self.pending));
        }
    }

    fn install(&mut self, flows: Vec<Flow>) {
        let Some(fast) = &self.fast else { return };
        for flow in flows {
            if flow.control.install(&flow, fast) {
                self.flows.insert(
                    flow.key,
                    Installed {
                        flow,
                        packets: 0,
                        bytes: 0,
                    },
                );
            }
        }
    }

    fn remove(&mut self, keys: &[(SocketAddr, SocketAddr)]) {
        for key in keys {
            if let (Some(inst), Some(fast)) = (self.flows.remove(key), &self.fast) {
                inst.flow.control.remove(key, fast);
            }
        }
    }

    /// Adds the kernel's per-entry counters (deltas since the last poll) into the stats
    /// of both sides and moves the ingress side's last-packet time.
    fn poll_counters(&mut self, now: u64) {
        let Some(fast) = &self.fast else { return };
        for inst in self.flows.values_mut() {
            let Some((packets, bytes)) = fast.counters(&inst.flow.key) else {
                continue;
            };
            let dp = packets.saturating_sub(inst.packets);
            let db = bytes.saturating_sub(inst.bytes);
            inst.packets = packets;
            inst.bytes = bytes;
            if dp > 0 {
                // The poller is the only writer of the kernel_* fields.
                bump(&inst.flow.ingress.kernel_packets_in, dp);
                bump(&inst.flow.ingress.kernel_bytes_in, db);
                bump(&inst.flow.egress.kernel_packets_out, dp);
                bump(&inst.flow.egress.kernel_bytes_out, db);
                inst.flow.ingress.last_packet_ns.fetch_max(now, Relaxed);
            }
        }
    }
}

#[cfg(feature = "kernel")]
mod backend {
    use super::Flow;
    use crate::config::KernelConfig;
    use std::net::SocketAddr;
    use switchboard_rtp_kernel::{FlowAction, FlowKey, KernelOptions, KernelPath};

    pub struct Backend(KernelPath);

    impl Backend {
        pub fn open(cfg: &KernelConfig) -> Result<(Backend, String), String> {
            let opts = KernelOptions {
                interfaces: cfg.interfaces.clone(),
                max_entries: cfg.max_entries,
            };
            match KernelPath::open(&opts) {
                Ok(p) => {
                    let desc = p.mode_description();
                    Ok((Backend(p), desc))
                }
                Err(e) => Err(e.to_string()),
            }
        }

        pub fn install(&self, f: &Flow) -> bool {
            let key = FlowKey {
                src: f.key.0,
                dst: f.key.1,
            };
            let action = FlowAction {
                src: f.action.0,
                dst: f.action.1,
            };
            self.0.install(&key, &action).is_ok()
        }

        pub fn remove(&self, key: &(SocketAddr, SocketAddr)) {
            let _ = self.0.remove(&FlowKey {
                src: key.0,
                dst: key.1,
            });
        }

        pub fn counters(&self, key: &(SocketAddr, SocketAddr)) -> Option<(u64, u64)> {
            self.0
                .counters(&FlowKey {
                    src: key.0,
                    dst: key.1,
                })
                .map(|c| (c.packets, c.bytes))
        }
    }
}

#[cfg(not(feature = "kernel"))]
mod backend {
    use super::Flow;
    use crate::config::KernelConfig;
    use std::net::SocketAddr;

    pub struct Backend;

    impl Backend {
        pub fn open(_cfg: &KernelConfig) -> Result<(Backend, String), String> {
            Err("built without the kernel feature".into())
        }
        pub fn install(&self, _f: &Flow) -> bool {
            false
        }
        pub fn remove(&self, _key: &(SocketAddr, SocketAddr)) {}
        pub fn counters(&self, _key: &(SocketAddr, SocketAddr)) -> Option<(u64, u64)> {
            None
        }
    }
}
