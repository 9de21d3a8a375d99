//! The session calls of the relay, made on the JS thread. None waits for a worker:
//! `create_session` binds and queues the session to the least loaded worker;
//! `set_remote` stores the spec in the session's `SessionControl` (the worker reads it
//! before the session's next packet) and deletes its kernel entries when the spec changed;
//! `close_session` deletes the kernel entries, queues the close and returns: the worker
//! closes the sockets and then gives the ports back (`Pools`).

use crate::config::{RemoteSpec, SessionOptions};
use crate::error::RelayError;
use crate::port_mode::{allocate, make_sock, Alloc};
use crate::relay::{Relay, SessionCtl, SessionInfo, SessionStats, SideCtl, SideInfo};
use crate::session::{Session, Side};
use crate::session_ctl::RemoteChange;
use crate::stats::SideShared;
use crate::sys::now_ns;
use crate::worker::Cmd;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

fn poisoned(what: &str) -> RelayError {
    RelayError::Io(format!("{what} poisoned"))
}

/// Every relay port of a session: (local address index, port, side, rtcp).
fn session_ports(s: &Session) -> [Option<(usize, u16, usize, bool)>; 4] {
    let [a, b] = &s.sides;
    let rtcp = |x: &Side, i: usize| x.rtcp.as_ref().map(|r| (x.addr, r.local.port(), i, true));
    [
        Some((a.addr, a.rtp.local.port(), 0, false)),
        rtcp(a, 0),
        Some((b.addr, b.rtp.local.port(), 1, false)),
        rtcp(b, 1),
    ]
}

impl Relay {
    fn check_open(&self) -> Result<(), RelayError> {
        if self.closed.load(Relaxed) {
            Err(RelayError::RelayClosed)
        } else {
            Ok(())
        }
    }

    fn try_bind_side(&self, addr: usize, mux_only: bool) -> Result<Alloc, RelayError> {
        if let Some(p) = &self.prober {
            p.demand();
        }
        let pool = self.pools.lock(addr).ok_or_else(|| poisoned("port pool"))?;
        allocate(&self.cfg, pool, addr, mux_only, !self.port_mode.shared)
    }

    /// Allocates a side's ports; an empty pool first waits for the queued closes.
    fn bind_side(&self, addr: usize, mux_only: bool) -> Result<Alloc, RelayError> {
        match self.try_bind_side(addr, mux_only) {
            Err(RelayError::PortsExhausted(_)) if self.wait_closes() => {
                self.try_bind_side(addr, mux_only)
            }
            r => r,
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
        let [oa, ob] = &opts.sides;
        let a = self.bind_side(oa.address_index, oa.rtcp_mux_only)?;
        let b = match self.bind_side(ob.address_index, ob.rtcp_mux_only) {
            Ok(b) => b,
            Err(e) => {
                let port = a.port;
                drop(a);
                self.pools.release(oa.address_index, port);
                return Err(e);
            }
        };
        let ports = [(a.port, oa.address_index), (b.port, ob.address_index)];
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
                    self.pools.release(addr, port);
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
            .map_err(|_| poisoned("session table"))?;
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
            rtcp: s.rtcp.is_some(),
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
        let mut session = session;
        let control = session.control.clone();
        let workers = self.workers.lock().map_err(|_| poisoned("worker table"))?;
        let (wi, w) = workers
            .iter()
            .enumerate()
            .min_by_key(|(_, w)| w.load.load(Relaxed))
            .ok_or(RelayError::RelayClosed)?;
        let slot = w.slots.lock().map_err(|_| poisoned("slots"))?.take();
        session.slot = slot;
        let shared = self.shared.lock().ok().and_then(|s| s.clone());
        let claims = shared.as_ref().map(|_| session_ports(&session));
        if w.tx.send(Cmd::Add(session)).is_err() {
            // The worker is gone: the session (and its sockets) were dropped with the command.
            for (port, addr) in ports {
                self.pools.release(addr, port);
            }
            return Err(RelayError::RelayClosed);
        }
        w.waker.ring_soon();
        w.load.fetch_add(1, Relaxed);
        // Shared ports steer to the worker once claimed: after its Add is queued, before
        // create returns (the worker runs queued commands before the datagrams it reads).
        if let (Some(sp), Some(claims)) = (shared, claims) {
            for (addr, port, side, rtcp) in claims.into_iter().flatten() {
                // A failed map update leaves the port silent; the session times out.
                sp.claim(addr, port, (wi, slot, side, rtcp));
            }
        }
        map.insert(
            id,
            SessionCtl {
                worker: wi,
                sides: sides_ctl,
                control,
            },
        );
        Ok(info)
    }

    /// Sets a side's remote. When this returns, the session's next packet (on whichever
    /// worker reads it) is handled with `spec`, and a changed spec has no kernel entry left.
    pub fn set_remote(&self, id: u32, side: usize, spec: RemoteSpec) -> Result<(), RelayError> {
        self.check_open()?;
        let map = self
            .sessions
            .lock()
            .map_err(|_| poisoned("session table"))?;
        let ctl = map.get(&id).ok_or(RelayError::SessionClosed(id))?;
        let sc = &ctl.sides[side];
        if self.cfg.addresses[sc.addr].ip.is_ipv4() != spec.rtp.is_ipv4() {
            return Err(RelayError::BadAddress(format!(
                "{} is not of the side's address family",
                spec.rtp.ip()
            )));
        }
        let change = ctl
            .control
            .set_remote(side, spec, sc.rtcp, self.kernel.as_deref());
        if change == RemoteChange::Relatch {
            // The worker clears it too when it applies the spec; stats see it at once.
            if let Ok(mut g) = sc.shared.latched.lock() {
                *g = None;
            }
        }
        Ok(())
    }

    pub fn stats(&self, id: u32) -> Result<SessionStats, RelayError> {
        let map = self
            .sessions
            .lock()
            .map_err(|_| poisoned("session table"))?;
        let ctl = map.get(&id).ok_or(RelayError::SessionClosed(id))?;
        Ok(SessionStats {
            sides: [
                ctl.sides[0].shared.snapshot(),
                ctl.sides[1].shared.snapshot(),
            ],
        })
    }

    /// Closes a session: its kernel entries are gone when this returns; its worker closes
    /// the sockets and then gives the ports back to the pool. False when already closed.
    pub fn close_session(&self, id: u32) -> Result<bool, RelayError> {
        let ctl = match self.sessions.lock() {
            Ok(mut m) => m.remove(&id),
            Err(_) => return Err(poisoned("session table")),
        };
        let Some(ctl) = ctl else { return Ok(false) };
        ctl.control.close(self.kernel.as_deref());
        let workers = self.workers.lock().map_err(|_| poisoned("worker table"))?;
        let queued = match workers.get(ctl.worker) {
            Some(w) => {
                w.load.fetch_sub(1, Relaxed);
                self.pools.close_queued();
                let sent = w.tx.send(Cmd::Close(id)).is_ok();
                if sent {
                    w.waker.ring_soon();
                } else {
                    self.pools.close_done();
                }
                sent
            }
            None => false,
        };
        if !queued {
            // No worker (the relay is shutting down): the sockets went with it.
            for s in &ctl.sides {
                self.pools.release(s.addr, s.rtp_port);
            }
        }
        Ok(true)
    }
}
