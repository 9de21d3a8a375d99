//! Thin libc wrappers: UDP sockets, epoll (level-triggered), eventfd, recvmmsg, sendto,
//! the monotonic clock and RLIMIT_NOFILE. Every call returns io::Result; nothing panics.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub(crate) fn cvt_pub(r: libc::c_int) -> io::Result<libc::c_int> {
    cvt(r)
}

pub fn now_ns() -> u64 {
    let mut ts: libc::timespec = unsafe { zeroed() };
    // CLOCK_MONOTONIC never fails with a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Raises RLIMIT_NOFILE towards `target`: the soft limit goes up to the hard limit, and
/// the hard limit itself is raised when the process may (CAP_SYS_RESOURCE). Never lowers
/// a limit. Returns the soft limit now in force.
pub fn raise_nofile_limit(target: u64) -> io::Result<u64> {
    let mut rl: libc::rlimit = unsafe { zeroed() };
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) })?;
    let (cur, max) = (rl.rlim_cur as u64, rl.rlim_max as u64);
    if target > max {
        let want = libc::rlimit {
            rlim_cur: target as libc::rlim_t,
            rlim_max: target as libc::rlim_t,
        };
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } == 0 {
            return Ok(target);
        }
    }
    let soft = target.min(max).max(cur);
    if soft > cur {
        let want = libc::rlimit {
            rlim_cur: soft as libc::rlim_t,
            rlim_max: rl.rlim_max,
        };
        cvt(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) })?;
    }
    Ok(soft)
}

pub fn to_sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
            (ss, size_of::<libc::sockaddr_in>() as libc::socklen_t)
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
            (ss, size_of::<libc::sockaddr_in6>() as libc::socklen_t)
        }
    }
}

pub fn from_sockaddr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match ss.ss_family as libc::c_int {
        libc::AF_INET => {
            let sin = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            let s = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(s.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(s.sin6_port),
                s.sin6_flowinfo,
                s.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// A non-blocking, close-on-exec UDP socket bound to `addr` (IPv6 sockets are v6-only so
/// the same port can be used on an IPv4 address too).
pub fn bind_udp(addr: SocketAddr) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = cvt(unsafe {
        libc::socket(
            family,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if family == libc::AF_INET6 {
        let one: libc::c_int = 1;
        cvt(unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                &one as *const _ as *const libc::c_void,
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
    }
    let (ss, len) = to_sockaddr(&addr);
    cvt(unsafe { libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len) })?;
    Ok(owned)
}

pub fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    cvt(unsafe { libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) })?;
    from_sockaddr(&ss).ok_or_else(|| io::Error::other("unknown address family"))
}

#[inline]
pub fn send_to(fd: RawFd, buf: &[u8], dst: &SocketAddr) -> io::Result<usize> {
    let (ss, len) = to_sockaddr(dst);
    let r = unsafe {
        libc::sendto(
            fd,
            buf.as_ptr() as *const libc::c_void,
            buf.len(),
            libc::MSG_DONTWAIT,
            &ss as *const _ as *const libc::sockaddr,
            len,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// A level-triggered epoll instance.
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })
            .map(|_| ())
    }

    pub fn delete(&self, fd: RawFd) {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev) };
    }

    pub fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> io::Result<usize> {
        let r = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as libc::c_int,
                timeout_ms,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                Ok(0)
            } else {
                Err(e)
            }
        } else {
            Ok(r as usize)
        }
    }
}

/// An eventfd used to wake a worker blocked in epoll_wait.
pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    pub fn new() -> io::Result<EventFd> {
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
        Ok(EventFd {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn wake(&self) {
        let one: u64 = 1;
        unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                &one as *const u64 as *const libc::c_void,
                8,
            )
        };
    }

    pub fn drain(&self) {
        let mut v: u64 = 0;
        unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                &mut v as *mut u64 as *mut libc::c_void,
                8,
            )
        };
    }
}

pub const BATCH: usize = 16;
/// Control-message room per datagram: one IP(V6)_ORIGDSTADDR (a sockaddr_in6) fits.
pub const CTRL_LEN: usize = 64;

