//! Even/odd port pairs (RTP on the even port, RTCP on the next odd one, RFC 3550 §11)
//! kept in a FIFO free list: allocate and release are O(1), and a released pair goes to
//! the back so stray packets of an old call rarely reach a new session. In shared port
//! mode a free pair may carry the time a prober thread last found both its ports bindable,
//! so that the calling thread can take it without probing again (`allocate_with`).

use std::collections::VecDeque;

pub struct PortPool {
    first: u16,
    in_use: Vec<bool>,
    free: VecDeque<u32>,
    /// Per free pair: monotonic ns of the last probe that found it bindable (0 = none).
    probed_at: Vec<u64>,
    /// Pairs handed out so far (the prober sizes its look-ahead with it).
    taken: u64,
}

impl PortPool {
    /// A pool over every even/odd pair inside `[min, max]`. Returns None when no pair fits.
    pub fn new(min: u16, max: u16) -> Option<PortPool> {
        let first = if min.is_multiple_of(2) {
            min as u32
        } else {
            min as u32 + 1
        };
        if first < 2 || first + 1 > max as u32 {
            return None;
        }
        let pairs = (max as u32 - first).div_ceil(2);
        Some(PortPool {
            first: first as u16,
            in_use: vec![false; pairs as usize],
            free: (0..pairs).collect(),
            probed_at: vec![0; pairs as usize],
            taken: 0,
        })
    }

    pub fn capacity(&self) -> usize {
        self.in_use.len()
    }

    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    /// Takes the next free pair and returns its even (RTP) port.
    pub fn allocate(&mut self) -> Option<u16> {
        let idx = self.free.pop_front()?;
        self.take(idx);
        Some(self.port_of(idx))
    }

    fn take(&mut self, idx: u32) {
        self.in_use[idx as usize] = true;
        self.probed_at[idx as usize] = 0;
        self.taken += 1;
    }

    /// Allocates a pair and hands it to `bind` with the time of its last successful probe
    /// (0 = none); a pair whose bind fails with an error that `skip` accepts (the port is
    /// taken) is put back at the tail and the next one is tried, at most once per free
    /// pair. Any other error (out of descriptors...) stops at once.
    pub fn allocate_with<T, E>(
        &mut self,
        mut bind: impl FnMut(u16, u64) -> Result<T, E>,
        skip: impl Fn(&E) -> bool,
    ) -> Result<(u16, T), Option<E>> {
        let mut last_err = None;
        for _ in 0..self.free.len() {
            let Some(idx) = self.free.pop_front() else {
                break;
            };
            let port = self.port_of(idx);
            match bind(port, self.probed_at[idx as usize]) {
                Ok(v) => {
                    self.take(idx);
                    return Ok((port, v));
                }
                Err(e) => {
                    let go_on = skip(&e);
                    self.probed_at[idx as usize] = 0;
                    self.free.push_back(idx);
                    if !go_on {
                        return Err(Some(e));
                    }
                    last_err = Some(e);
                }
            }
        }
        Err(last_err)
    }

    /// Gives a pair back. Returns false (and changes nothing) for a port that is not an
    /// allocated even port of this pool.
    pub fn release(&mut self, rtp_port: u16) -> bool {
        let Some(idx) = self.index_of(rtp_port) else {
            return false;
        };
        if !self.in_use[idx as usize] {
            return false;
        }
        self.in_use[idx as usize] = false;
        self.probed_at[idx as usize] = 0;
        self.free.push_back(idx);
        true
    }

    /// Pairs handed out since the pool was made.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Prober: the RTP ports of free pairs `from..from + n` (in the order they will be
    /// handed out) not found bindable since `since`.
    pub fn unprobed(&self, from: usize, n: usize, since: u64, out: &mut Vec<u16>) {
        let end = from.saturating_add(n).min(self.free.len());
        for &idx in self.free.range(from.min(end)..end) {
            if self.probed_at[idx as usize] <= since {
                out.push(self.port_of(idx));
            }
        }
    }

    /// Whether `rtp_port` is a free pair of this pool.
    pub fn is_free(&self, rtp_port: u16) -> bool {
        self.index_of(rtp_port)
            .is_some_and(|idx| !self.in_use[idx as usize])
    }

