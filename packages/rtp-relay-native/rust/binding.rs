//! The only file that knows N-API: converts JS option objects to core options, core
//! results to JS objects, and `RelayError` to a JS error whose `code` is `RTP_ERR_*`.

use crate::config::{
    flow_capacity, KernelConfig, LocalAddress, PortModeOption, RelayConfig, RemoteSpec,
    SessionOptions,
};
use crate::error::RelayError;
use crate::events::Event;
use crate::latch::{LatchMode, SourceChange};
use crate::relay::{Relay, SideInfo};
use crate::rtp::DropReason;
use crate::stats::SideSnapshot;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::net::IpAddr;

/// The one mapping from the core error enum to a JS error. The message starts with the
/// stable `RTP_ERR_*` code, which the TypeScript wrapper moves into `error.code`.
fn to_js_error(e: RelayError) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, format!("{}: {}", e.code(), e))
}

fn bad_option(msg: String) -> napi::Error {
    to_js_error(RelayError::BadOption(msg))
}

#[napi(object)]
pub struct NativeLocalAddress {
    pub address: String,
    pub advertised: Option<String>,
}

#[napi(object)]
pub struct NativeRelayOptions {
    pub addresses: Vec<NativeLocalAddress>,
    pub port_min: u32,
    pub port_max: u32,
    pub threads: Option<u32>,
    pub timeout_ms: Option<u32>,
    pub learn_window_ms: Option<u32>,
    pub max_packet_size: Option<u32>,
    pub file_limit: Option<u32>,
    pub kernel: Option<bool>,
    pub kernel_interfaces: Option<Vec<String>>,
    pub kernel_poll_ms: Option<u32>,
    /// 'auto' (default), 'sockets' or 'shared'.
    pub port_mode: Option<String>,
}

#[napi(object)]
pub struct NativeEvent {
    pub kind: String,
    pub session_id: u32,
    pub side: Option<String>,
    pub channel: Option<String>,
    pub address: Option<String>,
    pub port: Option<u32>,
    pub from_address: Option<String>,
    pub from_port: Option<u32>,
    pub idle_ms: Option<f64>,
}

#[napi(object)]
pub struct NativeSideOptions {
    pub address_index: Option<u32>,
    pub rtcp_mux: Option<bool>,
}

#[napi(object)]
pub struct NativeClockRate {
    pub payload_type: u32,
    pub clock_rate: u32,
}

#[napi(object)]
pub struct NativeSessionOptions {
    pub latching: Option<String>,
    pub strict_source: Option<bool>,
    pub source_change: Option<String>,
    pub learn_window_ms: Option<u32>,
    pub timeout_ms: Option<u32>,
    pub a: Option<NativeSideOptions>,
    pub b: Option<NativeSideOptions>,
    pub clock_rates: Option<Vec<NativeClockRate>>,
}

#[napi(object)]
pub struct NativeSideInfo {
    pub address: String,
    pub local_address: String,
    pub rtp_port: u32,
    pub rtcp_port: Option<u32>,
}

#[napi(object)]
pub struct NativeSessionInfo {
    pub id: u32,
    pub a: NativeSideInfo,
    pub b: NativeSideInfo,
}

#[napi(object)]
pub struct NativeRemote {
    pub address: String,
    pub rtp_port: u32,
    pub rtcp_port: Option<u32>,
    pub rtcp_mux: Option<bool>,
}

#[napi(object)]
pub struct NativeDrops {
    pub garbage: f64,
    pub not_rtp: f64,
    pub oversize: f64,
    pub unexpected_source: f64,
    pub no_remote: f64,
    pub send_error: f64,
}

#[napi(object)]
pub struct NativeSideStats {
    pub packets_in: f64,
    pub bytes_in: f64,
    pub packets_out: f64,
    pub bytes_out: f64,
    pub kernel_packets: f64,
    pub kernel_bytes: f64,
    pub dropped: NativeDrops,
    pub rtp_expected: f64,
    pub rtp_lost: f64,
    pub jitter: u32,
    pub jitter_ms: f64,
    pub last_packet_at: Option<f64>,
    pub latched_address: Option<String>,
    pub latched_port: Option<u32>,
    pub path: String,
}

#[napi(object)]
pub struct NativeSessionStats {
    pub a: NativeSideStats,
    pub b: NativeSideStats,
}

#[napi(object)]
pub struct NativeRelayInfo {
    pub mode: String,
    pub reason: String,
    pub threads: u32,
    pub file_limit: Option<f64>,
    pub ports_total: u32,
    pub ports_free: u32,
    pub sessions: u32,
    pub port_mode: String,
    pub port_mode_reason: String,
    pub unused_port_drops: f64,
}

type EventCallback = ThreadsafeFunction<
    Vec<NativeEvent>,
    napi::Unknown<'static>,
    Vec<NativeEvent>,
    napi::Status,
    false,
>;

fn side_name(i: u8) -> Option<String> {
    Some(if i == 0 { "a" } else { "b" }.to_string())
}

