//! Classifying datagrams that arrive on relay sockets: RTP, RTCP, or a drop reason.
//! Nothing here allocates; the parsers only read fixed header fields.

/// Why a datagram was counted and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    Garbage = 0,
    NotRtp = 1,
    Oversize = 2,
    UnexpectedSource = 3,
    NoRemote = 4,
    SendError = 5,
}

pub const DROP_REASONS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    pub payload_type: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet {
    Rtp(RtpHeader),
    Rtcp,
    Drop(DropReason),
}

/// RFC 5761 §4: with RTP and RTCP multiplexed, a second byte whose low 7 bits fall in
/// 64..=95 (RTCP packet types 192..=223) marks RTCP.
pub fn is_rtcp_type(second_byte: u8) -> bool {
    (64..=95).contains(&(second_byte & 0x7f))
}

/// Classifies a datagram received on an RTP socket (`rtcp_socket == false`) or on an
/// RTCP socket. `mux` says whether RTCP may arrive on the RTP socket (rtcp-mux).
pub fn classify(buf: &[u8], rtcp_socket: bool, mux: bool) -> Packet {
    if buf.len() < 4 {
        return Packet::Drop(DropReason::Garbage);
    }
    // RFC 3550 §5.1: version field must be 2.
    if buf[0] >> 6 != 2 {
        return Packet::Drop(if is_stun_or_dtls(buf) {
            DropReason::NotRtp
        } else {
            DropReason::Garbage
        });
    }
    if rtcp_socket || (mux && is_rtcp_type(buf[1])) {
        return classify_rtcp(buf);
    }
    match parse_rtp(buf) {
        Some(h) => Packet::Rtp(h),
        None => Packet::Drop(DropReason::NotRtp),
    }
}

/// RFC 3550 §6.4.1: an RTCP header is at least 8 bytes with a packet type 192..=223
/// (RFC 5761 §4 range); anything else on an RTCP path is not RTCP.
fn classify_rtcp(buf: &[u8]) -> Packet {
    if buf.len() < 8 || !is_rtcp_type(buf[1]) || buf[1] & 0x80 == 0 {
        return Packet::Drop(DropReason::NotRtp);
    }
    Packet::Rtcp
}

/// RFC 7983 §7: first byte 0..=3 is STUN, 20..=63 is DTLS. Counted as not-RTP.
fn is_stun_or_dtls(buf: &[u8]) -> bool {
    matches!(buf[0], 0..=3 | 20..=63)
}

/// Parses the fixed RTP header and checks that CSRCs, the extension and padding fit
/// (RFC 3550 §5.1, §5.3.1). Returns None for a truncated or inconsistent packet.
pub fn parse_rtp(buf: &[u8]) -> Option<RtpHeader> {
    if buf.len() < 12 {
        return None;
    }
    let cc = (buf[0] & 0x0f) as usize;
    let mut hdr = 12 + 4 * cc;
    if buf[0] & 0x10 != 0 {
        let ext = buf.get(hdr..hdr + 4)?;
        hdr += 4 + 4 * u16::from_be_bytes([ext[2], ext[3]]) as usize;
    }
    if hdr > buf.len() {
        return None;
    }
    if buf[0] & 0x20 != 0 {
        // RFC 3550 §5.1: the last octet counts the padding, itself included.
        let pad = buf[buf.len() - 1] as usize;
        if pad == 0 || hdr + pad > buf.len() {
            return None;
        }
    }
    Some(RtpHeader {
        payload_type: buf[1] & 0x7f,
        seq: u16::from_be_bytes([buf[2], buf[3]]),
        timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
        ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
    })
}

