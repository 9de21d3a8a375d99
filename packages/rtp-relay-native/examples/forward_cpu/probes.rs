//! What forward_cpu reads about its own process: CPU per thread and in total, RSS, open fds.

use std::fs;

/// Sum of on-CPU ns of this process's threads whose name starts with `prefix`.
pub fn threads_cpu_ns(prefix: &str) -> u64 {
    let mut total = 0;
    for e in fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let p = e.path();
        let comm = fs::read_to_string(p.join("comm")).unwrap_or_default();
        if comm.trim().starts_with(prefix) {
            let s = fs::read_to_string(p.join("schedstat")).unwrap_or_default();
            total += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

/// User + system CPU of the whole process (relay, generator, sink, and the softirq work
/// the kernel charges to them), in ns.
pub fn process_cpu_ns() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Resident set size, KiB.
pub fn rss_kb() -> u64 {
    let s = fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// Open file descriptors.
pub fn fds() -> usize {
    fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}
