//! Unit tests of the prober and of allocation from probed pairs (shared mode, keep=false).
//! Port range of this file: 26200–26299 on 127.0.0.1 (below the ephemeral range); each
//! test has its own slice of it.

use super::*;
use crate::config::{LocalAddress, RelayConfig};
use crate::error::RelayError;
use crate::port_mode::allocate;
use crate::port_pool::PortPool;

fn setup(min: u16, max: u16) -> (RelayConfig, Arc<Pools>, Prober) {
    let cfg = RelayConfig {
        addresses: vec![LocalAddress {
            ip: "127.0.0.1".parse().unwrap(),
            advertised: None,
        }],
        port_min: min,
        port_max: max,
        ..RelayConfig::default()
    };
    let pools = Arc::new(Pools::new(vec![PortPool::new(min, max).unwrap()]));
    let prober = Prober::new(pools.clone(), vec![cfg.addresses[0].ip]);
    (cfg, pools, prober)
}

/// Allocates shared-mode sides (probe only) until the pool says exhausted.
fn drain(cfg: &RelayConfig, pools: &Pools, mux_only: bool) -> (Vec<u16>, RelayError) {
    let mut got = Vec::new();
    loop {
        match allocate(cfg, pools.lock(0).unwrap(), 0, mux_only, false) {
            Ok(a) => got.push(a.port),
            Err(e) => return (got, e),
        }
    }
}

#[test]
fn probed_pairs_are_handed_out_in_order_and_their_stamps_are_used_once() {
    let (cfg, pools, mut prober) = setup(26200, 26219);
    assert!(!prober.round(now_ns()), "no allocation yet: quiet");
    let since = now_ns() - REFRESH_NS;
    assert_eq!(
        pools.lock(0).unwrap().probed_run(since),
        10,
        "every free pair"
    );
    let a = allocate(&cfg, pools.lock(0).unwrap(), 0, false, false).unwrap();
    assert_eq!(
        (a.port, a.rtp.is_none(), a.rtcp.is_none()),
        (26200, true, true)
    );
    assert_eq!(pools.lock(0).unwrap().probed_run(since), 9);
    assert!(
        prober.round(now_ns()),
        "an allocation makes the prober busy"
    );
    pools.release(0, a.port);
    assert_eq!(
        pools.lock(0).unwrap().probed_run(since),
        9,
        "a released pair comes back unprobed, at the tail"
    );
}

#[test]
fn a_pair_another_socket_holds_is_never_handed_out_from_the_probed_queue() {
    let (cfg, pools, mut prober) = setup(26220, 26239);
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    // Another program holds the RTP port of one pair and the RTCP port of another.
    let _rtp = bind_udp(SocketAddr::new(ip, 26224)).unwrap();
    let _rtcp = bind_udp(SocketAddr::new(ip, 26229)).unwrap();
    prober.round(now_ns());
    let since = now_ns() - REFRESH_NS;
    let p = pools.lock(0).unwrap();
    assert_eq!(p.probed_run(since), 8, "the held pairs went to the tail");
    assert_eq!(p.free_count(), 10, "and are still free");
    drop(p);
    let (got, err) = drain(&cfg, &pools, false);
    assert_eq!(got.len(), 8, "{got:?}");
    assert!(!got.contains(&26224) && !got.contains(&26228), "{got:?}");
    // Only the held pairs are left: probed inline, they fail as before.
    assert!(matches!(err, RelayError::Bind(_)), "{err:?}");
}

#[test]
fn a_stale_probe_is_not_trusted_and_the_pair_is_probed_again() {
    let (cfg, pools, _) = setup(26240, 26243);
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let old = now_ns() - PROBE_MAX_AGE_NS - 1;
    {
        let mut p = pools.lock(0).unwrap();
        p.note_probe(26240, old, true);
        p.note_probe(26242, now_ns(), true);
    }
    // Taken after both probes: only the stale stamp is probed again (and skipped).
    let _held = bind_udp(SocketAddr::new(ip, 26240)).unwrap();
    let (got, _) = drain(&cfg, &pools, false);
    assert_eq!(got, vec![26242]);
}

#[test]
fn the_look_ahead_follows_demand_and_falls_back_when_the_relay_is_quiet() {
    let (cfg, pools, mut prober) = setup(26250, 26299);
    let t0 = now_ns();
    prober.round(t0);
    assert_eq!(prober.depth(0), MIN_DEPTH);
    for _ in 0..20 {
        allocate(&cfg, pools.lock(0).unwrap(), 0, true, false).unwrap();
    }
    // 20 pairs in a millisecond: 20,000 a second, 2,000 in the look-ahead.
    prober.round(t0 + 1_000_000);
    assert_eq!(prober.depth(0), 2_000);
    prober.round(t0 + 1_000_000 + 5 * PEAK_HALF_LIFE_NS as u64);
    assert_eq!(prober.depth(0), MIN_DEPTH, "the peak decays");
    let later = t0 + 1_000_000 + IDLE_AFTER_NS;
    assert!(
        !prober.round(later),
        "quiet a second after the last allocation"
    );
}

#[test]
fn the_prober_thread_probes_ahead_and_stops() {
    let (_, pools, prober) = setup(26244, 26249);
    let handle = prober.spawn().unwrap();
    let deadline = now_ns() + 5_000_000_000;
    while pools.lock(0).unwrap().probed_run(now_ns() - REFRESH_NS) < 3 && now_ns() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(pools.lock(0).unwrap().probed_run(now_ns() - REFRESH_NS), 3);
    handle.demand();
    handle.stop();
    handle.stop();
}
