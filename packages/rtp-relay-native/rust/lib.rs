//! Switchboard native RTP relay. The core (everything but `binding`) is plain Rust,
//! tested with `cargo test`; `binding` is the only file that knows N-API.

pub mod config;
pub mod doorbell;
pub mod error;
pub mod events;
pub mod kernel;
pub mod latch;
pub mod mapped_array;
pub mod pools;
pub mod port_mode;
pub mod port_pool;
pub mod port_prober;
pub mod relay;
mod relay_sessions;
pub mod rtp;
pub mod session;
pub mod session_ctl;
mod session_kernel;
pub mod shared_io;
pub mod shared_ports;
pub mod stats;
pub mod sys;
pub mod worker;
mod worker_shared;

mod binding;
