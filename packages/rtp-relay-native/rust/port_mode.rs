//! The relay's port mode: a UDP socket per port (`sockets`), or shared sockets fed by the
//! sk_lookup program with raw sends (`shared`, see `shared_ports`). Chosen once at start;
//! allocation of a side's ports differs only in whether the sockets are kept.

use crate::config::{PortModeOption, RelayConfig};
use crate::error::RelayError;
use crate::port_pool::PortPool;
use crate::session::Sock;
use crate::shared_ports::{SharedPorts, WorkerSockets};
use crate::sys::{bind_udp, now_ns};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::{Arc, MutexGuard};

/// How relay ports receive, and why.
#[derive(Debug, Clone)]
pub struct PortMode {
    pub shared: bool,
    pub reason: String,
}

/// The chosen mode, the shared-port state and each worker's sockets (shared mode only).
pub type Chosen = (
    PortMode,
    Option<Arc<SharedPorts>>,
    Vec<Option<WorkerSockets>>,
);

/// Shared ports when asked for or (auto) when available; the reason either way.
pub fn choose(cfg: &RelayConfig) -> Result<Chosen, RelayError> {
    let sockets = |reason: String| PortMode {
        shared: false,
        reason,
    };
    if cfg.port_mode == PortModeOption::Sockets {
        return Ok((
            sockets("portMode 'sockets' requested".into()),
            None,
            Vec::new(),
        ));
    }
    match SharedPorts::open(cfg) {
        Ok((sp, socks)) => {
            let mode = PortMode {
                shared: true,
                reason: sp.description().to_string(),
            };
            Ok((
                mode,
                Some(Arc::new(sp)),
                socks.into_iter().map(Some).collect(),
            ))
        }
        Err(why) if cfg.port_mode == PortModeOption::Shared => {
            Err(RelayError::Unsupported(format!("shared port mode: {why}")))
        }
        Err(why) => Ok((
            sockets(format!("shared ports unavailable: {why}")),
            None,
            Vec::new(),
        )),
    }
}

/// One side's ports as allocated: sockets in per-port mode, none in shared mode.
pub struct Alloc {
    pub port: u16,
    pub rtp: Option<OwnedFd>,
    pub rtcp: Option<OwnedFd>,
    pub mux_only: bool,
}

/// How recent a prober's probe must be for a pair to be handed out without probing again.
pub const PROBE_MAX_AGE_NS: u64 = 1_000_000_000;

/// Allocates one side's RTP (even) and, unless single-port, RTCP (odd) port on local
/// address `addr`. With `keep`, the bound sockets are the side's (per-port mode);
/// without, the bind is only a probe, closed at once, so that ports another program
/// holds are skipped in shared mode too while a session costs no descriptor. A pair the
/// prober (`port_prober`) found bindable within `PROBE_MAX_AGE_NS` needs no probe.
pub fn allocate(
    cfg: &RelayConfig,
    mut pool: MutexGuard<'_, PortPool>,
    addr: usize,
    mux_only: bool,
    keep: bool,
) -> Result<Alloc, RelayError> {
    let ip = cfg.addresses[addr].ip;
    let now = if keep { 0 } else { now_ns() };
    let got = pool.allocate_with(
        |port, probed_at| -> std::io::Result<(Option<OwnedFd>, Option<OwnedFd>)> {
            if !keep && probed_at != 0 && now.saturating_sub(probed_at) < PROBE_MAX_AGE_NS {
                return Ok((None, None));
            }
            let rtp = bind_udp(SocketAddr::new(ip, port))?;
            let rtcp = if mux_only {
                None
            } else {
                Some(bind_udp(SocketAddr::new(ip, port + 1))?)
            };
            Ok(if keep {
                (Some(rtp), rtcp)
            } else {
                (None, None)
            })
        },
        |e| {
            matches!(
                e.raw_os_error(),
                Some(libc::EADDRINUSE) | Some(libc::EACCES)
            )
        },
    );
    match got {
        Ok((port, (rtp, rtcp))) => Ok(Alloc {
            port,
            rtp,
            rtcp,
            mux_only,
        }),
        Err(None) => Err(RelayError::PortsExhausted(ip.to_string())),
        Err(Some(e)) => Err(RelayError::Bind(format!(
            "{ip} ports {}-{}: {e}",
            cfg.port_min, cfg.port_max
        ))),
    }
}

/// A side's socket: the bound one (per-port mode) or just its address (shared mode). The
/// socket was bound to exactly `ip`:`port`, so its local address needs no system call.
pub fn make_sock(fd: Option<OwnedFd>, ip: IpAddr, port: u16) -> Result<Sock, RelayError> {
    Ok(Sock::new(fd, SocketAddr::new(ip, port)))
}
