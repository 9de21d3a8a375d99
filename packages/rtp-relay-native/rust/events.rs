//! Rare session events. Workers collect them per loop turn and hand them to the
//! housekeeper, which passes them on in batches (never one call per packet).

use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A side's socket latched onto a source (`rtcp` tells which socket).
    Latched {
        session: u32,
        side: u8,
        rtcp: bool,
        addr: SocketAddr,
    },
    /// A latched side's source moved (re-learned).
    SourceChanged {
        session: u32,
        side: u8,
        rtcp: bool,
        from: SocketAddr,
        to: SocketAddr,
    },
    /// No media on either side for the session's timeout (fired once per silence).
    Timeout { session: u32, idle_ms: u64 },
    /// The session's sockets are closed and its ports released.
    Closed { session: u32 },
}

impl Event {
    pub fn session(&self) -> u32 {
        match self {
            Event::Latched { session, .. }
            | Event::SourceChanged { session, .. }
            | Event::Timeout { session, .. }
            | Event::Closed { session } => *session,
        }
    }
}

/// Receives event batches; the binding forwards each batch to JS in one call.
pub type EventSink = Box<dyn Fn(Vec<Event>) + Send + 'static>;
