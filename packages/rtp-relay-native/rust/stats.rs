//! Per-side statistics: RTP sequence loss (RFC 3550 A.1), interarrival jitter (RFC 3550
//! §6.4.1 / A.8), and the atomic counters a side's worker publishes for `stats()`.
//! Only the owning worker writes a side's counters (the kernel poller adds kernel counts
//! to separate fields), so plain load+store pairs are enough on the hot path.

use crate::rtp::{DropReason, DROP_REASONS};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

const RTP_SEQ_MOD: u32 = 1 << 16;
const MAX_DROPOUT: u32 = 3000;
const MAX_MISORDER: u32 = 100;
const MIN_SEQUENTIAL: u32 = 2;

/// RFC 3550 Appendix A.1 source state, one per SSRC (reset when the SSRC changes).
#[derive(Debug, Default, Clone)]
pub struct SeqTracker {
    ssrc: Option<u32>,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u64,
    /// Expected and received counts of SSRCs seen before the current one.
    prior_expected: u64,
    prior_received: u64,
}

impl SeqTracker {
    fn init(&mut self, seq: u16) {
        self.base_seq = seq as u32;
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
    }

    /// Feeds one packet; returns false when the packet is not counted (probation or a
    /// large jump still being confirmed), as `update_seq` in RFC 3550 A.1.
    pub fn update(&mut self, ssrc: u32, seq: u16) -> bool {
        if self.ssrc != Some(ssrc) {
            if self.ssrc.is_some() {
                self.prior_expected += self.expected_current();
                self.prior_received += self.received;
            }
            self.ssrc = Some(ssrc);
            self.init(seq);
            self.max_seq = seq.wrapping_sub(1);
            self.probation = MIN_SEQUENTIAL;
        }
        let udelta = seq.wrapping_sub(self.max_seq) as u32;
        // RFC 3550 A.1: a source is not valid until MIN_SEQUENTIAL packets in sequence.
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += RTP_SEQ_MOD; // wrapped
            }
            self.max_seq = seq;
        } else if udelta <= RTP_SEQ_MOD - MAX_MISORDER {
            // RFC 3550 A.1: a very large jump; restart after two sequential packets.
            if seq as u32 == self.bad_seq {
                self.init(seq);
            } else {
                self.bad_seq = (seq as u32 + 1) & (RTP_SEQ_MOD - 1);
                return false;
            }
        }
        // else: duplicate or reordered packet, counted below.
        self.received += 1;
        true
    }

    fn expected_current(&self) -> u64 {
        if self.ssrc.is_none() || self.probation > 0 {
            return 0;
        }
        let ext_max = self.cycles as u64 + self.max_seq as u64;
        (ext_max + 1).saturating_sub(self.base_seq as u64)
    }

    pub fn expected(&self) -> u64 {
        self.prior_expected + self.expected_current()
    }

    pub fn received(&self) -> u64 {
        self.prior_received + if self.probation > 0 { 0 } else { self.received }
    }

    /// RFC 3550 A.3: cumulative packets lost = expected - received (duplicates can make
    /// it negative; clamped at zero here).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received())
    }
}

/// RFC 3550 §6.4.1 interarrival jitter, in timestamp units, kept ×16 as in A.8.
#[derive(Debug, Default, Clone)]
pub struct Jitter {
    last_transit: Option<i64>,
    jitter_x16: u64,
    last_ssrc: u32,
}

