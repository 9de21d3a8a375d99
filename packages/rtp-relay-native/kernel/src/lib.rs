//! Kernel fast path of the Switchboard RTP relay.
//!
//! A tc/tcx ingress eBPF program (bpf/relay.bpf.c, compiled by build.rs) holds a hash map of
//! established flows. A packet from a latched remote to one of our relay sockets is rewritten to
//! leave from our other-side socket towards the other side's remote and is redirected to the
//! egress interface without reaching userspace; anything else passes up unchanged.
//!
//! Counters are since `install` (re-installing a key resets them); `last_seen_ns` is
//! CLOCK_MONOTONIC nanoseconds at tick resolution (CLOCK_MONOTONIC_COARSE; 0 = no packet yet),
//! `bytes` counts UDP payload bytes.

mod abi;
mod attach;
mod counters;
mod route;

use std::fmt;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::{Mutex, MutexGuard};

use aya::maps::{Array, HashMap, Map, MapData, MapError};
use aya::{Ebpf, EbpfError, EbpfLoader};

use abi::{RawKey, RawValue};
use attach::Attachments;
use counters::{CounterArea, Slots};

// The ELF parser needs the object 8-byte aligned; plain include_bytes! gives no alignment.
static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/relay.bpf.o"));
const BUILD_NOTE: &str = env!("SB_BPF_BUILD_NOTE");
const PROGRAM: &str = "relay_ingress";

/// `interfaces` empty: attach to every up Ethernet interface plus loopback at open, and later to
/// any interface a newly installed flow arrives on. Otherwise exactly those interfaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelOptions {
    pub interfaces: Vec<String>,
    pub max_entries: u32,
}

impl Default for KernelOptions {
    fn default() -> Self {
        KernelOptions {
            interfaces: Vec::new(),
            max_entries: 65536,
        }
    }
}

/// A packet from `src` (latched remote) to `dst` (our local relay socket). `dst` may be the
/// unspecified address when the socket is bound to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// Rewrite to `src` (our other-side local socket; unspecified = the route's source address)
/// -> `dst` (other side's latched remote).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowAction {
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCounters {
    pub packets: u64,
    pub bytes: u64,
    pub last_seen_ns: u64,
}

#[derive(Debug)]
pub enum KernelError {
    NoPrivilege,
    Unsupported(String),
    Io(std::io::Error),
    MapFull,
    Bpf(String),
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::NoPrivilege => {
                write!(
                    f,
                    "no privilege to load eBPF programs (needs CAP_BPF and CAP_NET_ADMIN)"
                )
            }
            KernelError::Unsupported(r) => write!(f, "kernel fast path unsupported: {r}"),
            KernelError::Io(e) => write!(f, "kernel fast path I/O error: {e}"),
            KernelError::MapFull => write!(f, "kernel flow map is full"),
            KernelError::Bpf(r) => write!(f, "eBPF error: {r}"),
        }
    }
}

impl std::error::Error for KernelError {}

impl From<std::io::Error> for KernelError {
    fn from(e: std::io::Error) -> Self {
        if e.raw_os_error() == Some(libc::EPERM) {
            KernelError::NoPrivilege
        } else {
            KernelError::Io(e)
        }
    }
}

fn errno_of(e: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(code) = io.raw_os_error() {
                return Some(code);
            }
        }
        cur = err.source();
    }
    None
}

