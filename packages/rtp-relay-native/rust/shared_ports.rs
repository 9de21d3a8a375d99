//! Shared port mode: the sk_lookup program (bpf/sk_lookup.bpf.c, built by build.rs) that
//! steers UDP packets for owned relay ports to a few shared sockets, its maps, and the
//! port table that turns a datagram's original destination into a session side in O(1).
//! A session costs no file descriptor: its ports are entries in two arrays.

use crate::config::RelayConfig;
use crate::mapped_array::MappedArray;
use crate::shared_io::{raw_socket, shared_udp_socket};
use aya::maps::{Array, HashMap, IterableMap, MapData, PerCpuArray, SockMap};
use aya::programs::{sk_lookup::SkLookupLinkId, SkLookup};
use aya::{Ebpf, EbpfLoader, Pod};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/sk_lookup.bpf.o"));
const BUILD_NOTE: &str = env!("SB_SKL_BUILD_NOTE");
const PROGRAM: &str = "sb_sk_lookup";
const AF_INET: u32 = 2;
const AF_INET6: u32 = 10;
/// Per-CPU counters of the program (keep in sync with STAT_* in the C source).
const STAT_UNUSED: u32 = 0;

/// Keep in sync with `struct addr_key` in bpf/sk_lookup.bpf.c.
#[repr(C)]
#[derive(Clone, Copy)]
struct AddrKey {
    family: u32,
    ip: [u32; 4],
}
unsafe impl Pod for AddrKey {}

/// Keep in sync with `struct sk_cfg`.
#[repr(C)]
#[derive(Clone, Copy)]
struct SkCfg {
    port_min: u32,
    port_count: u32,
}
unsafe impl Pod for SkCfg {}

/// The sockets one worker uses in shared mode (None for a family no address needs).
pub struct WorkerSockets {
    pub rx: [Option<OwnedFd>; 2],
    pub tx: [Option<OwnedFd>; 2],
}

/// Where a port-table entry points: (worker, session slot, side, rtcp).
pub type Owner = (usize, u32, usize, bool);

const VALID: u64 = 1 << 63;

fn encode(o: Owner) -> u64 {
    VALID | (o.0 as u64 & 0xff) << 40 | (o.3 as u64) << 33 | (o.2 as u64 & 1) << 32 | o.1 as u64
}

pub fn decode(v: u64) -> Option<Owner> {
    (v & VALID != 0).then_some((
        (v >> 40 & 0xff) as usize,
        v as u32,
        (v >> 32 & 1) as usize,
        v >> 33 & 1 == 1,
    ))
}

struct Loaded {
    /// Written through `SharedPorts::slots` when the map could be memory-mapped.
    ports: Array<MapData, u64>,
    stats: PerCpuArray<MapData, u64>,
    link: Option<SkLookupLinkId>,
    // Declared last: the program and the remaining maps go when the relay does.
    ebpf: Ebpf,
}

pub struct SharedPorts {
    bpf: Mutex<Loaded>,
    /// `sb_ports` mapped into memory: claims cost a store, not a system call (None when
    /// the kernel refused the mapping; then every claim is a map update).
    slots: Option<MappedArray>,
    table: Box<[AtomicU64]>,
    addrs: Vec<IpAddr>,
    port_min: u16,
    span: usize,
    unused_user: AtomicU64,
    description: String,
}

fn errno_in(e: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(code) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|e| e.raw_os_error())
        {
            return Some(code);
        }
        cur = err.source();
    }
    None
}

fn why(context: &str, e: &(dyn std::error::Error + 'static)) -> String {
    match errno_in(e) {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            format!("{context}: no privilege (needs CAP_BPF and CAP_NET_ADMIN)")
        }
        _ => {
            let mut text = format!("{context}: {e}");
            let mut cur = e.source();
            while let Some(s) = cur {
                text.push_str(&format!(": {s}"));
                cur = s.source();
            }
            text
        }
    }
}

