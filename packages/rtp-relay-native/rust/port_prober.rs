//! Shared port mode: a thread that probes free port pairs ahead of demand, so that
//! `create_session` on the calling thread hands out ports without a system call. A probe
//! binds a pair's RTP and RTCP port and closes them at once, exactly as the calling thread
//! would (`port_mode::allocate`); a pair found bindable is stamped with the probe's time
//! and is handed out unprobed for `PROBE_MAX_AGE_NS`, a pair another program holds goes
//! to the tail of the free queue. The look-ahead follows demand: a few pairs when the
//! relay is quiet, the pairs of a few hundred milliseconds of creates under load. When
//! the prober falls behind, allocation probes inline as before.

use crate::pools::Pools;
use crate::port_mode::PROBE_MAX_AGE_NS;
use crate::sys::{bind_udp, now_ns};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Pairs kept probed per address however quiet the relay is.
pub const MIN_DEPTH: usize = 64;
/// A stamp older than this is renewed (well before it stops counting).
const REFRESH_NS: u64 = PROBE_MAX_AGE_NS / 2;
/// Period while sessions are being created, and while quiet.
const BUSY_PERIOD: Duration = Duration::from_millis(2);
const IDLE_PERIOD: Duration = Duration::from_millis(200);
/// Quiet after this long without an allocation.
const IDLE_AFTER_NS: u64 = 1_000_000_000;
/// Look-ahead: the pairs the recent peak demand takes in this long.
const AHEAD_NS: u64 = 100_000_000;
/// The peak demand halves every this long.
const PEAK_HALF_LIFE_NS: f64 = 500_000_000.0;
/// Pairs examined per hold of a pool's lock.
const CHUNK: usize = 128;

/// The result of probing one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Bindable,
    /// Another program holds the RTP or the RTCP port.
    Taken,
    /// Any other error (out of descriptors...): nothing learnt.
    Unknown,
}

/// Binds and closes `ip`:`port` and `port + 1`.
pub fn probe_pair(ip: IpAddr, port: u16) -> Probe {
    let one = |p: u16| bind_udp(SocketAddr::new(ip, p)).map(drop);
    match one(port).and_then(|_| one(port + 1)) {
        Ok(()) => Probe::Bindable,
        Err(e) if matches!(e.raw_os_error(), Some(libc::EADDRINUSE | libc::EACCES)) => Probe::Taken,
        Err(_) => Probe::Unknown,
    }
}

#[derive(Default)]
struct Bell {
    stop: Mutex<bool>,
    cv: Condvar,
    /// The prober sleeps its idle period: the next allocation wakes it.
    idle: AtomicBool,
}

/// Per address: demand seen and the look-ahead it asks for.
struct Demand {
    taken: u64,
    at_ns: u64,
    /// Recent peak of pairs taken per second, decaying.
    peak: f64,
}

impl Demand {
    fn update(&mut self, taken: u64, now: u64) {
        let dt = now.saturating_sub(self.at_ns).max(1) as f64;
        let rate = taken.saturating_sub(self.taken) as f64 * 1e9 / dt;
        self.peak = rate.max(self.peak * 0.5f64.powf(dt / PEAK_HALF_LIFE_NS));
        (self.taken, self.at_ns) = (taken, now);
    }

    fn depth(&self) -> usize {
        MIN_DEPTH.max((self.peak * AHEAD_NS as f64 / 1e9).ceil() as usize)
    }
}

pub struct Prober {
    pools: Arc<Pools>,
    ips: Vec<IpAddr>,
    bell: Arc<Bell>,
    demand: Vec<Demand>,
    last_taken_ns: u64,
    ports: Vec<u16>,
}

pub struct ProberHandle {
    bell: Arc<Bell>,
    join: Mutex<Option<JoinHandle<()>>>,
}

impl Prober {
    pub fn new(pools: Arc<Pools>, ips: Vec<IpAddr>) -> Prober {
        let demand = ips
            .iter()
            .map(|_| Demand {
                taken: 0,
                at_ns: now_ns(),
                peak: 0.0,
            })
            .collect();
        Prober {
            pools,
            ips,
            bell: Arc::new(Bell::default()),
            demand,
            last_taken_ns: 0,
            ports: Vec::new(),
        }
    }

