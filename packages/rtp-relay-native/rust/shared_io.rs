//! Socket I/O of shared port mode. Receive: one UDP socket per worker and family, fed by
//! the sk_lookup program, with IP(V6)_ORIGDSTADDR telling which relay port a datagram was
//! sent to. Send: one IPPROTO_RAW socket per worker and family; we write the IP and UDP
//! headers ourselves so a datagram leaves from any relay port without a socket bound to
//! it, and batch the sends with sendmmsg. IPPROTO_RAW sockets receive nothing.

use crate::session::{Egress, Sock};
use crate::sys::{from_sockaddr, to_sockaddr, BATCH};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const IP4_LEN: usize = 20;
const IP6_LEN: usize = 40;
const UDP_LEN: usize = 8;
const TTL: u8 = 64;

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, v: libc::c_int) -> io::Result<()> {
    let p = &v as *const libc::c_int as *const libc::c_void;
    let len = size_of::<libc::c_int>() as libc::socklen_t;
    cvt(unsafe { libc::setsockopt(fd, level, name, p, len) }).map(|_| ())
}

/// Buffer sizes: forced (we are privileged in this mode), else as large as allowed.
fn set_buffer(fd: RawFd, force: libc::c_int, plain: libc::c_int, bytes: libc::c_int) {
    if set_int(fd, libc::SOL_SOCKET, force, bytes).is_err() {
        let _ = set_int(fd, libc::SOL_SOCKET, plain, bytes);
    }
}

fn family(v6: bool) -> libc::c_int {
    if v6 {
        libc::AF_INET6
    } else {
        libc::AF_INET
    }
}

/// A worker's shared receive socket: bound to the wildcard address and an ephemeral port
/// (a socket must be bound to go into a SOCKMAP), reporting each datagram's original
/// destination.
pub fn shared_udp_socket(v6: bool) -> io::Result<OwnedFd> {
    let ty = libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let fd = cvt(unsafe { libc::socket(family(v6), ty, 0) })?;
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if v6 {
        set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
        set_int(fd, libc::SOL_IPV6, libc::IPV6_RECVORIGDSTADDR, 1)?;
    } else {
        set_int(fd, libc::SOL_IP, libc::IP_RECVORIGDSTADDR, 1)?;
    }
    set_buffer(fd, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, 32 << 20);
    let any: SocketAddr = if v6 {
        "[::]:0".parse().expect("literal")
    } else {
        "0.0.0.0:0".parse().expect("literal")
    };
    let (ss, len) = to_sockaddr(&any);
    cvt(unsafe { libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len) })?;
    Ok(owned)
}

/// A send-only raw socket that takes our own IP header (IPv4: implied by IPPROTO_RAW;
/// IPv6: IPV6_HDRINCL).
pub fn raw_socket(v6: bool) -> io::Result<OwnedFd> {
    let ty = libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let fd = cvt(unsafe { libc::socket(family(v6), ty, libc::IPPROTO_RAW) })?;
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if v6 {
        set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_HDRINCL, 1)?;
    }
    set_buffer(fd, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, 4 << 20);
    Ok(owned)
}

/// The original destination (our relay address and port) carried by IP_ORIGDSTADDR or
/// IPV6_ORIGDSTADDR in a received datagram's control data.
pub fn orig_dst(hdr: &libc::msghdr) -> Option<SocketAddr> {
    if hdr.msg_control.is_null() || hdr.msg_controllen == 0 {
        return None;
    }
    let mut c = unsafe { libc::CMSG_FIRSTHDR(hdr) };
    while !c.is_null() {
        let (level, ty) = unsafe { ((*c).cmsg_level, (*c).cmsg_type) };
        let want = match (level, ty) {
            (libc::SOL_IP, libc::IP_ORIGDSTADDR) => size_of::<libc::sockaddr_in>(),
            (libc::SOL_IPV6, libc::IPV6_ORIGDSTADDR) => size_of::<libc::sockaddr_in6>(),
            _ => 0,
        };
        let have =
            unsafe { (*c).cmsg_len as usize }.saturating_sub(unsafe { libc::CMSG_LEN(0) } as usize);
        if want > 0 && have >= want {
            let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
            unsafe {
                std::ptr::copy_nonoverlapping(
                    libc::CMSG_DATA(c),
                    &mut ss as *mut _ as *mut u8,
                    want,
                )
            };
            return from_sockaddr(&ss);
        }
        c = unsafe { libc::CMSG_NXTHDR(hdr, c) };
    }
    None
}

