//! RTP sink: receives on one UDP socket with recvmmsg and counts packets per stream (SSRC =
//! stream index, as rtp-gen sends) with RTP sequence-number loss.
//!
//! rtp-sink --bind IP:PORT [--streams N] [--max-secs 600]
//! Prints {"listening":"ip:port"} first. Commands on stdin, one per line:
//!   hello FILE   send 3 small RTP packets from the socket to every address in FILE
//!                (latches the relay's side towards this sink)
//!   stats        print the counters as one JSON line
//!   stop         print the counters and exit (also on stdin EOF)

use std::io::{BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtp_load::{
    raise_nofile, read_rtp_header, read_targets, self_cpu_seconds, set_buffer, write_rtp_header,
    Args,
};

const BATCH: usize = 64;
const SLOT: usize = 2048;

#[derive(Clone, Copy, Default)]
struct StreamStat {
    received: u64,
    first: u64, // extended seq of the first packet
    highest: u64,
}

struct Counters {
    received: u64,
    bytes: u64,
    not_rtp: u64,
    unknown_stream: u64,
    streams: Vec<StreamStat>,
    first_at: Option<Instant>,
    last_at: Option<Instant>,
}

impl Counters {
    fn note(&mut self, pkt: &[u8]) {
        self.received += 1;
        self.bytes += pkt.len() as u64;
        let Some((seq, ssrc)) = read_rtp_header(pkt) else {
            self.not_rtp += 1;
            return;
        };
        let Some(s) = self.streams.get_mut(ssrc as usize) else {
            self.unknown_stream += 1;
            return;
        };
        if s.received == 0 {
            s.first = seq as u64 + (1 << 16);
            s.highest = s.first;
        } else {
            // RFC 3550 A.1 style extension of the 16-bit sequence number.
            let hi = s.highest;
            let cand = (hi & !0xffff) | seq as u64;
            let ext = if cand + 0x8000 < hi {
                cand + 0x10000
            } else if cand > hi + 0x8000 {
                cand - 0x10000
            } else {
                cand
            };
            s.highest = s.highest.max(ext);
        }
        s.received += 1;
    }

    fn json(&self, cpu0: f64) -> String {
        let mut lost = 0i64;
        let mut seen = 0u64;
        let mut lossy = 0u64;
        for s in self.streams.iter().filter(|s| s.received > 0) {
            seen += 1;
            let expected = (s.highest - s.first + 1) as i64;
            let l = (expected - s.received as i64).max(0);
            lost += l;
            lossy += (l > 0) as u64;
        }
        let span = match (self.first_at, self.last_at) {
            (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        format!(
            "{{\"received\":{},\"bytes\":{},\"not_rtp\":{},\"unknown_stream\":{},\"streams_seen\":{seen},\"streams_with_loss\":{lossy},\"seq_lost\":{lost},\"span_s\":{span:.3},\"cpu_s\":{:.3}}}",
            self.received, self.bytes, self.not_rtp, self.unknown_stream, self_cpu_seconds() - cpu0
        )
    }
}

fn hello(sock: &UdpSocket, file: &str) -> String {
    let targets = match read_targets(file) {
        Ok(t) => t,
        Err(e) => return format!("{{\"error\":\"{e}\"}}"),
    };
    let mut buf = [0u8; 12 + 20];
    let mut sent = 0;
    for round in 0..3u16 {
        for (i, t) in targets.iter().enumerate() {
            // SSRC with the top bit set: never mistaken for a generator stream.
            write_rtp_header(&mut buf, round, 0, 0x8000_0000 | i as u32);
            if sock.send_to(&buf, t).is_ok() {
                sent += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    format!("{{\"hello_sent\":{sent}}}")
}

fn main() {
    raise_nofile();
    let args = Args::parse();
    let bind: SocketAddr = args.required("bind").parse().expect("--bind IP:PORT");
    let streams: usize = args.num("streams", 100_000);
    let max = Duration::from_secs(args.num("max-secs", 600));
    let sock = UdpSocket::bind(bind).expect("bind");
    set_buffer(&sock, true, 64 << 20);
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    println!(
        "{{\"listening\":\"{}\"}}",
        sock.local_addr().expect("local addr")
    );
    std::io::stdout().flush().ok();

    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                return;
            }
        }
        let _ = tx.send("stop".into());
    });

    let cpu0 = self_cpu_seconds();
    let mut c = Counters {
        received: 0,
        bytes: 0,
        not_rtp: 0,
        unknown_stream: 0,
        streams: vec![StreamStat::default(); streams],
        first_at: None,
        last_at: None,
    };
    let mut bufs = vec![[0u8; SLOT]; BATCH];
    // SAFETY: zeroed iovec/mmsghdr are valid and filled before use.
    let mut iovs: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut msgs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let started = Instant::now();
    loop {
        while let Ok(cmd) = rx.try_recv() {
            let mut parts = cmd.split_whitespace();
            match (parts.next(), parts.next()) {
                (Some("hello"), Some(file)) => println!("{}", hello(&sock, file)),
                (Some("stats"), _) => println!("{}", c.json(cpu0)),
                (Some("stop"), _) => {
                    println!("{}", c.json(cpu0));
                    return;
                }
                _ => println!("{{\"error\":\"unknown command\"}}"),
            }
            std::io::stdout().flush().ok();
        }
        if started.elapsed() > max {
            println!("{}", c.json(cpu0));
            return;
        }
        for i in 0..BATCH {
            iovs[i] = libc::iovec {
                iov_base: bufs[i].as_mut_ptr() as *mut _,
                iov_len: SLOT,
            };
            msgs[i].msg_hdr.msg_iov = &mut iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = std::ptr::null_mut();
            msgs[i].msg_hdr.msg_namelen = 0;
        }
        // SAFETY: msgs point at live buffers; the socket's read timeout bounds the wait.
        let n = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                msgs.as_mut_ptr(),
                BATCH as u32,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n <= 0 {
            continue;
        }
        let now = Instant::now();
        c.first_at.get_or_insert(now);
        c.last_at = Some(now);
        for i in 0..n as usize {
            let len = msgs[i].msg_len as usize;
            c.note(&bufs[i][..len.min(SLOT)]);
        }
    }
}