    /// Starts the thread; the handle stops it.
    pub fn spawn(self) -> std::io::Result<ProberHandle> {
        let bell = self.bell.clone();
        let join = std::thread::Builder::new()
            .name("rtp-port-prober".into())
            .spawn(move || self.run())?;
        Ok(ProberHandle {
            bell,
            join: Mutex::new(Some(join)),
        })
    }

    fn run(mut self) {
        loop {
            let busy = self.round(now_ns());
            let period = if busy { BUSY_PERIOD } else { IDLE_PERIOD };
            let stop = match self.bell.stop.lock() {
                Ok(g) if !*g => g,
                _ => return,
            };
            // Under the lock: a `demand` that sees it set notifies once this thread waits.
            self.bell.idle.store(!busy, Ordering::SeqCst);
            let stop = match self.bell.cv.wait_timeout(stop, period) {
                Ok((g, _)) => *g,
                Err(_) => true,
            };
            if stop {
                return;
            }
        }
    }

    /// One pass over every address: probes the pairs of the look-ahead that have no
    /// recent stamp. True while sessions are being created.
    pub fn round(&mut self, now: u64) -> bool {
        for addr in 0..self.ips.len() {
            let Some(taken) = self.pools.lock(addr).map(|p| p.taken()) else {
                continue;
            };
            let d = &mut self.demand[addr];
            if taken > d.taken {
                self.last_taken_ns = now;
            }
            d.update(taken, now);
            let depth = d.depth();
            self.refresh(addr, depth);
        }
        self.last_taken_ns != 0 && now.saturating_sub(self.last_taken_ns) < IDLE_AFTER_NS
    }

    /// Probes, chunk by chunk, the first `depth` free pairs of `addr` with a stale stamp.
    fn refresh(&mut self, addr: usize, depth: usize) {
        let ip = self.ips[addr];
        let mut from = 0;
        while from < depth {
            let n = CHUNK.min(depth - from);
            let stale = now_ns().saturating_sub(REFRESH_NS);
            self.ports.clear();
            let left = match self.pools.lock(addr) {
                Some(p) => {
                    p.unprobed(from, n, stale, &mut self.ports);
                    p.free_count().saturating_sub(from + n)
                }
                None => return,
            };
            let mut results = Vec::with_capacity(self.ports.len());
            for &port in &self.ports {
                // Not a pair handed out since the chunk was read (its owner may bind it).
                if !self.pools.lock(addr).is_some_and(|p| p.is_free(port)) {
                    continue;
                }
                let at = now_ns();
                results.push((port, at, probe_pair(ip, port)));
            }
            if let Some(mut p) = self.pools.lock(addr) {
                for (port, at, r) in results {
                    if r != Probe::Unknown {
                        p.note_probe(port, at, r == Probe::Bindable);
                    }
                }
            }
            if left == 0 {
                return;
            }
            from += n;
        }
    }

    #[cfg(test)]
    fn depth(&self, addr: usize) -> usize {
        self.demand[addr].depth()
    }
}

impl ProberHandle {
    /// An allocation happened: wakes a prober sleeping its idle period (one wake-up per
    /// quiet spell; free of system calls otherwise).
    #[inline]
    pub fn demand(&self) {
        if self.bell.idle.load(Ordering::Relaxed) && self.bell.idle.swap(false, Ordering::SeqCst) {
            let _held = self.bell.stop.lock();
            self.bell.cv.notify_one();
        }
    }

    /// Stops the thread and waits for it. Safe to call twice.
    pub fn stop(&self) {
        if let Ok(mut s) = self.bell.stop.lock() {
            *s = true;
        }
        self.bell.cv.notify_one();
        if let Some(j) = self.join.lock().ok().and_then(|mut j| j.take()) {
            let _ = j.join();
        }
    }
}

impl Drop for ProberHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
#[path = "port_prober_tests.rs"]
mod tests;
