//! Shared pieces of the RTP load generator and sink: arguments, RTP header, sockets.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

pub const RTP_HEADER: usize = 12;
/// 20 ms of G.711 at 8 kHz.
pub const G711_PAYLOAD: usize = 160;
pub const PCMU: u8 = 0;

/// `--name value` pairs; flags without a value are stored as "true".
pub struct Args(HashMap<String, String>);

impl Args {
    pub fn parse() -> Args {
        let mut map = HashMap::new();
        let mut it = std::env::args().skip(1).peekable();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else {
                eprintln!("unexpected argument {a}");
                std::process::exit(2);
            };
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().unwrap_or_default(),
                _ => "true".to_string(),
            };
            map.insert(name.to_string(), value);
        }
        Args(map)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.as_str())
    }

    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.get(name) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                eprintln!("--{name}: cannot parse {v:?}");
                std::process::exit(2);
            }),
        }
    }

    pub fn required(&self, name: &str) -> &str {
        self.get(name).unwrap_or_else(|| {
            eprintln!("--{name} is required");
            std::process::exit(2);
        })
    }
}

/// One address per line (`ip:port` or `[ip6]:port`); blank lines and `#` comments skipped.
pub fn read_targets(path: &str) -> io::Result<Vec<SocketAddr>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let addr = line.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{path}:{}: bad address {line:?}", n + 1),
            )
        })?;
        out.push(addr);
    }
    Ok(out)
}

/// Writes an RTP header (RFC 3550 §5.1): V=2, PT=PCMU, the stream index as SSRC.
pub fn write_rtp_header(buf: &mut [u8], seq: u16, timestamp: u32, ssrc: u32) {
    buf[0] = 0x80;
    buf[1] = PCMU;
    buf[2..4].copy_from_slice(&seq.to_be_bytes());
    buf[4..8].copy_from_slice(&timestamp.to_be_bytes());
    buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

/// (seq, ssrc) of an RTP packet, None for anything else.
pub fn read_rtp_header(buf: &[u8]) -> Option<(u16, u32)> {
    if buf.len() < RTP_HEADER || buf[0] >> 6 != 2 {
        return None;
    }
    let seq = u16::from_be_bytes([buf[2], buf[3]]);
    let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
    Some((seq, ssrc))
}

/// Sets a socket buffer, forcing past rmem_max/wmem_max when privileged.
pub fn set_buffer(sock: &UdpSocket, recv: bool, bytes: usize) {
    let (force, plain) = if recv {
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF)
    } else {
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF)
    };
    let v = bytes as libc::c_int;
    for opt in [force, plain] {
        // SAFETY: setsockopt with a c_int value on a descriptor we own.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                &v as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as u32,
            )
        };
        if rc == 0 {
            return;
        }
    }
}

/// Raises RLIMIT_NOFILE to its hard limit.
pub fn raise_nofile() {
    // SAFETY: getrlimit/setrlimit on a stack struct.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

pub fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is large enough for both families; zeroed is valid.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// CPU seconds (user + system) this process has used.
pub fn self_cpu_seconds() -> f64 {
    // SAFETY: getrusage on a stack struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_header_round_trips() {
        let mut buf = [0u8; RTP_HEADER + 4];
        write_rtp_header(&mut buf, 65535, 160, 42);
        assert_eq!(read_rtp_header(&buf), Some((65535, 42)));
        assert_eq!(read_rtp_header(&buf[..11]), None);
        assert_eq!(read_rtp_header(&[0u8; 12]), None);
    }
}
