//! How the calling thread tells a worker that commands are queued, without making the
//! calling thread pay for the worker's wake-up. On a machine with few cores, writing the
//! worker's eventfd lets the woken worker preempt the caller at once; `ring_soon` instead
//! arms a one-shot timer (once per batch of commands), so the worker wakes shortly after,
//! off the caller's path. `ring_now` is for callers that are about to wait for the worker.

use crate::sys::cvt_pub as cvt;
use crate::sys::EventFd;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// How long after the first queued command a worker runs the queue at the latest.
pub const SOON_NS: i64 = 500_000;

pub struct Doorbell {
    now: EventFd,
    soon: OwnedFd,
    armed: AtomicBool,
}

impl Doorbell {
    pub fn new() -> io::Result<Doorbell> {
        let flags = libc::TFD_NONBLOCK | libc::TFD_CLOEXEC;
        let fd = cvt(unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, flags) })?;
        Ok(Doorbell {
            now: EventFd::new()?,
            soon: unsafe { OwnedFd::from_raw_fd(fd) },
            armed: AtomicBool::new(false),
        })
    }

    /// The descriptors a worker polls: (eventfd, timerfd).
    pub fn fds(&self) -> (RawFd, RawFd) {
        (self.now.raw(), self.soon.as_raw_fd())
    }

    /// Wakes the worker at once.
    pub fn ring_now(&self) {
        self.now.wake();
    }

    /// Wakes the worker within `SOON_NS`; one timer per batch of commands.
    pub fn ring_soon(&self) {
        if self.armed.swap(true, Ordering::AcqRel) {
            return;
        }
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: 0,
                tv_nsec: SOON_NS,
            },
        };
        let r =
            unsafe { libc::timerfd_settime(self.soon.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if r < 0 {
            self.armed.store(false, Ordering::Release);
            self.now.wake();
        }
    }

    /// Worker, when either descriptor was readable: resets both before it runs the queue,
    /// so a command queued from now on rings again.
    pub fn answer(&self) {
        self.now.drain();
        let mut v: u64 = 0;
        unsafe {
            libc::read(
                self.soon.as_raw_fd(),
                &mut v as *mut u64 as *mut libc::c_void,
                8,
            )
        };
        self.armed.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Epoll;

    #[test]
    fn ring_soon_wakes_the_poller_shortly_after_and_rings_again_once_answered() {
        let bell = Doorbell::new().unwrap();
        let ep = Epoll::new().unwrap();
        let (now, soon) = bell.fds();
        ep.add(now, 1).unwrap();
        ep.add(soon, 2).unwrap();
        let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; 4];
        bell.ring_soon();
        bell.ring_soon();
        assert_eq!(ep.wait(&mut evs, 0).unwrap(), 0, "not at once");
        assert_eq!(ep.wait(&mut evs, 1000).unwrap(), 1);
        assert_eq!({ evs[0].u64 }, 2);
        bell.answer();
        assert_eq!(ep.wait(&mut evs, 0).unwrap(), 0, "answered");
        bell.ring_soon();
        assert_eq!(
            ep.wait(&mut evs, 1000).unwrap(),
            1,
            "armed again after the answer"
        );
        bell.answer();
        bell.ring_now();
        assert_eq!(ep.wait(&mut evs, 0).unwrap(), 1, "ring_now is immediate");
        assert_eq!({ evs[0].u64 }, 1);
    }
}
