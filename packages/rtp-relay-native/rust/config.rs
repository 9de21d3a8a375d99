//! Options of the relay and of one session, validated before anything is bound.

use crate::error::RelayError;
use crate::latch::{LatchConfig, LatchMode, SourceChange};
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone)]
pub struct LocalAddress {
    pub ip: IpAddr,
    /// The address written into SDP for sockets on `ip` (defaults to `ip`).
    pub advertised: Option<String>,
}

#[derive(Debug, Clone)]
pub struct KernelConfig {
    pub enabled: bool,
    pub interfaces: Vec<String>,
    /// Size of the BPF flow map: one entry per relay socket at most (see `flow_capacity`).
    pub max_entries: u32,
}

/// One kernel entry per relay port per local address is the most the relay can install.
pub fn flow_capacity(port_min: u16, port_max: u16, addresses: usize) -> u32 {
    let ports = u32::from(port_max.saturating_sub(port_min)) + 1;
    ports
        .saturating_mul(addresses.max(1) as u32)
        .clamp(1024, 1 << 20)
}

/// How relay ports receive: a socket per port, or shared sockets fed by sk_lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PortModeOption {
    /// Shared when the build, privileges and kernel allow, else sockets.
    #[default]
    Auto,
    Sockets,
    Shared,
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub addresses: Vec<LocalAddress>,
    pub port_min: u16,
    pub port_max: u16,
    pub threads: usize,
    pub timeout_ms: u64,
    pub learn_window_ms: u64,
    pub max_packet: usize,
    /// Open-file limit to reach at start (0 = leave RLIMIT_NOFILE alone).
    pub nofile_target: u64,
    pub kernel: KernelConfig,
    /// How often kernel counters are read into stats.
    pub kernel_poll_ms: u64,
    pub port_mode: PortModeOption,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            addresses: vec![LocalAddress {
                ip: IpAddr::from([0, 0, 0, 0]),
                advertised: None,
            }],
            port_min: 30000,
            port_max: 39999,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            timeout_ms: 60_000,
            learn_window_ms: 3_000,
            max_packet: 2048,
            nofile_target: 262_144,
            kernel: KernelConfig {
                enabled: true,
                interfaces: Vec::new(),
                max_entries: flow_capacity(30000, 39999, 1),
            },
            kernel_poll_ms: 1_000,
            port_mode: PortModeOption::Auto,
        }
    }
}

impl RelayConfig {
    pub fn validate(&self) -> Result<(), RelayError> {
        if self.addresses.is_empty() {
            return Err(RelayError::BadOption(
                "addresses: at least one local address is needed".into(),
            ));
        }
        if self.port_min > self.port_max || self.port_min < 1024 {
            return Err(RelayError::BadOption(format!(
                "ports: bad range {}-{}",
                self.port_min, self.port_max
            )));
        }
        if self.threads == 0 || self.threads > 256 {
            return Err(RelayError::BadOption("threads: must be 1..256".into()));
        }
        if self.timeout_ms == 0 {
            return Err(RelayError::BadOption("timeoutMs: must be > 0".into()));
        }
        if !(64..=65535).contains(&self.max_packet) {
            return Err(RelayError::BadOption(
                "maxPacketSize: must be 64..65535".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct SideOptions {
    /// Index into the relay's local addresses (or pick by address with `side_address`).
    pub address_index: usize,
    /// Only one port (RTP and RTCP multiplexed, RFC 5761); no RTCP socket is bound.
    pub rtcp_mux_only: bool,
}

#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub latch: LatchConfig,
    pub timeout_ms: Option<u64>,
    pub sides: [SideOptions; 2],
    /// Clock rates of dynamic payload types for jitter (static ones use RFC 3551).
    pub clock_rates: Vec<(u8, u32)>,
}

impl SessionOptions {
    pub fn new(learn_window_ms: u64) -> SessionOptions {
        SessionOptions {
            latch: LatchConfig {
                mode: LatchMode::Heuristic,
                strict_source: false,
                source_change: SourceChange::Relearn,
                learn_window_ns: learn_window_ms * 1_000_000,
            },
            timeout_ms: None,
            sides: [SideOptions::default(), SideOptions::default()],
            clock_rates: Vec::new(),
        }
    }
}

/// The remote end of one side, as the SDP says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteSpec {
    pub rtp: SocketAddr,
    pub rtcp: Option<SocketAddr>,
    pub rtcp_mux: bool,
}

impl RemoteSpec {
    /// RFC 3550 §11: without an explicit RTCP port the RTCP port is the RTP port + 1.
    pub fn rtcp_addr(&self) -> SocketAddr {
        self.rtcp
            .unwrap_or_else(|| SocketAddr::new(self.rtp.ip(), self.rtp.port().wrapping_add(1)))
    }

    pub fn parse(
        address: &str,
        rtp_port: u32,
        rtcp_port: Option<u32>,
        rtcp_mux: bool,
    ) -> Result<RemoteSpec, RelayError> {
        let ip: IpAddr = address
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| RelayError::BadAddress(format!("'{address}' is not an IP address")))?;
        let port = |p: u32| -> Result<u16, RelayError> {
            if p == 0 || p > 65535 {
                Err(RelayError::BadAddress(format!("port {p} out of range")))
            } else {
                Ok(p as u16)
            }
        };
        let rtp = SocketAddr::new(ip, port(rtp_port)?);
        let rtcp = rtcp_port
            .map(port)
            .transpose()?
            .map(|p| SocketAddr::new(ip, p));
        if rtcp.is_none() && !rtcp_mux && rtp_port == 65535 {
            return Err(RelayError::BadAddress(
                "rtpPort 65535 leaves no RTCP port".into(),
            ));
        }
        if ip.is_unspecified() || ip.is_multicast() {
            return Err(RelayError::BadAddress(format!(
                "'{address}' cannot be a media destination"
            )));
        }
        Ok(RemoteSpec {
            rtp,
            rtcp,
            rtcp_mux,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_spec_parses_sdp_values_and_defaults_rtcp_to_the_next_port() {
        let r = RemoteSpec::parse("192.0.2.1", 4000, None, false).unwrap();
        assert_eq!(r.rtcp_addr(), "192.0.2.1:4001".parse().unwrap());
        let r6 = RemoteSpec::parse("[2001:db8::1]", 4000, Some(5000), false).unwrap();
        assert_eq!(r6.rtcp_addr(), "[2001:db8::1]:5000".parse().unwrap());
    }

    #[test]
    fn remote_spec_rejects_bad_addresses_and_ports() {
        for (a, p) in [
            ("example.com", 4000),
            ("192.0.2.1", 0),
            ("192.0.2.1", 70000),
            ("0.0.0.0", 4000),
            ("224.0.0.1", 4000),
        ] {
            let e = RemoteSpec::parse(a, p, None, false).unwrap_err();
            assert_eq!(e.code(), "RTP_ERR_BAD_ADDRESS", "{a}:{p}");
        }
    }

    #[test]
    fn relay_config_rejects_inconsistent_values() {
        let ok = RelayConfig::default();
        assert!(ok.validate().is_ok());
        let bad = RelayConfig {
            port_min: 40000,
            port_max: 30000,
            ..RelayConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().code(), "RTP_ERR_BAD_OPTION");
        let no_addr = RelayConfig {
            addresses: vec![],
            ..RelayConfig::default()
        };
        assert!(no_addr.validate().is_err());
    }
}