/// RFC 3551 §6 clock rates of the static payload types; None for dynamic or unknown ones.
pub fn static_clock_rate(pt: u8) -> Option<u32> {
    Some(match pt {
        0 | 3 | 4 | 5 | 7 | 8 | 9 | 12 | 13 | 15 | 18 => 8000, // G.722 (9) uses 8000 by RFC 3551 §4.5.2
        6 => 16000,
        10 | 11 => 44100,
        16 => 11025,
        17 => 22050,
        14 | 25 | 26 | 28 | 31 | 32 | 33 | 34 => 90000,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(pt: u8, seq: u16) -> Vec<u8> {
        let mut v = vec![
            0x80,
            pt,
            (seq >> 8) as u8,
            seq as u8,
            0,
            0,
            0,
            160,
            1,
            2,
            3,
            4,
        ];
        v.extend_from_slice(&[0xd5; 160]);
        v
    }

    #[test]
    fn a_plain_rtp_packet_parses() {
        let p = classify(&rtp(8, 513), false, false);
        assert_eq!(
            p,
            Packet::Rtp(RtpHeader {
                payload_type: 8,
                seq: 513,
                timestamp: 160,
                ssrc: 0x01020304
            })
        );
    }

    #[test]
    fn rtcp_on_a_muxed_rtp_socket_is_demultiplexed_by_payload_type_range() {
        let sr = [0x80u8, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(classify(&sr, false, true), Packet::Rtcp);
        // Without mux the same bytes are read as RTP with payload type 72.
        assert!(matches!(
            classify(&sr, false, false),
            Packet::Rtp(RtpHeader {
                payload_type: 72,
                ..
            })
        ));
        // Marker bit + PT 0 is byte 0x80: not in the RTCP range.
        assert!(matches!(
            classify(&rtp(0x80, 1), false, true),
            Packet::Rtp(_)
        ));
        for b in [192u8, 200, 204, 223] {
            assert!(is_rtcp_type(b), "{b}");
        }
        for b in [191u8, 224, 0, 96, 127] {
            assert!(!is_rtcp_type(b), "{b}");
        }
    }

    #[test]
    fn rtcp_sockets_accept_only_rtcp_headers() {
        assert_eq!(
            classify(&[0x80, 201, 0, 1, 0, 0, 0, 1], true, false),
            Packet::Rtcp
        );
        assert_eq!(
            classify(&[0x80, 201, 0, 1], true, false),
            Packet::Drop(DropReason::NotRtp)
        );
        assert_eq!(
            classify(&rtp(0, 1), true, false),
            Packet::Drop(DropReason::NotRtp)
        );
    }

    #[test]
    fn garbage_and_truncated_packets_get_their_drop_reason() {
        assert_eq!(
            classify(&[], false, false),
            Packet::Drop(DropReason::Garbage)
        );
        assert_eq!(
            classify(&[0x80, 0, 1], false, false),
            Packet::Drop(DropReason::Garbage)
        );
        assert_eq!(
            classify(b"hello world, no rtp", false, false),
            Packet::Drop(DropReason::Garbage)
        );
        assert_eq!(
            classify(&[0x80, 0, 0, 1, 0, 0], false, false),
            Packet::Drop(DropReason::NotRtp)
        );
        // STUN binding request and a DTLS record are not RTP.
        let stun = [
            0u8, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(
            classify(&stun, false, false),
            Packet::Drop(DropReason::NotRtp)
        );
        assert_eq!(
            classify(&[22, 0xfe, 0xfd, 0, 0, 0], false, false),
            Packet::Drop(DropReason::NotRtp)
        );
    }

    #[test]
    fn csrc_extension_and_padding_must_fit() {
        let mut p = rtp(0, 1);
        p[0] = 0x80 | 0x0f; // 15 CSRCs = 60 bytes, fits in 172
        assert!(parse_rtp(&p).is_some());
        let mut short = p[..40].to_vec();
        short[0] = 0x8f;
        assert!(parse_rtp(&short).is_none());
        let mut ext = rtp(0, 1);
        ext[0] = 0x90;
        ext[12..16].copy_from_slice(&[0xbe, 0xde, 0xff, 0xff]); // extension longer than the packet
        assert!(parse_rtp(&ext).is_none());
        ext[14] = 0;
        ext[15] = 1;
        assert!(parse_rtp(&ext).is_some());
        let mut pad = rtp(0, 1);
        pad[0] = 0xa0;
        *pad.last_mut().unwrap() = 0;
        assert!(parse_rtp(&pad).is_none());
        *pad.last_mut().unwrap() = 4;
        assert!(parse_rtp(&pad).is_some());
        *pad.last_mut().unwrap() = 200;
        assert!(parse_rtp(&pad).is_none());
    }

    #[test]
    fn static_payload_types_have_their_rfc_3551_clock_rates() {
        for pt in [0u8, 8, 9, 18] {
            assert_eq!(static_clock_rate(pt), Some(8000));
        }
        assert_eq!(static_clock_rate(34), Some(90000));
        assert_eq!(static_clock_rate(96), None);
    }
}