    /// Prober: the result of probing free pair `rtp_port` at `at`: bindable, or taken by
    /// another program (then the pair goes to the tail, as a failed bind at allocation
    /// does). Ignored for a pair handed out meanwhile.
    pub fn note_probe(&mut self, rtp_port: u16, at: u64, bindable: bool) {
        let Some(idx) = self.index_of(rtp_port) else {
            return;
        };
        if self.in_use[idx as usize] {
            return;
        }
        if bindable {
            self.probed_at[idx as usize] = at;
            return;
        }
        self.probed_at[idx as usize] = 0;
        if let Some(pos) = self.free.iter().position(|&i| i == idx) {
            self.free.remove(pos);
            self.free.push_back(idx);
        }
    }

    /// Free pairs at the head of the queue found bindable after `since`.
    pub fn probed_run(&self, since: u64) -> usize {
        self.free
            .iter()
            .take_while(|&&idx| self.probed_at[idx as usize] > since)
            .count()
    }

    fn port_of(&self, idx: u32) -> u16 {
        (self.first as u32 + idx * 2) as u16
    }

    fn index_of(&self, port: u16) -> Option<u32> {
        if port < self.first || !(port - self.first).is_multiple_of(2) {
            return None;
        }
        let idx = ((port - self.first) / 2) as u32;
        ((idx as usize) < self.in_use.len()).then_some(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_start_on_an_even_port_and_cover_the_range() {
        let mut p = PortPool::new(30001, 30010).unwrap();
        assert_eq!(p.capacity(), 4); // 30002/3, 30004/5, 30006/7, 30008/9
        let ports: Vec<u16> = std::iter::from_fn(|| p.allocate()).collect();
        assert_eq!(ports, vec![30002, 30004, 30006, 30008]);
        assert_eq!(p.allocate(), None);
    }

    #[test]
    fn a_range_without_a_full_pair_is_rejected() {
        assert!(PortPool::new(30001, 30002).is_none());
        assert!(PortPool::new(40000, 40000).is_none());
        assert!(PortPool::new(0, 1).is_none());
        assert!(PortPool::new(40000, 40001).is_some());
    }

    #[test]
    fn released_pairs_are_reused_last_and_double_release_is_refused() {
        let mut p = PortPool::new(40000, 40005).unwrap();
        let a = p.allocate().unwrap();
        let b = p.allocate().unwrap();
        assert!(p.release(a));
        assert!(!p.release(a), "second release is refused");
        assert!(!p.release(a + 1), "odd port is not a pair");
        assert!(!p.release(50000), "foreign port");
        assert_eq!(p.allocate(), Some(40004));
        assert_eq!(p.allocate(), Some(a));
        assert_eq!(p.allocate(), None);
        assert!(p.release(b));
        assert_eq!(p.free_count(), 1);
    }

    #[test]
    fn bind_failures_skip_the_pair() {
        let mut p = PortPool::new(40000, 40007).unwrap();
        let busy = |e: &&str| *e == "busy";
        let got = p.allocate_with(
            |port, _| if port == 40000 { Err("busy") } else { Ok(port) },
            busy,
        );
        assert_eq!(got, Ok((40002, 40002)));
        // The skipped pair is still free, at the back.
        assert_eq!(p.free_count(), 3);
        let mut tries = 0;
        let all: Result<(u16, u16), Option<&str>> = p.allocate_with(
            |_, _| {
                tries += 1;
                Err("busy")
            },
            busy,
        );
        assert_eq!((all, tries), (Err(Some("busy")), 3));
        assert_eq!(p.free_count(), 3);
    }

    #[test]
    fn an_error_that_is_not_about_the_port_stops_the_search() {
        let mut p = PortPool::new(40000, 40007).unwrap();
        let mut tries = 0;
        let r: Result<(u16, ()), Option<&str>> = p.allocate_with(
            |_, _| {
                tries += 1;
                Err("no descriptors")
            },
            |e| *e == "busy",
        );
        assert_eq!((r, tries), (Err(Some("no descriptors")), 1));
        assert_eq!(p.free_count(), 4);
    }

    #[test]
    fn many_allocations_and_releases_never_lose_a_pair() {
        let mut p = PortPool::new(40000, 40999).unwrap();
        let cap = p.capacity();
        for round in 0..50 {
            let taken: Vec<u16> = (0..(cap / 2 + round % 7))
                .filter_map(|_| p.allocate())
                .collect();
            for port in taken {
                assert!(p.release(port));
            }
        }
        assert_eq!(p.free_count(), cap);
    }
}
