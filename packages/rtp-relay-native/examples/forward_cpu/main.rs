//! Quick self-measurement of the relay core (not a test, not the project benchmark, which
//! lives in bench/): CPU per forwarded packet in userspace mode, and session capacity, in
//! either port mode (`sockets`: a socket per port; `shared`: sk_lookup + raw sends, needs
//! root) or `both`, one after the other in the same run.
//!
//!   cargo run --release --example forward_cpu -- forward [pps] [secs] [threads] [sockets|shared|both]
//!   cargo run --release --example forward_cpu -- capacity [sessions] [churn_secs] [sockets|shared]
//!
//! Everything runs on 127.0.0.1/127.0.0.2 and stops by itself.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_rtp_relay::config::{
    LocalAddress, PortModeOption, RelayConfig, RemoteSpec, SessionOptions,
};
use switchboard_rtp_relay::latch::LatchMode;
use switchboard_rtp_relay::relay::Relay;
use switchboard_rtp_relay::sys::{bind_udp, local_addr, RecvBatch};

mod probes;
use probes::{fds, process_cpu_ns, rss_kb, threads_cpu_ns};

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn port_mode(name: &str) -> PortModeOption {
    match name {
        "shared" => PortModeOption::Shared,
        _ => PortModeOption::Sockets,
    }
}

fn rtp(seq: u16, ssrc: u32) -> [u8; 172] {
    let mut b = [0xd5u8; 172];
    b[0] = 0x80;
    b[1] = 0;
    b[2..4].copy_from_slice(&seq.to_be_bytes());
    b[4..8].copy_from_slice(&(seq as u32 * 160).to_be_bytes());
    b[8..12].copy_from_slice(&ssrc.to_be_bytes());
    b
}

fn set_rcvbuf(fd: i32, bytes: i32) {
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &bytes as *const _ as *const libc::c_void,
            4,
        );
    }
}

fn config(threads: usize, second: bool, mode: PortModeOption) -> RelayConfig {
    let mut addresses = vec![LocalAddress {
        ip: IpAddr::from([127, 0, 0, 1]),
        advertised: None,
    }];
    if second {
        addresses.push(LocalAddress {
            ip: IpAddr::from([127, 0, 0, 2]),
            advertised: None,
        });
    }
    let mut cfg = RelayConfig {
        addresses,
        port_min: 10000,
        port_max: 59999,
        threads,
        port_mode: mode,
        ..RelayConfig::default()
    };
    cfg.kernel.enabled = false;
    cfg
}

