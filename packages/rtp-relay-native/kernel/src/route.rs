//! Route and interface look-ups: rtnetlink RTM_GETROUTE (what `ip route get` does) and sysfs.

use std::fs;
use std::io;
use std::mem::size_of;
use std::net::IpAddr;
use std::time::Duration;

const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PREFSRC: u16 = 7;
pub const RTN_UNICAST: u8 = 1;
pub const RTN_LOCAL: u8 = 2;

const ARPHRD_ETHER: u32 = 1;
const ARPHRD_LOOPBACK: u32 = 772;
const IFF_UP: u32 = 0x1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub oif: u32,
    pub kind: u8,
    pub prefsrc: Option<IpAddr>,
    /// The next hop when it is not the destination itself.
    pub gateway: Option<IpAddr>,
}

#[repr(C)]
struct NlMsgHdr {
    len: u32,
    kind: u16,
    flags: u16,
    seq: u32,
    pid: u32,
}

#[repr(C)]
struct RtMsg {
    family: u8,
    dst_len: u8,
    src_len: u8,
    tos: u8,
    table: u8,
    protocol: u8,
    scope: u8,
    kind: u8,
    flags: u32,
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn push_attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = (4 + data.len()) as u16;
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

fn build_request(dst: IpAddr, src: Option<IpAddr>, seq: u32) -> Vec<u8> {
    let (family, bits) = match dst {
        IpAddr::V4(_) => (libc::AF_INET as u8, 32u8),
        IpAddr::V6(_) => (libc::AF_INET6 as u8, 128u8),
    };
    let src = src.filter(|s| !s.is_unspecified() && s.is_ipv4() == dst.is_ipv4());
    let rt = RtMsg {
        family,
        dst_len: bits,
        src_len: if src.is_some() { bits } else { 0 },
        tos: 0,
        table: 0,
        protocol: 0,
        scope: 0,
        kind: 0,
        flags: 0,
    };
    let mut body = Vec::with_capacity(64);
    // SAFETY: RtMsg is repr(C) plain data without padding.
    body.extend_from_slice(unsafe {
        std::slice::from_raw_parts(&rt as *const RtMsg as *const u8, size_of::<RtMsg>())
    });
    push_attr(&mut body, RTA_DST, &ip_bytes(dst));
    if let Some(s) = src {
        push_attr(&mut body, RTA_SRC, &ip_bytes(s));
    }
    let hdr = NlMsgHdr {
        len: (size_of::<NlMsgHdr>() + body.len()) as u32,
        kind: RTM_GETROUTE,
        flags: NLM_F_REQUEST,
        seq,
        pid: 0,
    };
    let mut msg = Vec::with_capacity(hdr.len as usize);
    // SAFETY: NlMsgHdr is repr(C) plain data without padding.
    msg.extend_from_slice(unsafe {
        std::slice::from_raw_parts(&hdr as *const NlMsgHdr as *const u8, size_of::<NlMsgHdr>())
    });
    msg.extend_from_slice(&body);
    msg
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn addr_attr(family: u8, data: &[u8]) -> Option<IpAddr> {
    match data.len() {
        4 if family == libc::AF_INET as u8 => Some(IpAddr::from(<[u8; 4]>::try_from(data).ok()?)),
        16 if family == libc::AF_INET6 as u8 => {
            Some(IpAddr::from(<[u8; 16]>::try_from(data).ok()?))
        }
        _ => None,
    }
}

/// Parses one RTM_NEWROUTE (or NLMSG_ERROR) reply.
fn parse_reply(buf: &[u8]) -> io::Result<Route> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed rtnetlink reply");
    let len = read_u32(buf, 0).ok_or_else(bad)? as usize;
    let kind = read_u16(buf, 4).ok_or_else(bad)?;
    let msg = buf.get(..len.min(buf.len())).ok_or_else(bad)?;
    if kind == NLMSG_ERROR {
        let errno = read_u32(msg, 16).ok_or_else(bad)? as i32;
        return Err(io::Error::from_raw_os_error(-errno));
    }
    if kind != RTM_NEWROUTE {
        return Err(bad());
    }
    let rt_at = size_of::<NlMsgHdr>();
    let family = *msg.get(rt_at).ok_or_else(bad)?;
    let route_kind = *msg.get(rt_at + 7).ok_or_else(bad)?;
    let mut at = rt_at + size_of::<RtMsg>();
    let mut route = Route {
        oif: 0,
        kind: route_kind,
        prefsrc: None,
        gateway: None,
    };
    while at + 4 <= msg.len() {
        let alen = read_u16(msg, at).ok_or_else(bad)? as usize;
        let akind = read_u16(msg, at + 2).ok_or_else(bad)?;
        if alen < 4 || at + alen > msg.len() {
            break;
        }
        let data = &msg[at + 4..at + alen];
        match akind {
            RTA_OIF => route.oif = read_u32(data, 0).ok_or_else(bad)?,
            RTA_PREFSRC => route.prefsrc = addr_attr(family, data),
            RTA_GATEWAY => route.gateway = addr_attr(family, data),
            _ => {}
        }
        at += (alen + 3) & !3;
    }
    Ok(route)
}

struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor.
        unsafe { libc::close(self.0) };
    }
}

