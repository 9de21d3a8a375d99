//! The relay's port pools, shared by the calling thread (which allocates) and the workers
//! (which give a closed session's ports back once its sockets are closed, or its shared-port
//! claims released), and the count of closes queued to workers but not done yet.
//! `close_session` does not wait for its worker: a port is handed out again only after the
//! worker has released it, and an allocation that finds the pool empty waits for the
//! pending closes first.

use crate::port_pool::PortPool;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub struct Pools {
    /// One pool per configured local address.
    pools: Vec<Mutex<PortPool>>,
    /// Closes queued to workers and not done yet.
    pending: Mutex<usize>,
    done: Condvar,
}

impl Pools {
    pub fn new(pools: Vec<PortPool>) -> Pools {
        Pools {
            pools: pools.into_iter().map(Mutex::new).collect(),
            pending: Mutex::new(0),
            done: Condvar::new(),
        }
    }

    pub fn lock(&self, addr: usize) -> Option<MutexGuard<'_, PortPool>> {
        self.pools.get(addr)?.lock().ok()
    }

    /// Total and free pairs over every address.
    pub fn counts(&self) -> (usize, usize) {
        self.pools.iter().fold((0, 0), |(t, f), p| match p.lock() {
            Ok(p) => (t + p.capacity(), f + p.free_count()),
            Err(_) => (t, f),
        })
    }

    pub fn release(&self, addr: usize, rtp_port: u16) {
        if let Some(mut p) = self.lock(addr) {
            p.release(rtp_port);
        }
    }

    fn pending(&self) -> MutexGuard<'_, usize> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A close was queued to a worker.
    pub fn close_queued(&self) {
        *self.pending() += 1;
    }

    /// A queued close is done: its ports are back in the pool.
    pub fn close_done(&self) {
        let mut n = self.pending();
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.done.notify_all();
        }
    }

    pub fn has_pending(&self) -> bool {
        *self.pending() > 0
    }

    /// Waits (at most `limit`) until every queued close is done. False when none was pending.
    pub fn wait_closes(&self, limit: Duration) -> bool {
        let mut n = self.pending();
        if *n == 0 {
            return false;
        }
        let deadline = Instant::now() + limit;
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            n = match self.done.wait_timeout(n, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn waiting_for_closes_returns_once_the_worker_released_the_ports() {
        let pools = Arc::new(Pools::new(vec![PortPool::new(40000, 40001).unwrap()]));
        assert!(
            !pools.wait_closes(Duration::from_secs(1)),
            "nothing pending"
        );
        let port = pools.lock(0).unwrap().allocate().unwrap();
        pools.close_queued();
        let worker = {
            let pools = pools.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                pools.release(0, port);
                pools.close_done();
            })
        };
        assert_eq!(pools.counts(), (1, 0), "not free while the close is queued");
        assert!(pools.wait_closes(Duration::from_secs(5)));
        assert_eq!(pools.counts(), (1, 1), "free once the wait returns");
        worker.join().unwrap();
    }
}
