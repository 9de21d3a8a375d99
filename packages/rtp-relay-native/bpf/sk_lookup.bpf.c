// SPDX-License-Identifier: Apache-2.0
//
// Switchboard RTP relay: shared-port receive path (BPF_PROG_TYPE_SK_LOOKUP).
//
// Attached to the relay's network namespace, the program runs when the kernel looks up
// the socket for an arriving UDP packet. When the destination is one of the relay's
// local addresses and a port of its range that a session owns, the packet is assigned
// to the owning worker's shared socket (a SOCKMAP entry), so the relay needs no socket
// per port. Everything else is left to the regular lookup (SK_PASS without a socket):
// ports no session owns behave exactly as closed ports do, and other programs' sockets
// keep their traffic. Userspace learns the original destination with IP_ORIGDSTADDR.
//
// Self-contained on purpose (no libbpf headers): only the kernel UAPI headers.

#include <linux/bpf.h>
#include <linux/in.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

#define SB_AF_INET 2
#define SB_AF_INET6 10

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_sk_release)(void *sock) = (void *)86;
static long (*bpf_sk_assign)(void *ctx, void *sk, __u64 flags) = (void *)124;

// Keep in sync with rust/shared_ports.rs (AddrKey, SkCfg, STAT_*).
struct addr_key {
    __u32 family; // AF_INET or AF_INET6
    __u32 ip[4];  // network order; IPv4 uses ip[0]; all zero = wildcard (0.0.0.0 / ::)
};

struct sk_cfg {
    __u32 port_min;
    __u32 port_count;
};

enum { STAT_UNUSED = 0, STAT_ASSIGNED = 1, STAT_NO_SOCKET = 2, STAT_COUNT = 4 };

// Local address -> index of the address in the relay's configuration.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct addr_key);
    __type(value, __u32);
} sb_addrs SEC(".maps");

// [address index * port_count + port - port_min] -> owning worker + 1 (0 = no session).
// max_entries is set by the loader. Memory-mapped: userspace claims and releases ports
// with plain stores instead of a system call each (64-bit values, one slot each).
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, __u64);
} sb_ports SEC(".maps");

// worker * 2 + (IPv6 ? 1 : 0) -> that worker's shared UDP socket.
struct {
    __uint(type, BPF_MAP_TYPE_SOCKMAP);
    __uint(max_entries, 512);
    __type(key, __u32);
    __type(value, __u32);
} sb_socks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sk_cfg);
} sb_cfg SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, STAT_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} sb_stats SEC(".maps");

static __attribute__((always_inline)) inline void count(__u32 which)
{
    __u64 *c = bpf_map_lookup_elem(&sb_stats, &which);
    if (c)
        *c += 1; // per-CPU slot: no atomic needed
}

SEC("sk_lookup")
int sb_sk_lookup(struct bpf_sk_lookup *ctx)
{
    if (ctx->protocol != IPPROTO_UDP)
        return SK_PASS;
    // Another program attached before us already chose a socket: leave it.
    if (ctx->sk)
        return SK_PASS;
    __u32 zero = 0;
    struct sk_cfg *cfg = bpf_map_lookup_elem(&sb_cfg, &zero);
    if (!cfg)
        return SK_PASS;
    __u32 port = ctx->local_port;
    if (port < cfg->port_min)
        return SK_PASS;
    __u32 off = port - cfg->port_min;
    if (off >= cfg->port_count)
        return SK_PASS;

    struct addr_key key = {};
    __u32 v6 = 0;
    key.family = ctx->family;
    if (ctx->family == SB_AF_INET) {
        key.ip[0] = ctx->local_ip4;
    } else if (ctx->family == SB_AF_INET6) {
        key.ip[0] = ctx->local_ip6[0];
        key.ip[1] = ctx->local_ip6[1];
        key.ip[2] = ctx->local_ip6[2];
        key.ip[3] = ctx->local_ip6[3];
        v6 = 1;
    } else {
        return SK_PASS;
    }
    __u32 *addr = bpf_map_lookup_elem(&sb_addrs, &key);
    if (!addr) {
        key.ip[0] = key.ip[1] = key.ip[2] = key.ip[3] = 0;
        addr = bpf_map_lookup_elem(&sb_addrs, &key);
        if (!addr)
            return SK_PASS;
    }
    __u32 idx = *addr * cfg->port_count + off;
    __u64 *owner = bpf_map_lookup_elem(&sb_ports, &idx);
    if (!owner || *owner == 0) {
        // No session owns the port: counted, then left to the regular lookup, which
        // drops it like a packet to any closed port.
        count(STAT_UNUSED);
        return SK_PASS;
    }
    __u32 slot = (__u32)(*owner - 1) * 2 + v6;
    struct bpf_sock *sk = bpf_map_lookup_elem(&sb_socks, &slot);
    if (!sk) {
        count(STAT_NO_SOCKET);
        return SK_PASS;
    }
    long err = bpf_sk_assign(ctx, sk, 0);
    bpf_sk_release(sk);
    count(err == 0 ? STAT_ASSIGNED : STAT_NO_SOCKET);
    return SK_PASS;
}

char _license[] SEC("license") = "Apache-2.0";
