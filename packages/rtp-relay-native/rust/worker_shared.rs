//! The shared-port read path of a worker: datagrams for any owned relay port arrive on the
//! worker's shared sockets, their original destination names the session side, and
//! forwarded packets leave in a batch through raw sockets.

use crate::session::Ctx;
use crate::shared_io::{orig_dst, RawQueue, RawSender};
use crate::shared_ports::{SharedPorts, WorkerSockets};
use crate::sys::{now_ns, BATCH};
use crate::worker::{Worker, READS_PER_TURN};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

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

    pub fn rx_fds(&self) -> [Option<RawFd>; 2] {
        self.rx
            .each_ref()
            .map(|f| f.as_ref().map(|f| f.as_raw_fd()))
    }
}

impl Worker {
    /// Shared port mode: datagrams for any owned port of family `fam`. False when a
    /// command read on the way asks the worker to stop.
    pub(crate) fn on_shared_readable(&mut self, fam: usize) -> bool {
        let Some(fd) = self.shared.as_ref().and_then(|sh| sh.rx_fds()[fam]) else {
            return true;
        };
        for _ in 0..READS_PER_TURN {
            let n = match self.batch.recv(fd) {
                Ok(n) => n,
                Err(_) => return true,
            };
            // A session's ports are claimed by the calling thread after its Add is queued:
            // run the queued commands so every session these datagrams are for is here.
            if !self.on_commands() {
                return false;
            }
            self.on_shared_batch(n);
            if n < BATCH {
                return true;
            }
        }
        true
    }

    /// The original destination names the session side (O(1) through the port table).
    fn on_shared_batch(&mut self, n: usize) {
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
            if !sess.sync_remotes(&mut ctx) {
                continue;
            }
            sess.sides[side].note_local(rtcp, dst.ip());
            sess.on_datagram(side, rtcp, buf, src, truncated, &mut ctx, &mut sh.tx);
        }
        sh.tx.flush(|slot, side, len, sent| {
            if let Some(Some(s)) = sessions.get_mut(slot as usize) {
                s.account_send(side as usize, len, sent);
            }
        });
    }
}
