//! Per-flow counters: an mmapped BPF array (BPF_F_MMAPABLE) the program updates with atomic
//! adds and userspace reads with plain atomic loads, without a syscall per flow.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::abi::{RawCounters, RawKey};

const WORDS: usize = std::mem::size_of::<RawCounters>() / 8;

pub(crate) struct CounterArea {
    base: *mut AtomicU64,
    len: usize,
    entries: u32,
}

// SAFETY: the area is shared memory accessed only through atomics; the pointer stays valid
// until Drop unmaps it.
unsafe impl Send for CounterArea {}
unsafe impl Sync for CounterArea {}

impl CounterArea {
    pub fn map(fd: BorrowedFd<'_>, entries: u32) -> io::Result<CounterArea> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let bytes = entries as usize * WORDS * 8;
        let len = bytes.div_ceil(page) * page;
        // SAFETY: mapping a BPF array map fd created with BPF_F_MMAPABLE; checked for failure.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(CounterArea {
            base: ptr as *mut AtomicU64,
            len,
            entries,
        })
    }

    fn word(&self, slot: u32, i: usize) -> &AtomicU64 {
        assert!(slot < self.entries && i < WORDS);
        // SAFETY: in bounds (checked above), 8-byte aligned (page-aligned base, 24-byte stride).
        unsafe { &*self.base.add(slot as usize * WORDS + i) }
    }

    pub fn read(&self, slot: u32) -> RawCounters {
        RawCounters {
            packets: self.word(slot, 0).load(Ordering::Relaxed),
            bytes: self.word(slot, 1).load(Ordering::Relaxed),
            last_seen_ns: self.word(slot, 2).load(Ordering::Relaxed),
        }
    }

    pub fn reset(&self, slot: u32) {
        for i in 0..WORDS {
            self.word(slot, i).store(0, Ordering::Relaxed);
        }
    }
}

impl Drop for CounterArea {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `map` mapped.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

/// Which counter slot each installed key owns.
pub(crate) struct Slots {
    by_key: HashMap<RawKey, u32>,
    free: Vec<u32>,
    next: u32,
    capacity: u32,
}

impl Slots {
    pub fn new(capacity: u32) -> Slots {
        Slots {
            by_key: HashMap::new(),
            free: Vec::new(),
            next: 0,
            capacity,
        }
    }

    pub fn get(&self, key: &RawKey) -> Option<u32> {
        self.by_key.get(key).copied()
    }

    /// A slot for `key`: its own when installed already, else a free one (None = full).
    pub fn claim(&mut self, key: RawKey) -> Option<(u32, bool)> {
        if let Some(&slot) = self.by_key.get(&key) {
            return Some((slot, false));
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None if self.next < self.capacity => {
                self.next += 1;
                self.next - 1
            }
            None => return None,
        };
        self.by_key.insert(key, slot);
        Some((slot, true))
    }

    pub fn release(&mut self, key: &RawKey) -> Option<u32> {
        let slot = self.by_key.remove(key)?;
        self.free.push(slot);
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u16) -> RawKey {
        RawKey {
            sport: n,
            family: 4,
            ..RawKey::default()
        }
    }

    #[test]
    fn slots_are_reused_after_release_and_run_out_at_capacity() {
        let mut s = Slots::new(2);
        assert_eq!(s.claim(key(1)), Some((0, true)));
        assert_eq!(s.claim(key(2)), Some((1, true)));
        assert_eq!(s.claim(key(1)), Some((0, false)));
        assert_eq!(s.claim(key(3)), None);
        assert_eq!(s.release(&key(1)), Some(0));
        assert_eq!(s.release(&key(1)), None);
        assert_eq!(s.claim(key(3)), Some((0, true)));
        assert_eq!(s.get(&key(3)), Some(0));
    }
}