/// Asks the kernel how a packet to `dst` (from `src`, when given) would leave this host.
pub fn route_get(dst: IpAddr, src: Option<IpAddr>) -> io::Result<Route> {
    // SAFETY: plain socket syscalls on a descriptor we own.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = Fd(fd);
        let timeout = Duration::from_secs(2);
        let tv = libc::timeval {
            tv_sec: timeout.as_secs() as _,
            tv_usec: 0,
        };
        libc::setsockopt(
            fd.0,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const _ as *const libc::c_void,
            size_of::<libc::timeval>() as u32,
        );
        let msg = build_request(dst, src, 1);
        let mut sa: libc::sockaddr_nl = std::mem::zeroed();
        sa.nl_family = libc::AF_NETLINK as u16;
        let sent = libc::sendto(
            fd.0,
            msg.as_ptr() as *const libc::c_void,
            msg.len(),
            0,
            &sa as *const _ as *const libc::sockaddr,
            size_of::<libc::sockaddr_nl>() as u32,
        );
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; 8192];
        let n = libc::recv(fd.0, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        parse_reply(&buf[..n as usize])
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub loopback: bool,
}

fn sys(name: &str, attr: &str) -> Option<String> {
    fs::read_to_string(format!("/sys/class/net/{name}/{attr}"))
        .ok()
        .map(|s| s.trim().to_string())
}

fn parse_num(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// An interface the program can attach to: Ethernet framing (or loopback, framed alike).
pub fn interface(name: &str) -> Option<Interface> {
    let kind = parse_num(&sys(name, "type")?)?;
    if kind != ARPHRD_ETHER && kind != ARPHRD_LOOPBACK {
        return None;
    }
    let index = parse_num(&sys(name, "ifindex")?)?;
    Some(Interface {
        name: name.to_string(),
        index,
        loopback: kind == ARPHRD_LOOPBACK,
    })
}

pub fn is_up(name: &str) -> bool {
    sys(name, "flags")
        .and_then(|f| parse_num(&f))
        .is_some_and(|f| f & IFF_UP != 0)
}

/// Every up interface with Ethernet framing, plus loopback.
pub fn attachable_interfaces() -> Vec<Interface> {
    let mut out = Vec::new();
    let Ok(dir) = fs::read_dir("/sys/class/net") else {
        return out;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(iface) = interface(&name) {
            if is_up(&name) || iface.loopback {
                out.push(iface);
            }
        }
    }
    out.sort_by_key(|i| i.index);
    out
}

pub fn name_of(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf is IF_NAMESIZE bytes as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into buf.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_destination_and_optional_source() {
        let msg = build_request(
            "192.0.2.1".parse().unwrap(),
            Some("127.0.0.1".parse().unwrap()),
            9,
        );
        assert_eq!(read_u32(&msg, 0).unwrap() as usize, msg.len());
        assert_eq!(read_u16(&msg, 4), Some(RTM_GETROUTE));
        assert_eq!(msg[16], libc::AF_INET as u8);
        assert_eq!((msg[17], msg[18]), (32, 32));
        assert_eq!(&msg[32..36], &[192, 0, 2, 1]);
        let no_src = build_request("::1".parse().unwrap(), Some("0.0.0.0".parse().unwrap()), 9);
        assert_eq!((no_src[17], no_src[18]), (128, 0));
        assert_eq!(no_src.len(), 16 + 12 + 20);
    }

    #[test]
    fn error_reply_becomes_io_error() {
        let mut buf = vec![0u8; 36];
        buf[0..4].copy_from_slice(&36u32.to_ne_bytes());
        buf[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        buf[16..20].copy_from_slice(&(-libc::ENETUNREACH).to_ne_bytes());
        let err = parse_reply(&buf).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENETUNREACH));
    }

    #[test]
    fn truncated_reply_is_an_error_not_a_panic() {
        assert!(parse_reply(&[1, 2, 3]).is_err());
        let mut buf = vec![0u8; 20];
        buf[0..4].copy_from_slice(&200u32.to_ne_bytes());
        buf[4..6].copy_from_slice(&RTM_NEWROUTE.to_ne_bytes());
        assert!(parse_reply(&buf).is_err());
    }

    #[test]
    fn loopback_route_is_local_via_lo() {
        let route = route_get("127.0.0.1".parse().unwrap(), None).unwrap();
        assert_eq!(route.kind, RTN_LOCAL);
        assert_eq!(name_of(route.oif).as_deref(), Some("lo"));
    }
}
