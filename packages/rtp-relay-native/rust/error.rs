//! The one error enum of the relay core. The binding maps it to JS in one function
//! (`binding::to_js_error`), using `code()` as the stable `RTP_ERR_*` code.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayError {
    /// No free even/odd port pair on the requested local address.
    PortsExhausted(String),
    /// The session id is unknown or the session was closed.
    SessionClosed(u32),
    /// An address or port given by the caller is not usable.
    BadAddress(String),
    /// A socket could not be created or bound.
    Bind(String),
    /// An option is out of range or inconsistent.
    BadOption(String),
    /// The relay itself was closed.
    RelayClosed,
    /// An unexpected I/O failure (epoll, eventfd, thread spawn).
    Io(String),
    /// A feature asked for explicitly is not available here (build, privilege, kernel).
    Unsupported(String),
}

impl RelayError {
    pub fn code(&self) -> &'static str {
        match self {
            RelayError::PortsExhausted(_) => "RTP_ERR_PORTS_EXHAUSTED",
            RelayError::SessionClosed(_) => "RTP_ERR_SESSION_CLOSED",
            RelayError::BadAddress(_) => "RTP_ERR_BAD_ADDRESS",
            RelayError::Bind(_) => "RTP_ERR_BIND",
            RelayError::BadOption(_) => "RTP_ERR_BAD_OPTION",
            RelayError::RelayClosed => "RTP_ERR_RELAY_CLOSED",
            RelayError::Io(_) => "RTP_ERR_IO",
            RelayError::Unsupported(_) => "RTP_ERR_UNSUPPORTED",
        }
    }
}

impl fmt::Display for RelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelayError::PortsExhausted(a) => write!(f, "no free RTP port pair on {a}"),
            RelayError::SessionClosed(id) => write!(f, "session {id} is closed"),
            RelayError::BadAddress(r) => write!(f, "bad address: {r}"),
            RelayError::Bind(r) => write!(f, "cannot bind: {r}"),
            RelayError::BadOption(r) => write!(f, "bad option: {r}"),
            RelayError::RelayClosed => write!(f, "the relay is closed"),
            RelayError::Io(r) => write!(f, "I/O error: {r}"),
            RelayError::Unsupported(r) => write!(f, "unsupported: {r}"),
        }
    }
}

impl std::error::Error for RelayError {}
