//! Where the program is attached (tcx, or tc clsact on kernels without tcx) and how a flow
//! maps onto interfaces (route look-ups at install time).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use aya::programs::tc::{self, NlOptions, SchedClassifierLinkId, TcAttachOptions};
use aya::programs::{LinkOrder, SchedClassifier, TcAttachType};
use aya::Ebpf;

use crate::abi::{self, RawKey, RawValue, FLOW_LOCAL};
use crate::route::{self, RTN_LOCAL, RTN_UNICAST};
use crate::{bpf_error, FlowAction, FlowKey, KernelError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Hook {
    Tcx,
    Clsact,
}

struct Link {
    name: String,
    id: SchedClassifierLinkId,
    hook: Hook,
}

pub(crate) struct Attachments {
    auto: bool,
    program: String,
    links: BTreeMap<u32, Link>,
}

fn program<'a>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut SchedClassifier, KernelError> {
    let prog = ebpf
        .program_mut(name)
        .ok_or_else(|| KernelError::Bpf(format!("object has no program `{name}`")))?;
    prog.try_into().map_err(|e| bpf_error("program type", &e))
}

fn attach_one(prog: &mut SchedClassifier, name: &str) -> Result<Link, KernelError> {
    let tcx = TcAttachOptions::TcxOrder(LinkOrder::default());
    let tcx_err = match prog.attach_with_options(name, TcAttachType::Ingress, tcx) {
        Ok(id) => {
            return Ok(Link {
                name: name.to_string(),
                id,
                hook: Hook::Tcx,
            })
        }
        Err(e) => e,
    };
    // Kernels before 6.6 have no tcx: fall back to a clsact qdisc filter (direct action).
    if let Err(e) = tc::qdisc_add_clsact(name) {
        if e.raw_os_error() != Some(libc::EEXIST) {
            return Err(bpf_error(
                &format!("attaching to {name} (tcx: {tcx_err}; clsact)"),
                &e,
            ));
        }
    }
    let nl = TcAttachOptions::Netlink(NlOptions::default());
    match prog.attach_with_options(name, TcAttachType::Ingress, nl) {
        Ok(id) => Ok(Link {
            name: name.to_string(),
            id,
            hook: Hook::Clsact,
        }),
        Err(e) => Err(bpf_error(
            &format!("attaching to {name} (tcx: {tcx_err}; tc)"),
            &e,
        )),
    }
}

impl Attachments {
    pub fn open(ebpf: &mut Ebpf, name: &str, interfaces: &[String]) -> Result<Self, KernelError> {
        let prog = program(ebpf, name)?;
        prog.load()
            .map_err(|e| bpf_error("loading the tc program", &e))?;
        let mut me = Attachments {
            auto: interfaces.is_empty(),
            program: name.to_string(),
            links: BTreeMap::new(),
        };
        let result = me.attach_initial(prog, interfaces);
        if let Err(e) = result {
            me.detach_all(ebpf);
            return Err(e);
        }
        Ok(me)
    }

    fn attach_initial(
        &mut self,
        prog: &mut SchedClassifier,
        names: &[String],
    ) -> Result<(), KernelError> {
        if self.auto {
            let mut last_err = None;
            for iface in route::attachable_interfaces() {
                match attach_one(prog, &iface.name) {
                    Ok(link) => {
                        self.links.insert(iface.index, link);
                    }
                    Err(e) => last_err = Some(e),
                }
            }
            return match (self.links.is_empty(), last_err) {
                (true, Some(e)) => Err(e),
                (true, None) => Err(KernelError::Unsupported("no interface to attach to".into())),
                _ => Ok(()),
            };
        }
        for name in names {
            let iface = route::interface(name).ok_or_else(|| {
                KernelError::Unsupported(format!(
                    "interface {name} is absent or not Ethernet-framed"
                ))
            })?;
            if let std::collections::btree_map::Entry::Vacant(slot) = self.links.entry(iface.index)
            {
                slot.insert(attach_one(prog, name)?);
            }
        }
        Ok(())
    }

    /// Makes sure packets arriving on `ifindex` pass through the program.
    pub fn ensure(&mut self, ebpf: &mut Ebpf, ifindex: u32) -> Result<(), KernelError> {
        if self.links.contains_key(&ifindex) {
            return Ok(());
        }
        let name = route::name_of(ifindex).unwrap_or_else(|| format!("ifindex {ifindex}"));
        if !self.auto {
            return Err(KernelError::Unsupported(format!(
                "packets of this flow arrive on {name}, which the kernel path is not attached to"
            )));
        }
        if route::interface(&name).is_none() {
            return Err(KernelError::Unsupported(format!(
                "interface {name} is not Ethernet-framed"
            )));
        }
        let prog = program(ebpf, &self.program)?;
        let link = attach_one(prog, &name)?;
        self.links.insert(ifindex, link);
        Ok(())
    }

