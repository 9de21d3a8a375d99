//! A BPF array map of 64-bit values created with BPF_F_MMAPABLE, mapped into the process:
//! userspace reads and writes its entries with atomic loads and stores, without a system
//! call, while the BPF program reads the same memory through `bpf_map_lookup_elem`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct MappedArray {
    base: NonNull<AtomicU64>,
    len: usize,
    map_len: usize,
}

// The mapping is only ever accessed through atomics, and unmapped on drop.
unsafe impl Send for MappedArray {}
unsafe impl Sync for MappedArray {}

impl MappedArray {
    /// Maps the `len` 8-byte values of the array map `fd` (shared, read-write).
    pub fn map(fd: BorrowedFd<'_>, len: usize) -> io::Result<MappedArray> {
        if len == 0 {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            n if n > 0 => n as usize,
            _ => 4096,
        };
        let map_len = (len * 8).div_ceil(page) * page;
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(p.cast::<AtomicU64>())
            .ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(MappedArray { base, len, map_len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slot(&self, i: usize) -> Option<&AtomicU64> {
        // In bounds of the mapping, 8-byte aligned (page-aligned base), alive while self is.
        (i < self.len).then(|| unsafe { &*self.base.as_ptr().add(i) })
    }

    /// Stores `v` at `i`; false when `i` is out of range.
    pub fn set(&self, i: usize, v: u64) -> bool {
        self.slot(i).map(|s| s.store(v, Ordering::SeqCst)).is_some()
    }

    pub fn get(&self, i: usize) -> Option<u64> {
        self.slot(i).map(|s| s.load(Ordering::SeqCst))
    }
}

impl Drop for MappedArray {
    fn drop(&mut self) {
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.map_len) };
    }
}