fn addr_key(ip: IpAddr) -> AddrKey {
    let mut k = AddrKey {
        family: AF_INET,
        ip: [0; 4],
    };
    match ip {
        IpAddr::V4(a) => k.ip[0] = u32::from_ne_bytes(a.octets()),
        IpAddr::V6(a) => {
            k.family = AF_INET6;
            for (i, c) in a.octets().chunks_exact(4).enumerate() {
                k.ip[i] = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
    }
    k
}

/// The sockets of every worker; an error names the missing privilege or feature.
fn worker_sockets(threads: usize, fams: [bool; 2]) -> Result<Vec<WorkerSockets>, String> {
    let mut all = Vec::with_capacity(threads);
    for _ in 0..threads {
        let mut w = WorkerSockets {
            rx: [None, None],
            tx: [None, None],
        };
        for (f, v6) in [(0, false), (1, true)] {
            if !fams[f] {
                continue;
            }
            let fam = if v6 { "IPv6" } else { "IPv4" };
            w.tx[f] = Some(raw_socket(v6).map_err(|e| match e.raw_os_error() {
                Some(libc::EPERM) => "raw sockets need CAP_NET_RAW".to_string(),
                Some(libc::ENOPROTOOPT) => "the kernel has no IPV6_HDRINCL".to_string(),
                _ => format!("{fam} raw socket: {e}"),
            })?);
            w.rx[f] = Some(shared_udp_socket(v6).map_err(|e| format!("{fam} shared socket: {e}"))?);
        }
        all.push(w);
    }
    Ok(all)
}

impl SharedPorts {
    /// Loads and attaches the program to the calling thread's network namespace and makes
    /// the workers' sockets. Err(reason) when the build, privileges or kernel do not allow.
    pub fn open(cfg: &RelayConfig) -> Result<(SharedPorts, Vec<WorkerSockets>), String> {
        if OBJECT.is_empty() {
            let note = if BUILD_NOTE.is_empty() {
                "BPF object not built"
            } else {
                BUILD_NOTE
            };
            return Err(note.to_string());
        }
        let addrs: Vec<IpAddr> = cfg.addresses.iter().map(|a| a.ip).collect();
        if addrs.len() > 64 {
            return Err("more than 64 local addresses".into());
        }
        let fams = [
            addrs.iter().any(|a| a.is_ipv4()),
            addrs.iter().any(|a| a.is_ipv6()),
        ];
        let span = (cfg.port_max - cfg.port_min) as usize + 1;
        let sockets = worker_sockets(cfg.threads, fams)?;
        let mut ebpf = EbpfLoader::new()
            .set_max_entries("sb_ports", (addrs.len() * span) as u32)
            .load(OBJECT)
            .map_err(|e| why("loading the sk_lookup program", &e))?;
        let map = |ebpf: &mut Ebpf, name: &str| {
            ebpf.take_map(name)
                .ok_or_else(|| format!("BPF object has no `{name}` map"))
        };
        let mut amap: HashMap<MapData, AddrKey, u32> =
            HashMap::try_from(map(&mut ebpf, "sb_addrs")?).map_err(|e| why("sb_addrs", &e))?;
        for (i, ip) in addrs.iter().enumerate() {
            amap.insert(addr_key(*ip), i as u32, 0)
                .map_err(|e| why("sb_addrs", &e))?;
        }
        let mut cmap: Array<MapData, SkCfg> =
            Array::try_from(map(&mut ebpf, "sb_cfg")?).map_err(|e| why("sb_cfg", &e))?;
        let sk_cfg = SkCfg {
            port_min: cfg.port_min as u32,
            port_count: span as u32,
        };
        cmap.set(0, sk_cfg, 0).map_err(|e| why("sb_cfg", &e))?;
        let mut socks =
            SockMap::try_from(map(&mut ebpf, "sb_socks")?).map_err(|e| why("sb_socks", &e))?;
        for (w, s) in sockets.iter().enumerate() {
            for (f, fd) in s.rx.iter().enumerate() {
                if let Some(fd) = fd {
                    let slot = (w * 2 + f) as u32;
                    socks
                        .set(slot, &fd.as_raw_fd(), 0)
                        .map_err(|e| why("sb_socks", &e))?;
                }
            }
        }
        let ports =
            Array::try_from(map(&mut ebpf, "sb_ports")?).map_err(|e| why("sb_ports", &e))?;
        let stats =
            PerCpuArray::try_from(map(&mut ebpf, "sb_stats")?).map_err(|e| why("sb_stats", &e))?;
        let slots = MappedArray::map(ports.map().fd().as_fd(), addrs.len() * span).ok();
        let link = Self::attach(&mut ebpf)?;
        let description = format!(
            "sk_lookup on this network namespace, {} worker socket(s) per family, raw sends",
            cfg.threads
        );
        let shared = SharedPorts {
            bpf: Mutex::new(Loaded {
                ports,
                stats,
                link: Some(link),
                ebpf,
            }),
            slots,
            table: (0..addrs.len() * span).map(|_| AtomicU64::new(0)).collect(),
            addrs,
            port_min: cfg.port_min,
            span,
            unused_user: AtomicU64::new(0),
            description,
        };
        Ok((shared, sockets))
    }

    fn attach(ebpf: &mut Ebpf) -> Result<SkLookupLinkId, String> {
        let prog: &mut SkLookup = ebpf
            .program_mut(PROGRAM)
            .ok_or_else(|| format!("BPF object has no program `{PROGRAM}`"))?
            .try_into()
            .map_err(|e| why("program type", &e))?;
        prog.load()
            .map_err(|e| why("loading the sk_lookup program", &e))?;
        // The thread's own namespace: the one the relay's traffic arrives in.
        let netns = std::fs::File::open("/proc/thread-self/ns/net")
            .map_err(|e| format!("opening the network namespace: {e}"))?;
        prog.attach(netns)
            .map_err(|e| why("attaching sk_lookup", &e))
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    fn index(&self, addr: usize, port: u16) -> Option<usize> {
        let off = port.checked_sub(self.port_min)? as usize;
        (addr < self.addrs.len() && off < self.span).then_some(addr * self.span + off)
    }

    /// Makes `port` of local address `addr` deliver to `owner`: the table first, then the
    /// program's map, so the first packet already finds its session.
    pub fn claim(&self, addr: usize, port: u16, owner: Owner) -> bool {
        let Some(i) = self.index(addr, port) else {
            return false;
        };
        self.table[i].store(encode(owner), Relaxed);
        self.set_owner(i, owner.0 as u32 + 1)
    }

    /// The reverse of `claim`: the program stops steering first, then the table forgets.
    pub fn release(&self, addr: usize, port: u16) {
        if let Some(i) = self.index(addr, port) {
            self.set_owner(i, 0);
            self.table[i].store(0, Relaxed);
        }
    }

    fn set_owner(&self, i: usize, v: u32) -> bool {
        if let Some(m) = &self.slots {
            return m.set(i, u64::from(v));
        }
        match self.bpf.lock() {
            Ok(mut b) => b.ports.set(i as u32, u64::from(v), 0).is_ok(),
            Err(_) => false,
        }
    }

    /// Ports the program steers to a worker now (entries of `sb_ports` that are set).
    pub fn claimed(&self) -> usize {
        let n = self.addrs.len() * self.span;
        if let Some(m) = &self.slots {
            return (0..n).filter(|&i| m.get(i).is_some_and(|v| v != 0)).count();
        }
        let Ok(b) = self.bpf.lock() else { return 0 };
        (0..n as u32)
            .filter(|i| b.ports.get(i, 0).is_ok_and(|v| v != 0))
            .count()
    }

    /// Whether claims are plain stores into the mapped port map.
    pub fn mapped(&self) -> bool {
        self.slots.is_some()
    }

    /// The owner of a datagram's original destination, if a session holds that port.
    #[inline]
    pub fn lookup(&self, dst: SocketAddr) -> Option<Owner> {
        let ip = dst.ip();
        let addr = self.addrs.iter().position(|a| *a == ip).or_else(|| {
            self.addrs
                .iter()
                .position(|a| a.is_unspecified() && a.is_ipv4() == ip.is_ipv4())
        })?;
        decode(self.table[self.index(addr, dst.port())?].load(Relaxed))
    }

    /// A datagram reached a shared socket for a port no session of this worker holds.
    #[inline]
    pub fn count_unused(&self) {
        self.unused_user.fetch_add(1, Relaxed);
    }

    /// Packets to relay ports no session owns: seen by the program (left to the regular
    /// lookup, which drops them) plus the few that raced a close in userspace.
    pub fn unused_drops(&self) -> u64 {
        let user = self.unused_user.load(Relaxed);
        let Ok(b) = self.bpf.lock() else { return user };
        let kernel = b
            .stats
            .get(&STAT_UNUSED, 0)
            .map(|v| v.iter().sum::<u64>())
            .unwrap_or(0);
        user + kernel
    }

    /// Detaches the program from the namespace; idempotent (also done on drop).
    pub fn detach(&self) {
        if let Ok(mut b) = self.bpf.lock() {
            if let Some(id) = b.link.take() {
                if let Some(Ok(prog)) = b.ebpf.program_mut(PROGRAM).map(<&mut SkLookup>::try_from) {
                    let _ = prog.detach(id);
                }
            }
        }
    }
}

impl Drop for SharedPorts {
    fn drop(&mut self) {
        self.detach();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_entries_round_trip() {
        for o in [
            (0, 0, 0, false),
            (255, u32::MAX, 1, true),
            (3, 12345, 0, true),
        ] {
            assert_eq!(decode(encode(o)), Some(o));
        }
        assert_eq!(decode(0), None);
    }

    #[test]
    fn address_keys_are_in_network_order() {
        let k = addr_key("127.0.0.2".parse().unwrap());
        assert_eq!((k.family, k.ip[0].to_ne_bytes()), (AF_INET, [127, 0, 0, 2]));
        let k6 = addr_key("::1".parse().unwrap());
        assert_eq!(
            (k6.family, k6.ip[3].to_ne_bytes()),
            (AF_INET6, [0, 0, 0, 1])
        );
    }
}
