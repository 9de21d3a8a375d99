//! Latching (symmetric RTP / NAT traversal): which source a socket accepts and where the
//! other direction is sent. Pure decisions, no I/O, so every mode is tested here.

use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatchMode {
    /// Trust the SDP address; never learn from packets (asymmetric RTP).
    Off,
    /// Latch to the first packet's source.
    Immediate,
    /// Within the learning window prefer the SDP address+port, then the SDP address,
    /// then any source; latch to the best seen.
    Heuristic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceChange {
    /// A new source after latching moves the latch (NAT rebinding).
    Relearn,
    /// Packets from a new source after latching are dropped.
    Drop,
}

#[derive(Debug, Clone, Copy)]
pub struct LatchConfig {
    pub mode: LatchMode,
    /// Drop packets from anything but the latched (or, in `Off` mode, SDP) source.
    pub strict_source: bool,
    pub source_change: SourceChange,
    pub learn_window_ns: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatchEvent {
    Latched(SocketAddr),
    SourceChanged { from: SocketAddr, to: SocketAddr },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub accept: bool,
    pub event: Option<LatchEvent>,
}

const ACCEPT: Verdict = Verdict {
    accept: true,
    event: None,
};
const DROP: Verdict = Verdict {
    accept: false,
    event: None,
};

#[derive(Debug, Clone, Default)]
pub struct Latch {
    expected: Option<SocketAddr>,
    current: Option<SocketAddr>,
    quality: u8,
    done: bool,
    learn_deadline_ns: Option<u64>,
}

impl Latch {
    /// Sets the SDP address. A different address than before restarts learning
    /// (re-INVITE, hold/resume to a new address); the same address keeps the latch.
    pub fn set_expected(&mut self, expected: Option<SocketAddr>) -> bool {
        if self.expected == expected {
            return false;
        }
        *self = Latch {
            expected,
            ..Latch::default()
        };
        true
    }

    pub fn expected(&self) -> Option<SocketAddr> {
        self.expected
    }

    /// The latched source once learning is over.
    pub fn latched(&self) -> Option<SocketAddr> {
        if self.done {
            self.current
        } else {
            None
        }
    }

    /// Where packets for this socket's peer go: the learned source, else the SDP address.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.current.or(self.expected)
    }

    pub fn on_packet(&mut self, src: SocketAddr, now_ns: u64, cfg: &LatchConfig) -> Verdict {
        match cfg.mode {
            LatchMode::Off => {
                let foreign = self.expected.is_some_and(|e| e != src);
                if cfg.strict_source && foreign {
                    DROP
                } else {
                    ACCEPT
                }
            }
            _ if self.done => self.after_latch(src, cfg),
            LatchMode::Immediate => self.finish(src),
            LatchMode::Heuristic => self.learn(src, now_ns, cfg),
        }
    }

    fn finish(&mut self, src: SocketAddr) -> Verdict {
        self.current = Some(src);
        self.done = true;
        Verdict {
            accept: true,
            event: Some(LatchEvent::Latched(src)),
        }
    }

    fn learn(&mut self, src: SocketAddr, now_ns: u64, cfg: &LatchConfig) -> Verdict {
        let q = match self.expected {
            Some(e) if e == src => 3,
            Some(e) if e.ip() == src.ip() => 2,
            _ => 1,
        };
        let deadline = *self
            .learn_deadline_ns
            .get_or_insert(now_ns.saturating_add(cfg.learn_window_ns));
        if q == 3 {
            return self.finish(src);
        }
        if q > self.quality {
            self.quality = q;
            self.current = Some(src);
        }
        if now_ns >= deadline {
            if let Some(best) = self.current {
                let v = self.finish(best);
                // A worse candidate arriving at the deadline does not move the fresh latch.
                let accept =
                    best == src || !(cfg.strict_source || cfg.source_change == SourceChange::Drop);
                return Verdict { accept, ..v };
            }
        }
        ACCEPT
    }

    fn after_latch(&mut self, src: SocketAddr, cfg: &LatchConfig) -> Verdict {
        let Some(cur) = self.current else {
            return self.finish(src);
        };
        if cur == src {
            return ACCEPT;
        }
        if cfg.strict_source || cfg.source_change == SourceChange::Drop {
            return DROP;
        }
        self.current = Some(src);
        Verdict {
            accept: true,
            event: Some(LatchEvent::SourceChanged { from: cur, to: src }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn cfg(mode: LatchMode) -> LatchConfig {
        LatchConfig {
            mode,
            strict_source: false,
            source_change: SourceChange::Relearn,
            learn_window_ns: 1_000,
        }
    }

    #[test]
    fn immediate_mode_latches_to_the_first_source() {
        let mut l = Latch::default();
        l.set_expected(Some(a("10.0.0.1:4000")));
        let v = l.on_packet(a("192.0.2.7:5555"), 0, &cfg(LatchMode::Immediate));
        assert_eq!(
            v,
            Verdict {
                accept: true,
                event: Some(LatchEvent::Latched(a("192.0.2.7:5555")))
            }
        );
        assert_eq!(l.destination(), Some(a("192.0.2.7:5555")));
        assert_eq!(
            l.on_packet(a("192.0.2.7:5555"), 1, &cfg(LatchMode::Immediate)),
            ACCEPT
        );
    }

    #[test]
    fn heuristic_mode_latches_at_once_to_the_sdp_address_and_port() {
        let mut l = Latch::default();
        l.set_expected(Some(a("10.0.0.1:4000")));
        let c = cfg(LatchMode::Heuristic);
        assert_eq!(l.on_packet(a("203.0.113.9:1"), 0, &c), ACCEPT);
        assert_eq!(l.destination(), Some(a("203.0.113.9:1")));
        let v = l.on_packet(a("10.0.0.1:4000"), 10, &c);
        assert_eq!(v.event, Some(LatchEvent::Latched(a("10.0.0.1:4000"))));
    }

    #[test]
    fn heuristic_mode_prefers_the_same_address_over_any_address_until_the_window_ends() {
        let mut l = Latch::default();
        l.set_expected(Some(a("10.0.0.1:4000")));
        let c = cfg(LatchMode::Heuristic);
        l.on_packet(a("203.0.113.9:1"), 0, &c);
        l.on_packet(a("10.0.0.1:9999"), 10, &c);
        l.on_packet(a("203.0.113.9:1"), 20, &c);
        assert_eq!(l.latched(), None, "still learning");
        assert_eq!(l.destination(), Some(a("10.0.0.1:9999")));
        let v = l.on_packet(a("10.0.0.1:9999"), 2_000, &c);
        assert_eq!(v.event, Some(LatchEvent::Latched(a("10.0.0.1:9999"))));
        assert_eq!(l.latched(), Some(a("10.0.0.1:9999")));
    }

    #[test]
    fn heuristic_mode_without_sdp_latches_to_the_first_source_after_the_window() {
        let mut l = Latch::default();
        let c = cfg(LatchMode::Heuristic);
        l.on_packet(a("198.51.100.1:7"), 0, &c);
        let v = l.on_packet(a("198.51.100.2:7"), 5_000, &c);
        assert_eq!(v.event, Some(LatchEvent::Latched(a("198.51.100.1:7"))));
        // The losing source at the deadline is forwarded but does not move the latch.
        assert!(v.accept);
        assert_eq!(l.destination(), Some(a("198.51.100.1:7")));
    }

    #[test]
    fn off_mode_never_latches_and_sends_to_the_sdp_address() {
        let mut l = Latch::default();
        l.set_expected(Some(a("10.0.0.1:4000")));
        let c = cfg(LatchMode::Off);
        assert_eq!(l.on_packet(a("203.0.113.9:1"), 0, &c), ACCEPT);
        assert_eq!(l.destination(), Some(a("10.0.0.1:4000")));
        let strict = LatchConfig {
            strict_source: true,
            ..c
        };
        assert_eq!(l.on_packet(a("203.0.113.9:1"), 0, &strict), DROP);
        assert_eq!(l.on_packet(a("10.0.0.1:4000"), 0, &strict), ACCEPT);
    }

    #[test]
    fn a_new_source_after_latching_relearns_or_drops_per_option() {
        let mut l = Latch::default();
        let c = cfg(LatchMode::Immediate);
        l.on_packet(a("192.0.2.1:1000"), 0, &c);
        let v = l.on_packet(a("192.0.2.1:2000"), 1, &c);
        assert_eq!(
            v,
            Verdict {
                accept: true,
                event: Some(LatchEvent::SourceChanged {
                    from: a("192.0.2.1:1000"),
                    to: a("192.0.2.1:2000")
                })
            }
        );
        assert_eq!(l.destination(), Some(a("192.0.2.1:2000")));

        let drop = LatchConfig {
            source_change: SourceChange::Drop,
            ..c
        };
        assert_eq!(l.on_packet(a("192.0.2.9:1"), 2, &drop), DROP);
        let strict = LatchConfig {
            strict_source: true,
            ..c
        };
        assert_eq!(l.on_packet(a("192.0.2.9:1"), 3, &strict), DROP);
        assert_eq!(l.destination(), Some(a("192.0.2.1:2000")));
    }

    #[test]
    fn a_changed_sdp_address_restarts_learning_but_the_same_one_keeps_the_latch() {
        let mut l = Latch::default();
        let c = cfg(LatchMode::Immediate);
        l.set_expected(Some(a("10.0.0.1:4000")));
        l.on_packet(a("192.0.2.1:1000"), 0, &c);
        assert!(!l.set_expected(Some(a("10.0.0.1:4000"))));
        assert_eq!(l.latched(), Some(a("192.0.2.1:1000")));
        assert!(l.set_expected(Some(a("10.0.0.2:4000"))));
        assert_eq!(l.latched(), None);
        assert_eq!(l.destination(), Some(a("10.0.0.2:4000")));
    }
}
