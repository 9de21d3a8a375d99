//! The kernel-entry decisions of a `Session`: which flows to hand to the kernel once both
//! sides are latched, tagged with the session's gate and remote-spec generation so the
//! housekeeper installs none for a session closed or re-pointed in the meantime.

use crate::kernel::Flow;
use crate::session::{Ctx, KernelOp, Session, Side, Sock};
use crate::session_ctl::SessionControl;
use std::net::SocketAddr;
use std::sync::Arc;

impl Session {
    /// Removes this session's kernel entries and installs fresh ones when both sides are
    /// latched with the same rtcp-mux state (a kernel entry cannot demultiplex RTCP).
    pub fn refresh_kernel(&mut self, ctx: &mut Ctx) {
        if !ctx.kernel_enabled {
            return;
        }
        if !self.kernel_keys.is_empty() {
            ctx.kernel
                .push(KernelOp::Remove(std::mem::take(&mut self.kernel_keys)));
        }
        let flows = self.kernel_flows();
        if !flows.is_empty() {
            self.kernel_keys = flows.iter().map(|f| f.key).collect();
            ctx.kernel.push(KernelOp::Install(flows));
        }
    }

    pub fn take_kernel_keys(&mut self) -> Vec<(SocketAddr, SocketAddr)> {
        std::mem::take(&mut self.kernel_keys)
    }

    fn kernel_flows(&self) -> Vec<Flow> {
        let [a, b] = &self.sides;
        let mut flows = Vec::new();
        if a.muxed() != b.muxed() {
            return flows;
        }
        let tag = (&self.control, self.applied);
        pair_flows(&a.rtp, &b.rtp, a, b, tag, &mut flows);
        if let (Some(ar), Some(br), false) = (&a.rtcp, &b.rtcp, a.muxed()) {
            pair_flows(ar, br, a, b, tag, &mut flows);
        }
        flows
    }
}

fn pair_flows(
    x: &Sock,
    y: &Sock,
    xs: &Side,
    ys: &Side,
    (control, generation): (&Arc<SessionControl>, u64),
    out: &mut Vec<Flow>,
) {
    let (Some(xr), Some(yr)) = (x.latch.latched(), y.latch.latched()) else {
        return;
    };
    // A wildcard-bound socket is keyed on the wildcard (the kernel map matches any local address
    // for it) and sends from the address its remote reached, once known; else the kernel fills the
    // route's source address.
    let (xl, yl) = (kernel_local(x), kernel_local(y));
    out.push(Flow {
        key: (xr, x.local),
        action: (yl, yr),
        ingress: xs.shared.clone(),
        egress: ys.shared.clone(),
        control: control.clone(),
        generation,
    });
    out.push(Flow {
        key: (yr, y.local),
        action: (xl, xr),
        ingress: ys.shared.clone(),
        egress: xs.shared.clone(),
        control: control.clone(),
        generation,
    });
}

/// The source address a kernel-forwarded packet leaves from for this socket.
fn kernel_local(s: &Sock) -> SocketAddr {
    if s.local.ip().is_unspecified() && !s.src_ip.is_unspecified() {
        SocketAddr::new(s.src_ip, s.local.port())
    } else {
        s.local
    }
}