pub(crate) fn bpf_error(context: &str, e: &(dyn std::error::Error + 'static)) -> KernelError {
    match errno_of(e) {
        Some(libc::EPERM) | Some(libc::EACCES) => KernelError::NoPrivilege,
        Some(libc::E2BIG) | Some(libc::ENOSPC) => KernelError::MapFull,
        _ => {
            let mut text = format!("{context}: {e}");
            let mut cur = e.source();
            while let Some(s) = cur {
                text.push_str(&format!(": {s}"));
                cur = s.source();
            }
            KernelError::Bpf(text)
        }
    }
}

struct Inner {
    flows: HashMap<MapData, RawKey, RawValue>,
    config: Array<MapData, abi::RawConfig>,
    area: CounterArea,
    slots: Slots,
    wildcard_entries: u32,
    attachments: Attachments,
    // Declared last: dropped after the maps and links above.
    _counters: MapData,
    _ebpf: Ebpf,
}

/// The loaded program, its map and its attachments. Dropping it detaches and frees everything.
pub struct KernelPath {
    inner: Mutex<Inner>,
}

impl KernelPath {
    pub fn open(opts: &KernelOptions) -> Result<KernelPath, KernelError> {
        if OBJECT.is_empty() {
            let why = if BUILD_NOTE.is_empty() {
                "BPF object not built"
            } else {
                BUILD_NOTE
            };
            return Err(KernelError::Unsupported(why.to_string()));
        }
        if opts.max_entries == 0 {
            return Err(KernelError::Unsupported(
                "max_entries must be at least 1".into(),
            ));
        }
        let mut ebpf = EbpfLoader::new()
            .set_max_entries("flows", opts.max_entries)
            .set_max_entries("counters", opts.max_entries)
            .load(OBJECT)
            .map_err(|e: EbpfError| bpf_error("loading the BPF object", &e))?;
        let flows = ebpf
            .take_map("flows")
            .ok_or_else(|| KernelError::Bpf("object has no `flows` map".into()))?;
        let flows = HashMap::try_from(flows).map_err(|e| bpf_error("flows map", &e))?;
        let config = ebpf
            .take_map("relay_cfg")
            .ok_or_else(|| KernelError::Bpf("object has no `relay_cfg` map".into()))?;
        let config = Array::try_from(config).map_err(|e| bpf_error("relay_cfg map", &e))?;
        let counters = match ebpf.take_map("counters") {
            Some(Map::Array(data)) => data,
            _ => return Err(KernelError::Bpf("object has no `counters` array".into())),
        };
        let area = CounterArea::map(counters.fd().as_fd(), opts.max_entries)
            .map_err(|e| bpf_error("mapping the counters array", &e))?;
        let attachments = Attachments::open(&mut ebpf, PROGRAM, &opts.interfaces)?;
        let inner = Inner {
            flows,
            config,
            area,
            slots: Slots::new(opts.max_entries),
            wildcard_entries: 0,
            attachments,
            _counters: counters,
            _ebpf: ebpf,
        };
        Ok(KernelPath {
            inner: Mutex::new(inner),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the maps consistent (each op is one syscall).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Installs (or replaces) the entry for `key`; its counters start again from zero.
    pub fn install(&self, key: &FlowKey, action: &FlowAction) -> Result<(), KernelError> {
        let mut plan = attach::plan(key, action)?;
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner
            .attachments
            .ensure(&mut inner._ebpf, plan.ingress_ifindex)?;
        let (slot, new) = inner.slots.claim(plan.key).ok_or(KernelError::MapFull)?;
        inner.area.reset(slot);
        plan.value.slot = slot;
        if let Err(e) = inner.flows.insert(plan.key, plan.value, 0) {
            if new {
                inner.slots.release(&plan.key);
            }
            return Err(bpf_error("installing a flow", &e));
        }
        if abi::is_wildcard(&plan.key) && new {
            inner.set_wildcards(inner.wildcard_entries + 1)?;
        }
        Ok(())
    }

    /// Removes the entry; removing an absent entry is not an error.
    pub fn remove(&self, key: &FlowKey) -> Result<(), KernelError> {
        let raw = attach::raw_key(key)?;
        let mut inner = self.lock();
        let owned = inner.slots.release(&raw).is_some();
        if owned && abi::is_wildcard(&raw) {
            let n = inner.wildcard_entries.saturating_sub(1);
            inner.set_wildcards(n)?;
        }
        match inner.flows.remove(&raw) {
            Ok(()) | Err(MapError::KeyNotFound) => Ok(()),
            Err(e) => match errno_of(&e) {
                Some(libc::ENOENT) => Ok(()),
                _ => Err(bpf_error("removing a flow", &e)),
            },
        }
    }

    /// Counters of an installed entry (read from shared memory: no syscall).
    pub fn counters(&self, key: &FlowKey) -> Option<FlowCounters> {
        let raw = attach::raw_key(key).ok()?;
        let inner = self.lock();
        let c = inner.area.read(inner.slots.get(&raw)?);
        Some(FlowCounters {
            packets: c.packets,
            bytes: c.bytes,
            last_seen_ns: c.last_seen_ns,
        })
    }

    /// E.g. "tcx ingress on eth0,lo".
    pub fn mode_description(&self) -> String {
        self.lock().attachments.describe()
    }
}

impl Inner {
    fn set_wildcards(&mut self, n: u32) -> Result<(), KernelError> {
        self.config
            .set(
                0,
                abi::RawConfig {
                    wildcard_entries: n,
                    pad: 0,
                },
                0,
            )
            .map_err(|e| bpf_error("updating relay config", &e))?;
        self.wildcard_entries = n;
        Ok(())
    }
}

impl Drop for KernelPath {
    fn drop(&mut self) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.attachments.detach_all(&mut inner._ebpf);
        // The maps and the program are released when `Inner` drops (their last fds close).
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn kernel_path_is_send_and_sync() {
        assert_send_sync::<KernelPath>();
    }

    #[test]
    fn errors_display_their_reason() {
        let e = KernelError::Unsupported("clang missing".into());
        assert_eq!(e.to_string(), "kernel fast path unsupported: clang missing");
        assert!(KernelError::MapFull.to_string().contains("full"));
    }

    #[test]
    fn permission_errors_map_to_no_privilege() {
        let e: KernelError = std::io::Error::from_raw_os_error(libc::EPERM).into();
        assert!(matches!(e, KernelError::NoPrivilege));
        let e = bpf_error("x", &std::io::Error::from_raw_os_error(libc::E2BIG));
        assert!(matches!(e, KernelError::MapFull));
    }
}