/// Reusable recvmmsg buffers: BATCH datagrams of `cap` bytes each, allocated once; with
/// `with_control`, room for ancillary data too (shared port mode's original destination).
pub struct RecvBatch {
    bufs: Vec<u8>,
    cap: usize,
    addrs: Box<[libc::sockaddr_storage; BATCH]>,
    iovs: Box<[libc::iovec; BATCH]>,
    hdrs: Box<[libc::mmsghdr; BATCH]>,
    ctrl: Option<Box<[[u64; CTRL_LEN / 8]; BATCH]>>,
}

// The raw pointers inside point into the batch's own heap buffers, which never move.
unsafe impl Send for RecvBatch {}

impl RecvBatch {
    pub fn new(cap: usize) -> RecvBatch {
        Self::build(cap, false)
    }

    /// A batch that also receives control messages (see `control`).
    pub fn with_control(cap: usize) -> RecvBatch {
        Self::build(cap, true)
    }

    fn build(cap: usize, control: bool) -> RecvBatch {
        let mut b = RecvBatch {
            bufs: vec![0u8; cap * BATCH],
            cap,
            addrs: Box::new(unsafe { zeroed() }),
            iovs: Box::new(unsafe { zeroed() }),
            hdrs: Box::new(unsafe { zeroed() }),
            ctrl: control.then(|| Box::new([[0u64; CTRL_LEN / 8]; BATCH])),
        };
        for i in 0..BATCH {
            b.iovs[i] = libc::iovec {
                iov_base: b.bufs[i * cap..].as_mut_ptr() as *mut libc::c_void,
                iov_len: cap,
            };
            b.hdrs[i].msg_hdr.msg_iov = &mut b.iovs[i];
            b.hdrs[i].msg_hdr.msg_iovlen = 1;
            b.hdrs[i].msg_hdr.msg_name = &mut b.addrs[i] as *mut _ as *mut libc::c_void;
            if let Some(ctrl) = b.ctrl.as_mut() {
                b.hdrs[i].msg_hdr.msg_control = ctrl[i].as_mut_ptr() as *mut libc::c_void;
            }
        }
        b
    }

    /// Receives up to BATCH datagrams without blocking; Ok(0) when none is waiting.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        for h in self.hdrs.iter_mut() {
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        if self.ctrl.is_some() {
            for h in self.hdrs.iter_mut() {
                h.msg_hdr.msg_controllen = CTRL_LEN as _;
            }
        }
        let r = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(0),
                _ => Err(e),
            };
        }
        Ok(r as usize)
    }

    /// Datagram `i` of the last receive: (bytes, source, truncated).
    pub fn get(&self, i: usize) -> (&[u8], Option<SocketAddr>, bool) {
        let h = &self.hdrs[i];
        let len = (h.msg_len as usize).min(self.cap);
        let truncated = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        (
            &self.bufs[i * self.cap..i * self.cap + len],
            from_sockaddr(&self.addrs[i]),
            truncated,
        )
    }

    /// The message header of datagram `i` of the last receive (its control data).
    pub fn header(&self, i: usize) -> &libc::msghdr {
        &self.hdrs[i].msg_hdr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_round_trips_for_both_families() {
        for s in ["127.0.0.1:5004", "[::1]:6000", "[2001:db8::7]:1"] {
            let a: SocketAddr = s.parse().unwrap();
            let (ss, _) = to_sockaddr(&a);
            assert_eq!(from_sockaddr(&ss), Some(a));
        }
    }

    #[test]
    fn recv_batch_reads_datagrams_and_flags_truncation() {
        let rx = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let tx = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let dst = local_addr(rx.as_raw_fd()).unwrap();
        send_to(tx.as_raw_fd(), &[1, 2, 3], &dst).unwrap();
        send_to(tx.as_raw_fd(), &[7u8; 100], &dst).unwrap();
        let mut b = RecvBatch::new(64);
        // Loopback sends are queued on the receiver before send_to returns.
        assert_eq!(b.recv(rx.as_raw_fd()).unwrap(), 2);
        let (d0, src, t0) = b.get(0);
        assert_eq!((d0, t0), (&[1u8, 2, 3][..], false));
        assert_eq!(src, Some(local_addr(tx.as_raw_fd()).unwrap()));
        let (d1, _, t1) = b.get(1);
        assert_eq!((d1.len(), t1), (64, true));
        assert_eq!(b.recv(rx.as_raw_fd()).unwrap(), 0);
    }
}
