//! RTP load generator: N streams x P packets/s of 172-byte RTP (12-byte header + 160-byte
//! G.711 payload), round-robin over the streams, paced against the monotonic clock and sent
//! with sendmmsg from one socket. Stream i goes to target i (targets cycle when fewer).
//!
//! rtp-gen --targets FILE [--streams N] [--pps 50] [--duration 10] [--bind IP] [--port 0] [--tick-us 1000]
//! Prints one JSON line: {"sent":..,"send_errors":..,"elapsed_s":..,"cpu_s":..,"streams":..}

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use rtp_load::{
    read_targets, self_cpu_seconds, set_buffer, sockaddr, write_rtp_header, Args, G711_PAYLOAD,
    RTP_HEADER,
};

const BATCH: usize = 64;
const PACKET: usize = RTP_HEADER + G711_PAYLOAD;

struct Stream {
    seq: u16,
    ts: u32,
}

fn main() {
    let args = Args::parse();
    let targets = read_targets(args.required("targets")).unwrap_or_else(|e| {
        eprintln!("rtp-gen: {e}");
        std::process::exit(2)
    });
    if targets.is_empty() {
        eprintln!("rtp-gen: no targets");
        std::process::exit(2);
    }
    let streams: usize = args.num("streams", targets.len());
    let pps: f64 = args.num("pps", 50.0);
    let duration = Duration::from_secs_f64(args.num("duration", 10.0));
    let tick = Duration::from_micros(args.num("tick-us", 1000));
    let bind = args.get("bind").map(str::to_string).unwrap_or_else(|| {
        if targets[0].is_ipv4() {
            "0.0.0.0".into()
        } else {
            "::".into()
        }
    });
    let port: u16 = args.num("port", 0);
    let sock =
        UdpSocket::bind(SocketAddr::new(bind.parse().expect("--bind IP"), port)).expect("bind");
    set_buffer(&sock, false, 8 << 20);
    set_buffer(&sock, true, 64 << 10);
    let names: Vec<_> = (0..streams)
        .map(|i| sockaddr(&targets[i % targets.len()]))
        .collect();
    let mut state: Vec<Stream> = (0..streams)
        .map(|i| Stream {
            seq: (i as u16).wrapping_mul(7),
            ts: 0,
        })
        .collect();

    let rate = streams as f64 * pps;
    let total = (rate * duration.as_secs_f64()).round() as u64;
    let mut bufs = vec![[0x55u8; PACKET]; BATCH];
    // SAFETY: zeroed iovec/mmsghdr are valid and filled before use.
    let mut iovs: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut msgs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let (mut sent, mut errors, mut next) = (0u64, 0u64, 0usize);
    let cpu0 = self_cpu_seconds();
    let start = Instant::now();
    // Time-bounded: a generator that falls behind (CPU starved) does not run past `duration`;
    // the shortfall shows as a lower achieved rate.
    while sent < total && start.elapsed() < duration {
        let due = ((start.elapsed().as_secs_f64() * rate) as u64).min(total);
        while sent < due {
            let n = ((due - sent) as usize).min(BATCH);
            for i in 0..n {
                let s = &mut state[next];
                s.seq = s.seq.wrapping_add(1);
                s.ts = s.ts.wrapping_add(G711_PAYLOAD as u32);
                write_rtp_header(&mut bufs[i], s.seq, s.ts, next as u32);
                iovs[i] = libc::iovec {
                    iov_base: bufs[i].as_mut_ptr() as *mut _,
                    iov_len: PACKET,
                };
                let (name, len) = &names[next];
                msgs[i].msg_hdr.msg_name = name as *const _ as *mut _;
                msgs[i].msg_hdr.msg_namelen = *len;
                msgs[i].msg_hdr.msg_iov = &mut iovs[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
                next = (next + 1) % streams;
            }
            let mut off = 0;
            while off < n {
                // SAFETY: msgs[off..n] point at live buffers and addresses.
                let rc = unsafe {
                    libc::sendmmsg(
                        sock.as_raw_fd(),
                        msgs[off..].as_mut_ptr(),
                        (n - off) as u32,
                        0,
                    )
                };
                if rc <= 0 {
                    // ENOBUFS, unreachable targets, ...: this message counts as not offered.
                    errors += 1;
                    off += 1;
                } else {
                    off += rc as usize;
                }
            }
            sent += n as u64;
        }
        let next_due = Duration::from_secs_f64((sent + 1) as f64 / rate);
        let now = start.elapsed();
        if next_due > now {
            // Bursts at tick granularity keep the generator cheap; per-stream spacing stays 1/pps.
            std::thread::sleep((next_due - now).max(tick));
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{{\"sent\":{},\"send_errors\":{errors},\"elapsed_s\":{elapsed:.3},\"cpu_s\":{:.3},\"streams\":{streams},\"rate\":{rate},\"offered\":{total}}}",
        sent - errors,
        self_cpu_seconds() - cpu0
    );
}