impl Jitter {
    /// `arrival_ns` is a monotonic receive time, `clock_rate` the payload type's rate.
    pub fn update(&mut self, ssrc: u32, rtp_ts: u32, arrival_ns: u64, clock_rate: u32) {
        let arrival = (arrival_ns as u128 * clock_rate as u128 / 1_000_000_000) as u32;
        let transit = arrival.wrapping_sub(rtp_ts) as i32 as i64;
        if self.last_ssrc != ssrc {
            self.last_ssrc = ssrc;
            self.last_transit = None;
        }
        if let Some(last) = self.last_transit {
            // RFC 3550 §6.4.1: J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16
            let d = (transit.wrapping_sub(last) as i32).unsigned_abs() as u64;
            self.jitter_x16 = self.jitter_x16 + d - ((self.jitter_x16 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    /// Jitter in timestamp units, as it would go in an RTCP report block.
    pub fn value(&self) -> u32 {
        (self.jitter_x16 >> 4) as u32
    }
}

/// Counters of one side, published by its worker and read by `stats()`.
#[derive(Default)]
pub struct SideShared {
    pub packets_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub packets_out: AtomicU64,
    pub bytes_out: AtomicU64,
    pub dropped: [AtomicU64; DROP_REASONS],
    pub rtp_expected: AtomicU64,
    pub rtp_lost: AtomicU64,
    pub jitter_ts: AtomicU64,
    pub jitter_us: AtomicU64,
    /// Monotonic ns of the last accepted packet (userspace or kernel); 0 = never.
    pub last_packet_ns: AtomicU64,
    pub kernel_packets_in: AtomicU64,
    pub kernel_bytes_in: AtomicU64,
    pub kernel_packets_out: AtomicU64,
    pub kernel_bytes_out: AtomicU64,
    pub kernel: AtomicBool,
    pub latched: Mutex<Option<SocketAddr>>,
}

/// Single-writer increment: the worker owning the side is the only writer of the field.
#[inline]
pub fn bump(a: &AtomicU64, by: u64) {
    a.store(a.load(Relaxed).wrapping_add(by), Relaxed);
}

impl SideShared {
    #[inline]
    pub fn drop_packet(&self, r: DropReason) {
        bump(&self.dropped[r as usize], 1);
    }

    pub fn snapshot(&self) -> SideSnapshot {
        let latched = self.latched.lock().map(|g| *g).unwrap_or(None);
        let kp = self.kernel_packets_in.load(Relaxed);
        let kb = self.kernel_bytes_in.load(Relaxed);
        SideSnapshot {
            packets_in: self.packets_in.load(Relaxed) + kp,
            bytes_in: self.bytes_in.load(Relaxed) + kb,
            packets_out: self.packets_out.load(Relaxed) + self.kernel_packets_out.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed) + self.kernel_bytes_out.load(Relaxed),
            kernel_packets: kp,
            kernel_bytes: kb,
            dropped: std::array::from_fn(|i| self.dropped[i].load(Relaxed)),
            rtp_expected: self.rtp_expected.load(Relaxed),
            rtp_lost: self.rtp_lost.load(Relaxed),
            jitter_ts: self.jitter_ts.load(Relaxed) as u32,
            jitter_us: self.jitter_us.load(Relaxed),
            last_packet_ns: self.last_packet_ns.load(Relaxed),
            latched,
            kernel: self.kernel.load(Relaxed),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SideSnapshot {
    pub packets_in: u64,
    pub bytes_in: u64,
    pub packets_out: u64,
    pub bytes_out: u64,
    pub kernel_packets: u64,
    pub kernel_bytes: u64,
    pub dropped: [u64; DROP_REASONS],
    pub rtp_expected: u64,
    pub rtp_lost: u64,
    pub jitter_ts: u32,
    pub jitter_us: u64,
    pub last_packet_ns: u64,
    pub latched: Option<SocketAddr>,
    pub kernel: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(t: &mut SeqTracker, seqs: impl IntoIterator<Item = u16>) {
        for s in seqs {
            t.update(7, s);
        }
    }

    #[test]
    fn in_order_stream_has_no_loss() {
        let mut t = SeqTracker::default();
        feed(&mut t, 100..200);
        assert_eq!(t.lost(), 0);
        // The first packet is consumed by probation (MIN_SEQUENTIAL = 2).
        assert_eq!(t.expected(), 99);
        assert_eq!(t.received(), 99);
    }

    #[test]
    fn gaps_count_as_loss_and_wraparound_is_followed() {
        let mut t = SeqTracker::default();
        feed(&mut t, (65500..=65535).chain(0..40).filter(|s| s % 10 != 3));
        // 76 sequence numbers; dropped: 65503, 65513, 65523, 65533, 3, 13, 23, 33 = 8
        assert_eq!(t.lost(), 8);
    }

    #[test]
    fn duplicates_and_reordering_do_not_create_loss() {
        let mut t = SeqTracker::default();
        feed(&mut t, [1, 2, 3, 5, 4, 6, 6, 7]);
        assert_eq!(t.lost(), 0);
    }

    #[test]
    fn a_huge_jump_restarts_the_sequence_after_two_sequential_packets() {
        let mut t = SeqTracker::default();
        feed(&mut t, 0..50);
        feed(&mut t, [30000, 30001, 30002, 30003]);
        // The jump itself is not counted as 29950 lost packets.
        assert!(t.lost() < 5, "lost {}", t.lost());
    }

    #[test]
    fn a_new_ssrc_keeps_previous_counts_and_starts_its_own() {
        let mut t = SeqTracker::default();
        feed(&mut t, [1, 2, 3, 5]); // one lost
        for s in [900u16, 901, 902, 904] {
            t.update(8, s); // one lost
        }
        assert_eq!(t.lost(), 2);
    }

    #[test]
    fn constant_spacing_gives_zero_jitter() {
        let mut j = Jitter::default();
        for i in 0..100u64 {
            j.update(1, (i * 160) as u32, 5_000_000_000 + i * 20_000_000, 8000);
        }
        assert_eq!(j.value(), 0);
    }

    #[test]
    fn alternating_delay_converges_to_the_rfc_estimate() {
        // Arrival alternates 0 / +10 ms around the nominal 20 ms grid: |D| = 80 ticks at 8 kHz.
        let mut j = Jitter::default();
        for i in 0..2000u64 {
            let extra = if i % 2 == 1 { 10_000_000 } else { 0 };
            j.update(1, (i * 160) as u32, i * 20_000_000 + extra, 8000);
        }
        let v = j.value();
        assert!((78..=80).contains(&v), "jitter {v}");
    }

    #[test]
    fn single_writer_bump_adds() {
        let s = SideShared::default();
        bump(&s.packets_in, 2);
        bump(&s.packets_in, 3);
        s.drop_packet(DropReason::Oversize);
        let snap = s.snapshot();
        assert_eq!(snap.packets_in, 5);
        assert_eq!(snap.dropped[DropReason::Oversize as usize], 1);
    }
}