fn channel_name(rtcp: bool) -> Option<String> {
    Some(if rtcp { "rtcp" } else { "rtp" }.to_string())
}

fn to_native_event(e: Event) -> NativeEvent {
    let mut n = NativeEvent {
        kind: String::new(),
        session_id: e.session(),
        side: None,
        channel: None,
        address: None,
        port: None,
        from_address: None,
        from_port: None,
        idle_ms: None,
    };
    match e {
        Event::Latched {
            side, rtcp, addr, ..
        } => {
            n.kind = "latched".into();
            (n.side, n.channel) = (side_name(side), channel_name(rtcp));
            (n.address, n.port) = (Some(addr.ip().to_string()), Some(addr.port() as u32));
        }
        Event::SourceChanged {
            side,
            rtcp,
            from,
            to,
            ..
        } => {
            n.kind = "sourceChanged".into();
            (n.side, n.channel) = (side_name(side), channel_name(rtcp));
            (n.address, n.port) = (Some(to.ip().to_string()), Some(to.port() as u32));
            (n.from_address, n.from_port) = (Some(from.ip().to_string()), Some(from.port() as u32));
        }
        Event::Timeout { idle_ms, .. } => {
            n.kind = "timeout".into();
            n.idle_ms = Some(idle_ms as f64);
        }
        Event::Closed { .. } => n.kind = "closed".into(),
    }
    n
}

fn relay_config(o: NativeRelayOptions) -> napi::Result<RelayConfig> {
    let mut cfg = RelayConfig::default();
    let mut addresses = Vec::with_capacity(o.addresses.len());
    for a in o.addresses {
        let ip: IpAddr = a.address.parse().map_err(|_| {
            to_js_error(RelayError::BadAddress(format!(
                "'{}' is not an IP address",
                a.address
            )))
        })?;
        addresses.push(LocalAddress {
            ip,
            advertised: a.advertised,
        });
    }
    cfg.addresses = addresses;
    let port = |p: u32, name: &str| {
        u16::try_from(p).map_err(|_| bad_option(format!("{name}: {p} is not a port")))
    };
    cfg.port_min = port(o.port_min, "portMin")?;
    cfg.port_max = port(o.port_max, "portMax")?;
    if let Some(t) = o.threads {
        cfg.threads = t as usize;
    }
    cfg.timeout_ms = o.timeout_ms.map(u64::from).unwrap_or(cfg.timeout_ms);
    cfg.learn_window_ms = o
        .learn_window_ms
        .map(u64::from)
        .unwrap_or(cfg.learn_window_ms);
    cfg.max_packet = o
        .max_packet_size
        .map(|v| v as usize)
        .unwrap_or(cfg.max_packet);
    cfg.nofile_target = o.file_limit.map(u64::from).unwrap_or(cfg.nofile_target);
    cfg.kernel = KernelConfig {
        enabled: o.kernel.unwrap_or(true),
        interfaces: o.kernel_interfaces.unwrap_or_default(),
        max_entries: flow_capacity(cfg.port_min, cfg.port_max, cfg.addresses.len()),
    };
    cfg.port_mode = match o.port_mode.as_deref() {
        None | Some("auto") => PortModeOption::Auto,
        Some("sockets") => PortModeOption::Sockets,
        Some("shared") => PortModeOption::Shared,
        Some(m) => return Err(bad_option(format!("portMode: unknown mode '{m}'"))),
    };
    cfg.kernel_poll_ms = o
        .kernel_poll_ms
        .map(u64::from)
        .unwrap_or(cfg.kernel_poll_ms);
    Ok(cfg)
}

fn session_options(o: NativeSessionOptions, cfg: &RelayConfig) -> napi::Result<SessionOptions> {
    let mut s = SessionOptions::new(
        o.learn_window_ms
            .map(u64::from)
            .unwrap_or(cfg.learn_window_ms),
    );
    s.latch.mode = match o.latching.as_deref() {
        None | Some("heuristic") => LatchMode::Heuristic,
        Some("immediate") => LatchMode::Immediate,
        Some("off") => LatchMode::Off,
        Some(m) => return Err(bad_option(format!("latching: unknown mode '{m}'"))),
    };
    s.latch.strict_source = o.strict_source.unwrap_or(false);
    s.latch.source_change = match o.source_change.as_deref() {
        None | Some("relearn") => SourceChange::Relearn,
        Some("drop") => SourceChange::Drop,
        Some(m) => return Err(bad_option(format!("sourceChange: unknown value '{m}'"))),
    };
    s.timeout_ms = o.timeout_ms.filter(|t| *t > 0).map(u64::from);
    for (i, side) in [o.a, o.b].into_iter().enumerate() {
        if let Some(side) = side {
            s.sides[i].address_index = side.address_index.unwrap_or(0) as usize;
            s.sides[i].rtcp_mux_only = side.rtcp_mux.unwrap_or(false);
        }
    }
    for c in o.clock_rates.unwrap_or_default() {
        if c.payload_type > 127 || c.clock_rate == 0 {
            return Err(bad_option(format!(
                "clockRates: bad entry {}/{}",
                c.payload_type, c.clock_rate
            )));
        }
        s.clock_rates.push((c.payload_type as u8, c.clock_rate));
    }
    Ok(s)
}

