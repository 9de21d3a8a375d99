//! What the calling (JS) thread, a session's worker and the housekeeper share about one
//! session besides its counters: the remote specs set by `set_remote`, which the worker picks
//! up before its next packet of the session (one atomic load per packet, no round trip), and
//! the gate that keeps the session's kernel entries out of the map once it is closed or
//! re-pointed. The calling thread deletes installed entries itself, so when `set_remote` or
//! `close_session` returns, the kernel forwards nothing more with the old spec.

use crate::config::RemoteSpec;
use crate::kernel::{Backend, Flow};
use crate::stats::SideShared;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A kernel entry's key: the arriving packet's source and our local socket address.
pub type FlowKeyAddrs = (SocketAddr, SocketAddr);

#[derive(Default)]
pub struct SessionControl {
    /// Generation of the remote specs: the worker compares it with the one it applied.
    generation: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    generation: u64,
    /// The last spec set per side, and the ones the worker has not taken yet.
    current: [Option<RemoteSpec>; 2],
    pending: [Option<RemoteSpec>; 2],
    closed: bool,
    /// Entries in the kernel map for this session, with the side they count for.
    installed: Vec<(FlowKeyAddrs, Arc<SideShared>)>,
}

impl State {
    fn uninstall(&mut self, fast: Option<&Backend>) {
        for (key, ingress) in self.installed.drain(..) {
            if let Some(fast) = fast {
                fast.remove(&key);
            }
            ingress.kernel.store(false, Ordering::Relaxed);
        }
    }
}

/// What a `set_remote` changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteChange {
    /// The same spec as before: nothing to do.
    Same,
    /// A new spec that keeps the latch (only rtcp-mux or an unused RTCP port changed).
    Kept,
    /// A new address: the side learns its source again.
    Relatch,
}

impl SessionControl {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below leaves the state consistent, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Calling thread: the new remote of `side` (`rtcp` when the side has an RTCP port).
    /// A changed spec removes the session's kernel entries at once; the worker applies
    /// the spec before it handles the session's next packet.
    pub fn set_remote(
        &self,
        side: usize,
        spec: RemoteSpec,
        rtcp: bool,
        fast: Option<&Backend>,
    ) -> RemoteChange {
        let mut st = self.lock();
        let prev = st.current[side];
        if prev == Some(spec) || st.closed {
            return RemoteChange::Same;
        }
        st.current[side] = Some(spec);
        st.pending[side] = Some(spec);
        st.generation += 1;
        self.generation.store(st.generation, Ordering::Release);
        st.uninstall(fast);
        match prev {
            Some(p) if p.rtp == spec.rtp && (!rtcp || p.rtcp_addr() == spec.rtcp_addr()) => {
                RemoteChange::Kept
            }
            _ => RemoteChange::Relatch,
        }
    }

    /// Worker, per packet: the generation of the specs set so far.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Worker: the specs set since it last took them, their generation, and whether the
    /// session was closed (then nothing more of it is forwarded).
    pub fn take_pending(&self) -> (u64, [Option<RemoteSpec>; 2], bool) {
        let mut st = self.lock();
        (st.generation, std::mem::take(&mut st.pending), st.closed)
    }

    /// Calling thread: no kernel entry of the session stays or is installed from now on,
    /// and the worker forwards none of its packets from its next one on (a new generation
    /// makes it look at the state before that packet).
    pub fn close(&self, fast: Option<&Backend>) {
        let mut st = self.lock();
        st.closed = true;
        st.generation += 1;
        self.generation.store(st.generation, Ordering::Release);
        st.uninstall(fast);
    }

    /// Housekeeper: installs `flow` unless the session closed or its remotes changed since
    /// the worker computed it. True when the entry is in the map.
    pub fn install(&self, flow: &Flow, fast: &Backend) -> bool {
        let mut st = self.lock();
        if st.closed || st.generation != flow.generation || !fast.install(flow) {
            return false;
        }
        flow.ingress.kernel.store(true, Ordering::Relaxed);
        st.installed.retain(|(k, _)| *k != flow.key);
        st.installed.push((flow.key, flow.ingress.clone()));
        true
    }

    /// Housekeeper: removes the entry for `key` unless the calling thread already did.
    pub fn remove(&self, key: &FlowKeyAddrs, fast: &Backend) {
        let mut st = self.lock();
        if let Some(i) = st.installed.iter().position(|(k, _)| k == key) {
            let (_, ingress) = st.installed.swap_remove(i);
            fast.remove(key);
            ingress.kernel.store(false, Ordering::Relaxed);
        }
    }

    /// How many kernel entries the session has (for tests and stats).
    pub fn installed(&self) -> usize {
        self.lock().installed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rtp: &str, mux: bool) -> RemoteSpec {
        RemoteSpec {
            rtp: rtp.parse().unwrap(),
            rtcp: None,
            rtcp_mux: mux,
        }
    }

    #[test]
    fn a_new_spec_bumps_the_generation_and_waits_for_the_worker() {
        let c = SessionControl::default();
        assert_eq!(c.generation(), 0);
        let s = spec("192.0.2.1:4000", false);
        assert_eq!(c.set_remote(1, s, true, None), RemoteChange::Relatch);
        assert_eq!(c.generation(), 1);
        assert_eq!(c.set_remote(1, s, true, None), RemoteChange::Same);
        assert_eq!(c.generation(), 1, "the same spec changes nothing");
        assert_eq!(c.take_pending(), (1, [None, Some(s)], false));
        assert_eq!(c.take_pending(), (1, [None, None], false), "taken once");
    }

    #[test]
    fn a_close_is_a_new_generation_the_worker_sees_as_closed() {
        let c = SessionControl::default();
        let s = spec("192.0.2.1:4000", false);
        c.set_remote(0, s, true, None);
        c.close(None);
        assert_eq!(c.generation(), 2, "the worker looks before its next packet");
        assert_eq!(c.take_pending(), (2, [Some(s), None], true));
        let moved = spec("192.0.2.9:4000", false);
        assert_eq!(
            c.set_remote(0, moved, true, None),
            RemoteChange::Same,
            "closed: ignored"
        );
    }

    #[test]
    fn only_an_address_change_restarts_the_latch() {
        let c = SessionControl::default();
        c.set_remote(0, spec("192.0.2.1:4000", false), true, None);
        let muxed = spec("192.0.2.1:4000", true);
        assert_eq!(c.set_remote(0, muxed, true, None), RemoteChange::Kept);
        let other_rtcp = RemoteSpec {
            rtcp: Some("192.0.2.1:5000".parse().unwrap()),
            ..muxed
        };
        assert_eq!(c.set_remote(0, other_rtcp, false, None), RemoteChange::Kept);
        assert_eq!(c.set_remote(0, other_rtcp, false, None), RemoteChange::Same);
        let moved = spec("192.0.2.9:4000", true);
        assert_eq!(c.set_remote(0, moved, false, None), RemoteChange::Relatch);
    }

    #[test]
    fn a_closed_session_takes_no_new_spec() {
        let c = SessionControl::default();
        c.close(None);
        assert_eq!(
            c.set_remote(0, spec("192.0.2.1:4000", false), true, None),
            RemoteChange::Same
        );
        assert_eq!(c.generation(), 1, "only the close counted");
    }
}
