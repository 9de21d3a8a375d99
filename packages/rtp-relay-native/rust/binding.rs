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
use napi::bindgen_prelude::Float64ArraySlice;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::net::IpAddr;

/// The one mapping from the core error enum to a JS error. The message starts with the
/// stable `RTP_ERR_*` code, which the TypeScript wrapper moves into `error.code`.
fn to_js_error(e: RelayError) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, format!("{}: {}", e.code(), e))
}

/// Numbers per side in `stats_into` (keep in sync with src/relay-stats.ts).
const STATS_SIDE: usize = 21;

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

    /// `side` is 0 (a) or 1 (b); the remote travels as plain arguments (no object).
    #[napi]
    pub fn set_remote(
        &self,
        id: u32,
        side: u32,
        address: String,
        rtp_port: u32,
        rtcp_port: Option<u32>,
        rtcp_mux: bool,
    ) -> napi::Result<()> {
        if side > 1 {
            return Err(bad_option(format!(
                "side must be 0 (a) or 1 (b), got {side}"
            )));
        }
        let spec =
            RemoteSpec::parse(&address, rtp_port, rtcp_port, rtcp_mux).map_err(to_js_error)?;
        self.relay
            .set_remote(id, side as usize, spec)
            .map_err(to_js_error)
    }

    /// Writes both sides' stats into `out` (`STATS_SIDE` numbers per side, laid out as
    /// `write_side_stats` says) without building objects; the wrapper builds them.
    /// Returns the latched addresses only when one is IPv6 (IPv4 travels as a number).
    #[napi]
    pub fn stats_into(
        &self,
        id: u32,
        mut out: Float64ArraySlice<'_>,
    ) -> napi::Result<Option<Vec<String>>> {
        // SAFETY: the view is written synchronously on the JS thread, which is blocked in
        // this call; no other code can touch the buffer meanwhile.
        let out = unsafe { out.as_mut() };
        if out.len() < 2 * STATS_SIDE {
            return Err(bad_option(format!(
                "stats buffer holds {} numbers, needs {}",
                out.len(),
                2 * STATS_SIDE
            )));
        }
        let s = self.relay.stats(id).map_err(to_js_error)?;
        let (oa, ob) = out.split_at_mut(STATS_SIDE);
        self.write_side_stats(&s.sides[0], oa);
        self.write_side_stats(&s.sides[1], ob);
        let v6 = |x: &SideSnapshot| match x.latched {
            Some(a) if a.is_ipv6() => a.ip().to_string(),
            _ => String::new(),
        };
        let any_v6 = s
            .sides
            .iter()
            .any(|x| x.latched.is_some_and(|a| a.is_ipv6()));
        Ok(any_v6.then(|| vec![v6(&s.sides[0]), v6(&s.sides[1])]))
    }

    #[napi]
    pub fn close_session(&self, id: u32) -> napi::Result<bool> {
        self.relay.close_session(id).map_err(to_js_error)
    }

    #[napi]
    pub fn close(&self) {
        self.relay.shutdown();
    }

    /// One side's numbers, in the order of the wrapper's `RelaySideStats` (drops inline):
    /// 0-5 packets/bytes in/out and kernel packets/bytes, 6-11 drops (garbage, notRtp,
    /// oversize, unexpectedSource, noRemote, sendError), 12 rtpExpected, 13 rtpLost,
    /// 14 jitter, 15 jitterMs, 16 lastPacketAt (NaN: none), 17 latched family (0: none,
    /// 4, 6), 18 latched port, 19 latched IPv4 address as a number, 20 path (1: kernel).
    fn write_side_stats(&self, s: &SideSnapshot, out: &mut [f64]) {
        let d = |r: DropReason| s.dropped[r as usize] as f64;
        let (family, v4) = match s.latched.map(|a| a.ip()) {
            None => (0.0, 0.0),
            Some(IpAddr::V4(ip)) => (4.0, f64::from(u32::from(ip))),
            Some(IpAddr::V6(_)) => (6.0, 0.0),
        };
        let last = match s.last_packet_ns {
            0 => f64::NAN,
            ns => self.relay.wall_time_ms(ns) as f64,
        };
        let values = [
            s.packets_in as f64,
            s.bytes_in as f64,
            s.packets_out as f64,
            s.bytes_out as f64,
            s.kernel_packets as f64,
            s.kernel_bytes as f64,
            d(DropReason::Garbage),
            d(DropReason::NotRtp),
            d(DropReason::Oversize),
            d(DropReason::UnexpectedSource),
            d(DropReason::NoRemote),
            d(DropReason::SendError),
            s.rtp_expected as f64,
            s.rtp_lost as f64,
            f64::from(s.jitter_ts),
            s.jitter_us as f64 / 1000.0,
            last,
            family,
            s.latched.map_or(0.0, |a| f64::from(a.port())),
            v4,
            if s.kernel { 1.0 } else { 0.0 },
        ];
        out[..STATS_SIDE].copy_from_slice(&values);
    }
}