/// The source address the kernel would pick for packets to `dst` (a route look-up through
/// a connected UDP socket). Used only for wildcard local addresses, once per socket.
pub fn route_source(dst: IpAddr) -> Option<IpAddr> {
    let ty = libc::SOCK_DGRAM | libc::SOCK_CLOEXEC;
    let fd = unsafe { libc::socket(family(dst.is_ipv6()), ty, 0) };
    if fd < 0 {
        return None;
    }
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let (ss, len) = to_sockaddr(&SocketAddr::new(dst, 9));
    if unsafe { libc::connect(fd, &ss as *const _ as *const libc::sockaddr, len) } < 0 {
        return None;
    }
    let ip = crate::sys::local_addr(owned.as_raw_fd()).ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

/// One's-complement sum of `data` as 16-bit big-endian words (odd tail padded with zero),
/// accumulated four bytes at a time.
pub fn csum_add(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        acc += u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u64;
    }
    let mut tail = [0u8; 4];
    let r = chunks.remainder();
    tail[..r.len()].copy_from_slice(r);
    acc + u32::from_be_bytes(tail) as u64
}

pub fn csum_fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Writes IP + UDP headers in front of the `payload_len` bytes already at
/// `pkt[hdr_len(dst)..]`; returns the whole packet length. The UDP checksum is always
/// computed (RFC 768; mandatory over IPv6, RFC 8200 §8.1), 0 sent as 0xffff.
pub fn write_headers(
    pkt: &mut [u8],
    src: SocketAddr,
    dst: SocketAddr,
    payload_len: usize,
) -> usize {
    let ip_len = hdr_len(dst) - UDP_LEN;
    let udp_len = UDP_LEN + payload_len;
    let mut acc = 17u64 + udp_len as u64; // pseudo-header: protocol and UDP length
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let h = &mut pkt[..IP4_LEN];
            h.fill(0);
            h[0] = 0x45;
            h[2..4].copy_from_slice(&((IP4_LEN + udp_len) as u16).to_be_bytes());
            // Identification 0 and header checksum 0: the kernel fills both (raw(7)).
            h[8] = TTL;
            h[9] = libc::IPPROTO_UDP as u8;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            acc = csum_add(acc, &h[12..20]);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let h = &mut pkt[..IP6_LEN];
            h.fill(0);
            h[0] = 0x60;
            h[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
            h[6] = libc::IPPROTO_UDP as u8;
            h[7] = TTL;
            h[8..24].copy_from_slice(&s.octets());
            h[24..40].copy_from_slice(&d.octets());
            acc = csum_add(acc, &h[8..40]);
        }
        _ => return 0,
    }
    let u = &mut pkt[ip_len..ip_len + UDP_LEN];
    u[0..2].copy_from_slice(&src.port().to_be_bytes());
    u[2..4].copy_from_slice(&dst.port().to_be_bytes());
    u[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
    u[6..8].fill(0);
    let sum = !csum_fold(csum_add(acc, &pkt[ip_len..ip_len + udp_len]));
    let sum = if sum == 0 { 0xffff } else { sum };
    pkt[ip_len + 6..ip_len + 8].copy_from_slice(&sum.to_be_bytes());
    ip_len + udp_len
}

pub fn hdr_len(dst: SocketAddr) -> usize {
    if dst.is_ipv4() {
        IP4_LEN + UDP_LEN
    } else {
        IP6_LEN + UDP_LEN
    }
}

/// Whom a queued packet is accounted to once sent: the session slot and ingress side.
#[derive(Clone, Copy, Default)]
struct Owner {
    session: u32,
    side: u8,
    len: u32,
}

/// Up to BATCH packets of one family waiting for one sendmmsg; buffers allocated once.
pub struct RawQueue {
    fd: OwnedFd,
    slot: usize,
    bufs: Vec<u8>,
    addrs: Box<[libc::sockaddr_storage; BATCH]>,
    iovs: Box<[libc::iovec; BATCH]>,
    hdrs: Box<[libc::mmsghdr; BATCH]>,
    owners: [Owner; BATCH],
    n: usize,
}