fn side_info(s: &SideInfo) -> NativeSideInfo {
    NativeSideInfo {
        address: s.advertised.clone(),
        local_address: s.local_ip.to_string(),
        rtp_port: s.rtp_port as u32,
        rtcp_port: s.rtcp_port.map(u32::from),
    }
}

fn side_index(side: &str) -> napi::Result<usize> {
    match side {
        "a" => Ok(0),
        "b" => Ok(1),
        _ => Err(bad_option(format!("side must be 'a' or 'b', got '{side}'"))),
    }
}

#[napi]
pub struct NativeRelay {
    relay: Relay,
}

#[napi]
impl NativeRelay {
    /// Starts the worker threads; `on_events` receives arrays of events, one call per batch.
    #[napi(constructor)]
    pub fn new(options: NativeRelayOptions, on_events: EventCallback) -> napi::Result<Self> {
        let cfg = relay_config(options)?;
        let sink = Box::new(move |events: Vec<Event>| {
            let batch: Vec<NativeEvent> = events.into_iter().map(to_native_event).collect();
            on_events.call(batch, ThreadsafeFunctionCallMode::NonBlocking);
        });
        let relay = Relay::start(cfg, sink).map_err(to_js_error)?;
        Ok(NativeRelay { relay })
    }

    #[napi]
    pub fn info(&self) -> NativeRelayInfo {
        let i = self.relay.info();
        NativeRelayInfo {
            mode: if i.mode.kernel { "kernel" } else { "userspace" }.into(),
            reason: i.mode.reason,
            threads: i.threads as u32,
            file_limit: i.nofile_limit.map(|v| v as f64),
            ports_total: i.ports_total as u32,
            ports_free: i.ports_free as u32,
            sessions: i.sessions as u32,
            port_mode: if i.port_mode.shared {
                "shared"
            } else {
                "sockets"
            }
            .into(),
            port_mode_reason: i.port_mode.reason,
            unused_port_drops: i.unused_port_drops as f64,
        }
    }

    #[napi]
    pub fn create_session(&self, options: NativeSessionOptions) -> napi::Result<NativeSessionInfo> {
        let opts = session_options(options, self.relay.config())?;
        let info = self.relay.create_session(&opts).map_err(to_js_error)?;
        Ok(NativeSessionInfo {
            id: info.id,
            a: side_info(&info.sides[0]),
            b: side_info(&info.sides[1]),
        })
    }

    #[napi]
    pub fn set_remote(&self, id: u32, side: String, remote: NativeRemote) -> napi::Result<()> {
        let side = side_index(&side)?;
        let spec = RemoteSpec::parse(
            &remote.address,
            remote.rtp_port,
            remote.rtcp_port,
            remote.rtcp_mux.unwrap_or(false),
        )
        .map_err(to_js_error)?;
        self.relay.set_remote(id, side, spec).map_err(to_js_error)
    }

    #[napi]
    pub fn stats(&self, id: u32) -> napi::Result<NativeSessionStats> {
        let s = self.relay.stats(id).map_err(to_js_error)?;
        let [a, b] = &s.sides;
        Ok(NativeSessionStats {
            a: self.side_stats(a),
            b: self.side_stats(b),
        })
    }

    #[napi]
    pub fn close_session(&self, id: u32) -> napi::Result<bool> {
        self.relay.close_session(id).map_err(to_js_error)
    }

    #[napi]
    pub fn close(&self) {
        self.relay.shutdown();
    }

    fn side_stats(&self, s: &SideSnapshot) -> NativeSideStats {
        let d = |r: DropReason| s.dropped[r as usize] as f64;
        NativeSideStats {
            packets_in: s.packets_in as f64,
            bytes_in: s.bytes_in as f64,
            packets_out: s.packets_out as f64,
            bytes_out: s.bytes_out as f64,
            kernel_packets: s.kernel_packets as f64,
            kernel_bytes: s.kernel_bytes as f64,
            dropped: NativeDrops {
                garbage: d(DropReason::Garbage),
                not_rtp: d(DropReason::NotRtp),
                oversize: d(DropReason::Oversize),
                unexpected_source: d(DropReason::UnexpectedSource),
                no_remote: d(DropReason::NoRemote),
                send_error: d(DropReason::SendError),
            },
            rtp_expected: s.rtp_expected as f64,
            rtp_lost: s.rtp_lost as f64,
            jitter: s.jitter_ts,
            jitter_ms: s.jitter_us as f64 / 1000.0,
            last_packet_at: (s.last_packet_ns != 0)
                .then(|| self.relay.wall_time_ms(s.last_packet_ns) as f64),
            latched_address: s.latched.map(|a| a.ip().to_string()),
            latched_port: s.latched.map(|a| a.port() as u32),
            path: if s.kernel { "kernel" } else { "userspace" }.into(),
        }
    }
}