/// Offers `pps` for `secs`; returns (worker µs/packet, whole-process µs/packet, loss %).
fn forward(pps: u64, secs: u64, threads: usize, mode: PortModeOption) -> (f64, f64, f64) {
    let relay = match Relay::start(config(threads, false, mode), Box::new(|_| {})) {
        Ok(r) => r,
        Err(e) => {
            println!("forward: cannot start the relay in {mode:?} mode: {e}");
            return (0.0, 0.0, 100.0);
        }
    };
    println!(
        "forward: port mode {} ({})",
        if relay.port_mode().shared {
            "shared"
        } else {
            "sockets"
        },
        relay.port_mode().reason
    );
    let gen = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let sink = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    set_rcvbuf(sink.as_raw_fd(), 32 << 20);
    let (gen_addr, sink_addr) = (
        local_addr(gen.as_raw_fd()).unwrap(),
        local_addr(sink.as_raw_fd()).unwrap(),
    );
    let streams = (pps / 50).max(1) as usize; // 50 packets/s per stream, as G.711 at 20 ms
    let mut opts = SessionOptions::new(3000);
    opts.latch.mode = LatchMode::Immediate;
    let mut targets = Vec::with_capacity(streams);
    let mut ids = Vec::with_capacity(streams);
    for _ in 0..streams {
        let s = relay.create_session(&opts).expect("session");
        relay
            .set_remote(
                s.id,
                0,
                RemoteSpec {
                    rtp: gen_addr,
                    rtcp: None,
                    rtcp_mux: false,
                },
            )
            .unwrap();
        relay
            .set_remote(
                s.id,
                1,
                RemoteSpec {
                    rtp: sink_addr,
                    rtcp: None,
                    rtcp_mux: false,
                },
            )
            .unwrap();
        targets.push(SocketAddr::new(s.sides[0].local_ip, s.sides[0].rtp_port));
        ids.push(s.id);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let rx = {
        let (stop, received) = (stop.clone(), received.clone());
        std::thread::Builder::new()
            .name("sink".into())
            .spawn(move || {
                let mut batch = RecvBatch::new(2048);
                while !stop.load(Relaxed) {
                    match batch.recv(sink.as_raw_fd()) {
                        Ok(0) => std::thread::sleep(Duration::from_micros(200)),
                        Ok(n) => {
                            received.fetch_add(n as u64, Relaxed);
                        }
                        Err(_) => break,
                    }
                }
            })
            .unwrap()
    };
    let cpu0 = threads_cpu_ns("rtp-worker");
    let proc0 = process_cpu_ns();
    let start = Instant::now();
    let mut sent = 0u64;
    let mut send_errors = 0u64;
    let mut seq = 0u16;
    let mut next = 0usize;
    while start.elapsed() < Duration::from_secs(secs) {
        let due = (start.elapsed().as_secs_f64() * pps as f64) as u64;
        while sent < due {
            if next == 0 {
                seq = seq.wrapping_add(1);
            }
            let pkt = rtp(seq, next as u32);
            if switchboard_rtp_relay::sys::send_to(gen.as_raw_fd(), &pkt, &targets[next]).is_err() {
                send_errors += 1;
            }
            next = (next + 1) % targets.len();
            sent += 1;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    // On a busy machine the worker may be behind: wait (bounded) until the sink stops growing.
    let drain_end = Instant::now() + Duration::from_secs(10);
    let mut last = u64::MAX;
    while Instant::now() < drain_end
        && received.load(Relaxed) != last
        && received.load(Relaxed) < sent
    {
        last = received.load(Relaxed);
        std::thread::sleep(Duration::from_millis(300));
    }
    let cpu = threads_cpu_ns("rtp-worker") - cpu0;
    let proc_cpu = process_cpu_ns() - proc0;
    stop.store(true, Relaxed);
    let _ = rx.join();
    let got = received.load(Relaxed);
    let loss = 100.0 * (sent.saturating_sub(got)) as f64 / sent as f64;
    let (per_pkt, per_proc) = (
        cpu as f64 / 1e3 / got.max(1) as f64,
        proc_cpu as f64 / 1e3 / got.max(1) as f64,
    );
    println!(
        "forward: {streams} streams, offered {pps} pps for {secs} s, threads {threads}: sent {sent}, forwarded {got} (loss {loss:.3}%), relay worker CPU {:.2} s = {per_pkt:.2} us/packet, {:.1}% of one core; whole process (generator and sink included) {per_proc:.2} us/packet",
        cpu as f64 / 1e9,
        100.0 * cpu as f64 / 1e9 / secs as f64
    );
    let (mut rin, mut rdrop, mut silent) = (0u64, 0u64, 0usize);
    let mut per = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if let Ok(st) = relay.stats(*id) {
            if st.sides[0].packets_in == 0 {
                silent += 1;
                if silent < 5 {
                    println!("silent session {id} target {}", targets[i]);
                }
            }
            rin += st.sides[0].packets_in;
            per.push((st.sides[0].packets_in, targets[i].port()));
            rdrop += st.sides[0].dropped.iter().sum::<u64>();
        }
    }
    per.sort();
    if std::env::var("PER").is_ok() {
        println!(
            "per-session min {:?} p10 {:?} median {:?} max {:?}",
            per.first(),
            per.get(per.len() / 10),
            per.get(per.len() / 2),
            per.last()
        );
        let low: Vec<u16> = per
            .iter()
            .filter(|p| p.0 < per[per.len() / 2].0 / 2)
            .map(|p| p.1)
            .collect();
        println!(
            "low sessions {}: ports {:?}",
            low.len(),
            &low[..low.len().min(40)]
        );
    }
    println!("relay: received {rin}, dropped {rdrop}, sessions that got nothing {silent}, generator send errors {send_errors}");
    relay.shutdown();
    (per_pkt, per_proc, loss)
}

/// Both port modes in the same run, same load, one after the other.
fn forward_both(pps: u64, secs: u64, threads: usize) {
    let s = forward(pps, secs, threads, PortModeOption::Sockets);
    let sh = forward(pps, secs, threads, PortModeOption::Shared);
    println!("| port mode | worker us/packet | process us/packet | loss % |");
    println!("|---|---|---|---|");
    println!("| sockets | {:.2} | {:.2} | {:.3} |", s.0, s.1, s.2);
    println!("| shared | {:.2} | {:.2} | {:.3} |", sh.0, sh.1, sh.2);
}

fn capacity(n: usize, churn_secs: u64, mode: PortModeOption) {
    let relay = Relay::start(config(2, true, mode), Box::new(|_| {})).expect("relay");
    let info = relay.info();
    println!(
        "capacity: open-file limit {:?}, port pairs {}, port mode {:?} ({})",
        info.nofile_limit, info.ports_total, mode, info.port_mode.reason
    );
    let (fd0, rss0) = (fds(), rss_kb());
    let mut opts = SessionOptions::new(3000);
    opts.sides[1].address_index = 1;
    let t0 = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        match relay.create_session(&opts) {
            Ok(s) => ids.push(s.id),
            Err(e) => {
                println!("capacity: stopped at {i} sessions: {e}");
                break;
            }
        }
    }
    println!(
        "capacity: {} sessions in {:.2} s, fds {} -> {}, RSS {} -> {} MiB",
        ids.len(),
        t0.elapsed().as_secs_f64(),
        fd0,
        fds(),
        rss0 / 1024,
        rss_kb() / 1024
    );
    // Churn: 1,000 create+close per second on top of the standing sessions.
    let gen: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let (fd1, rss1) = (fds(), rss_kb());
    let t1 = Instant::now();
    let mut cycles = 0u64;
    let mut victim = 0usize;
    while t1.elapsed() < Duration::from_secs(churn_secs) {
        let due = (t1.elapsed().as_secs_f64() * 1000.0) as u64;
        while cycles < due {
            let _ = relay.close_session(ids[victim]);
            let s = relay.create_session(&opts).expect("churn create");
            let _ = relay.set_remote(
                s.id,
                0,
                RemoteSpec {
                    rtp: gen,
                    rtcp: None,
                    rtcp_mux: false,
                },
            );
            ids[victim] = s.id;
            victim = (victim + 1) % ids.len();
            cycles += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "churn: {cycles} create+close in {:.1} s, fds {} -> {}, RSS {} -> {} MiB",
        t1.elapsed().as_secs_f64(),
        fd1,
        fds(),
        rss1 / 1024,
        rss_kb() / 1024
    );
    let t2 = Instant::now();
    for id in ids {
        let _ = relay.close_session(id);
    }
    println!(
        "capacity: closed all in {:.2} s, fds {}, free pairs {}/{}",
        t2.elapsed().as_secs_f64(),
        fds(),
        relay.info().ports_free,
        relay.info().ports_total
    );
    relay.shutdown();
}

/// Control run without the relay: the same generator into plain sockets polled in a loop.
fn plain(pps: u64, secs: u64) {
    let n = (pps / 50) as usize;
    let socks: Vec<_> = (0..n)
        .map(|_| bind_udp("127.0.0.1:0".parse().unwrap()).unwrap())
        .collect();
    let targets: Vec<SocketAddr> = socks
        .iter()
        .map(|s| local_addr(s.as_raw_fd()).unwrap())
        .collect();
    let gen = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let rx = {
        let (stop, received) = (stop.clone(), received.clone());
        std::thread::spawn(move || {
            let mut batch = RecvBatch::new(2048);
            while !stop.load(Relaxed) {
                for s in &socks {
                    if let Ok(k) = batch.recv(s.as_raw_fd()) {
                        received.fetch_add(k as u64, Relaxed);
                    }
                }
            }
        })
    };
    let start = Instant::now();
    let (mut sent, mut next) = (0u64, 0usize);
    while start.elapsed() < Duration::from_secs(secs) {
        let due = (start.elapsed().as_secs_f64() * pps as f64) as u64;
        while sent < due {
            let _ = switchboard_rtp_relay::sys::send_to(
                gen.as_raw_fd(),
                &rtp(sent as u16, 1),
                &targets[next],
            );
            next = (next + 1) % targets.len();
            sent += 1;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Relaxed);
    let _ = rx.join();
    println!("plain: sent {sent}, received {}", received.load(Relaxed));
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("plain") => plain(arg(2, 100_000), arg(3, 3)),
        Some("capacity") => {
            let mode = std::env::args().nth(4).unwrap_or_default();
            capacity(arg(2, 20_000) as usize, arg(3, 10), port_mode(&mode))
        }
        _ => {
            let (pps, secs, threads) = (arg(2, 100_000), arg(3, 10), arg(4, 1) as usize);
            match std::env::args().nth(5).as_deref() {
                Some("both") => forward_both(pps, secs, threads),
                Some(m) => {
                    forward(pps, secs, threads, port_mode(m));
                }
                None => {
                    forward(pps, secs, threads, PortModeOption::Sockets);
                }
            }
        }
    }
}