// The raw pointers inside point into the queue's own heap buffers, which never move.
unsafe impl Send for RawQueue {}

impl RawQueue {
    pub fn new(fd: OwnedFd, max_packet: usize) -> RawQueue {
        let slot = IP6_LEN + UDP_LEN + max_packet;
        let mut q = RawQueue {
            fd,
            slot,
            bufs: vec![0u8; slot * BATCH],
            addrs: Box::new(unsafe { zeroed() }),
            iovs: Box::new(unsafe { zeroed() }),
            hdrs: Box::new(unsafe { zeroed() }),
            owners: [Owner::default(); BATCH],
            n: 0,
        };
        for i in 0..BATCH {
            q.iovs[i].iov_base = q.bufs[i * slot..].as_mut_ptr() as *mut libc::c_void;
            q.hdrs[i].msg_hdr.msg_iov = &mut q.iovs[i];
            q.hdrs[i].msg_hdr.msg_iovlen = 1;
            q.hdrs[i].msg_hdr.msg_name = &mut q.addrs[i] as *mut _ as *mut libc::c_void;
        }
        q
    }

    /// Queues one datagram; false when the queue is full or the packet does not fit.
    fn push(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8], owner: Owner) -> bool {
        let hl = hdr_len(dst);
        if self.n == BATCH || hl + payload.len() > self.slot || payload.len() > 0xffff - 48 {
            return false;
        }
        let i = self.n;
        let pkt = &mut self.bufs[i * self.slot..(i + 1) * self.slot];
        pkt[hl..hl + payload.len()].copy_from_slice(payload);
        let len = write_headers(pkt, src, dst, payload.len());
        if len == 0 {
            return false;
        }
        // The port of a raw socket's destination must be 0 (IPv6: it names the protocol).
        let (ss, sl) = to_sockaddr(&SocketAddr::new(dst.ip(), 0));
        self.addrs[i] = ss;
        self.hdrs[i].msg_hdr.msg_namelen = sl;
        self.iovs[i].iov_len = len;
        self.owners[i] = owner;
        self.n += 1;
        true
    }

    /// Sends everything queued; `done(session, side, payload_len, sent)` once per packet.
    fn flush(&mut self, done: &mut impl FnMut(u32, u8, usize, bool)) {
        let mut i = 0;
        while i < self.n {
            let r = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    self.hdrs[i..].as_mut_ptr(),
                    (self.n - i) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r <= 0 {
                // The first packet failed (EAGAIN, EMSGSIZE above the MTU, EPERM...): count
                // it and go on with the rest.
                let o = self.owners[i];
                done(o.session, o.side, o.len as usize, false);
                i += 1;
                continue;
            }
            for o in &self.owners[i..i + r as usize] {
                done(o.session, o.side, o.len as usize, true);
            }
            i += r as usize;
        }
        self.n = 0;
    }
}

/// A worker's raw senders, one per family in use: the `Egress` of shared port mode.
pub struct RawSender {
    pub v4: Option<RawQueue>,
    pub v6: Option<RawQueue>,
}

impl RawSender {
    pub fn flush(&mut self, mut done: impl FnMut(u32, u8, usize, bool)) {
        for q in [self.v4.as_mut(), self.v6.as_mut()].into_iter().flatten() {
            if q.n > 0 {
                q.flush(&mut done);
            }
        }
    }
}

impl Egress for RawSender {
    fn send(
        &mut self,
        from: &mut Sock,
        dst: SocketAddr,
        buf: &[u8],
        session: u32,
        side: u8,
    ) -> Option<bool> {
        if from.src_ip.is_unspecified() {
            // A wildcard local address whose remote has not sent to us yet.
            match route_source(dst.ip()) {
                Some(ip) => from.src_ip = ip,
                None => return Some(false),
            }
        }
        let src = SocketAddr::new(from.src_ip, from.local.port());
        let q = if dst.is_ipv4() {
            self.v4.as_mut()
        } else {
            self.v6.as_mut()
        };
        let owner = Owner {
            session,
            side,
            len: buf.len() as u32,
        };
        match q.map(|q| q.push(src, dst, buf, owner)) {
            Some(true) => None,
            _ => Some(false),
        }
    }
}

#[cfg(test)]
#[path = "shared_io_tests.rs"]
mod tests;