    pub fn detach_all(&mut self, ebpf: &mut Ebpf) {
        let links = std::mem::take(&mut self.links);
        if let Ok(prog) = program(ebpf, &self.program) {
            for (_, link) in links {
                // The interface may be gone already (its links went with it): nothing to undo.
                let _ = prog.detach(link.id);
            }
        }
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (hook, label) in [
            (Hook::Tcx, "tcx ingress"),
            (Hook::Clsact, "tc clsact ingress"),
        ] {
            let names: Vec<&str> = self
                .links
                .values()
                .filter(|l| l.hook == hook)
                .map(|l| l.name.as_str())
                .collect();
            if !names.is_empty() {
                parts.push(format!("{label} on {}", names.join(",")));
            }
        }
        if parts.is_empty() {
            "not attached".into()
        } else {
            parts.join("; ")
        }
    }
}

/// What `install` writes and where the flow's packets arrive.
pub(crate) struct Plan {
    pub key: RawKey,
    pub value: RawValue,
    pub ingress_ifindex: u32,
}

fn check_port(addr: &SocketAddr, what: &str) -> Result<(), KernelError> {
    if addr.port() == 0 {
        return Err(KernelError::Unsupported(format!(
            "{what} {addr} has port 0"
        )));
    }
    Ok(())
}

pub(crate) fn raw_key(key: &FlowKey) -> Result<RawKey, KernelError> {
    let src = abi::canonical(key.src);
    let dst = abi::canonical(key.dst);
    check_port(&src, "key source")?;
    check_port(&dst, "key destination")?;
    if src.ip().is_unspecified() {
        return Err(KernelError::Unsupported(
            "key source must be a concrete remote address".into(),
        ));
    }
    if src.is_ipv4() != dst.is_ipv4() && !dst.ip().is_unspecified() {
        return Err(KernelError::Unsupported(format!(
            "key mixes address families: {src} -> {dst}"
        )));
    }
    Ok(abi::encode_key(src, dst))
}

fn lookup(dst: IpAddr, src: Option<IpAddr>) -> Result<route::Route, KernelError> {
    route::route_get(dst, src).map_err(|e| match e.raw_os_error() {
        Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) | Some(libc::EINVAL) => {
            KernelError::Unsupported(format!("no usable route to {dst}: {e}"))
        }
        _ => KernelError::Io(e),
    })
}

pub(crate) fn plan(key: &FlowKey, action: &FlowAction) -> Result<Plan, KernelError> {
    let raw = raw_key(key)?;
    let remote = abi::canonical(key.src);
    let mut src = abi::canonical(action.src);
    let dst = abi::canonical(action.dst);
    check_port(&src, "action source")?;
    check_port(&dst, "action destination")?;
    if dst.ip().is_unspecified() {
        return Err(KernelError::Unsupported(
            "action destination must be a concrete address".into(),
        ));
    }
    if dst.is_ipv4() != remote.is_ipv4() {
        // The header size changes between families: that translation stays in userspace.
        return Err(KernelError::Unsupported(format!(
            "IPv4/IPv6 translation {remote} -> {dst}"
        )));
    }
    let out = lookup(dst.ip(), Some(src.ip()))?;
    if src.ip().is_unspecified() || src.is_ipv4() != dst.is_ipv4() {
        let pref = out
            .prefsrc
            .filter(|p| p.is_ipv4() == dst.is_ipv4())
            .ok_or_else(|| {
                KernelError::Unsupported(format!("no source address for the route to {dst}"))
            })?;
        src = SocketAddr::new(pref, src.port());
    }
    let flags = match out.kind {
        RTN_LOCAL => FLOW_LOCAL,
        RTN_UNICAST => 0,
        other => {
            return Err(KernelError::Unsupported(format!(
                "route to {dst} is of type {other}, not unicast"
            )))
        }
    };
    let ingress = lookup(remote.ip(), None)?;
    if flags == FLOW_LOCAL && ingress.oif != out.oif {
        // Passed up on the arrival interface, a packet with one of our own addresses as its
        // source is a martian (rp checks; no accept_local): only loopback traffic, which keeps
        // its local route, can be turned around in place.
        return Err(KernelError::Unsupported(format!(
            "local destination {dst} for packets arriving from {remote}: left to userspace"
        )));
    }
    Ok(Plan {
        key: raw,
        // Directly connected: the destination is its own next hop.
        value: abi::encode_action(
            src,
            dst,
            out.oif,
            flags,
            Some(out.gateway.unwrap_or(dst.ip())),
        ),
        ingress_ifindex: ingress.oif,
    })
}
