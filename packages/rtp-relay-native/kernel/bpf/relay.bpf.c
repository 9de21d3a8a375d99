// SPDX-License-Identifier: Apache-2.0
//
// Switchboard RTP relay: tc/tcx ingress fast path.
//
// A hash map keyed by (family, src ip, dst ip, src port, dst port) of UDP packets
// arriving at one of the relay's sockets. On a hit the packet's addresses and ports
// are rewritten to (our other-side socket -> other side's latched remote), the
// checksums are fixed incrementally, the entry's counters are bumped and the packet
// is sent out of the egress interface chosen by userspace (route lookup at install).
// On a miss the program returns TC_ACT_UNSPEC: the next tcx/tc program runs and the
// packet then reaches userspace as usual (STUN, new sources, unknown packets).
//
// Self-contained on purpose (no libbpf headers): only the kernel UAPI headers.

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#define SEC(name) __attribute__((section(name), used))
#define INLINE static __attribute__((always_inline)) inline
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

#define bswap16(x) __builtin_bswap16(x)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define htons(x) ((__be16)bswap16(x))
#define ntohs(x) ((__u16)bswap16(x))
#else
#define htons(x) ((__be16)(x))
#define ntohs(x) ((__u16)(x))
#endif

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
// CLOCK_MONOTONIC at tick resolution: cheaper than bpf_ktime_get_ns and fine for idle checks.
static __u64 (*bpf_ktime_get_coarse_ns)(void) = (void *)160;
static long (*bpf_l4_csum_replace)(struct __sk_buff *skb, __u32 offset, __u64 from, __u64 to,
                                   __u64 flags) = (void *)11;
static __s64 (*bpf_csum_diff)(__be32 *from, __u32 from_size, __be32 *to, __u32 to_size,
                              __wsum seed) = (void *)28;
static long (*bpf_skb_pull_data)(struct __sk_buff *skb, __u32 len) = (void *)39;
static long (*bpf_redirect_neigh)(__u32 ifindex, struct bpf_redir_neigh *params, int plen,
                                  __u64 flags) = (void *)152;

// Keep in sync with src/abi.rs (RawKey, RawValue).
struct flow_key {
    __u32 src[4]; // network order; IPv4 uses src[0], the rest is zero
    __u32 dst[4]; // all zero = wildcard (the relay socket is bound to 0.0.0.0 / ::)
    __u16 sport;  // network order
    __u16 dport;  // network order
    __u32 family; // 4 or 6
};

#define FLOW_LOCAL 1u // destination is this host, arrival on loopback: pass up rewritten

struct flow_value {
    __u32 src[4];
    __u32 dst[4];
    __u16 sport;
    __u16 dport;
    __u32 ifindex; // egress interface
    __u32 flags;
    __u32 slot; // index into `counters`
    struct bpf_redir_neigh nh; // next hop from the route at install (family 0: look it up)
};

// Per-flow counters live in an mmapable array so userspace reads them without a syscall.
struct flow_counters {
    __u64 packets;
    __u64 bytes; // UDP payload bytes
    __u64 last_seen_ns; // CLOCK_MONOTONIC (coarse: tick resolution)
};

struct config {
    __u32 wildcard_entries; // entries whose dst is all zero; 0 skips the second lookup
    __u32 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct flow_key);
    __type(value, struct flow_value);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, struct flow_counters);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct config);
} relay_cfg SEC(".maps");

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8

// Same arithmetic as the kernel's csum_replace_by_diff() (RFC 1624 incremental update).
INLINE __u32 csum_add32(__u32 a, __u32 b)
{
    __u32 r = a + b;
    return r + (r < a);
}

INLINE __u16 csum_fold32(__u32 csum)
{
    csum = (csum & 0xffff) + (csum >> 16);
    csum = (csum & 0xffff) + (csum >> 16);
    return (__u16)~csum;
}

INLINE struct flow_value *lookup(struct flow_key *key)
{
    struct flow_value *v = bpf_map_lookup_elem(&flows, key);
    if (v)
        return v;
    __u32 zero = 0;
    struct config *cfg = bpf_map_lookup_elem(&relay_cfg, &zero);
    if (!cfg || cfg->wildcard_entries == 0)
        return 0;
    key->dst[0] = 0;
    key->dst[1] = 0;
    key->dst[2] = 0;
    key->dst[3] = 0;
    return bpf_map_lookup_elem(&flows, key);
}

INLINE void account(struct flow_value *v, __u16 udp_len)
{
    __u32 slot = v->slot;
    struct flow_counters *c = bpf_map_lookup_elem(&counters, &slot);
    if (!c)
        return;
    __u64 payload = udp_len > UDP_LEN ? udp_len - UDP_LEN : 0;
    __sync_fetch_and_add(&c->packets, 1);
    __sync_fetch_and_add(&c->bytes, payload);
    c->last_seen_ns = bpf_ktime_get_coarse_ns();
}

INLINE int forward(__u32 ifindex, __u32 flags, struct bpf_redir_neigh *nh)
{
    // Loopback to a local endpoint (installed only when the packet arrived on loopback): the
    // packet keeps its local route and the stack delivers it to the rewritten socket.
    if (flags & FLOW_LOCAL)
        return TC_ACT_OK;
    // With the next hop known, the kernel skips the route lookup and only resolves the neighbour.
    if (nh->nh_family)
        return bpf_redirect_neigh(ifindex, nh, sizeof(*nh), 0);
    return bpf_redirect_neigh(ifindex, 0, 0, 0);
}

INLINE int handle_v4(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    if (data + ETH_LEN + IP4_LEN + UDP_LEN > data_end) {
        if (bpf_skb_pull_data(skb, ETH_LEN + IP4_LEN + UDP_LEN) < 0)
            return TC_ACT_UNSPEC;
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
        if (data + ETH_LEN + IP4_LEN + UDP_LEN > data_end)
            return TC_ACT_UNSPEC;
    }
    struct iphdr *ip = data + ETH_LEN;
    // Options and fragments are left to userspace (RTP never needs them).
    if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP || (ip->frag_off & htons(0x3fff)))
        return TC_ACT_UNSPEC;
    struct udphdr *udp = (void *)(ip + 1);

    struct flow_key key = {};
    key.family = 4;
    key.src[0] = ip->saddr;
    key.dst[0] = ip->daddr;
    key.sport = udp->source;
    key.dport = udp->dest;
    struct flow_value *v = lookup(&key);
    if (!v)
        return TC_ACT_UNSPEC;
    account(v, ntohs(udp->len));

    __be32 old_addr[2] = {ip->saddr, ip->daddr};
    __be32 new_addr[2] = {v->src[0], v->dst[0]};
    __be16 old_ports[2] = {udp->source, udp->dest};
    __be16 new_ports[2] = {v->sport, v->dport};
    __sum16 old_check = udp->check;
    __u32 ifindex = v->ifindex, flags = v->flags;
    struct bpf_redir_neigh nh = v->nh;

    __s64 addr_diff = bpf_csum_diff(old_addr, 8, new_addr, 8, 0);
    __s64 port_diff = bpf_csum_diff((__be32 *)old_ports, 4, (__be32 *)new_ports, 4, 0);
    // RFC 768: an IPv4 UDP checksum of zero means "none"; keep it that way. The helper knows
    // whether the field holds a full checksum or only the pseudo-header sum (CHECKSUM_PARTIAL).
    if (old_check != 0) {
        __u32 off = ETH_LEN + IP4_LEN + 6;
        bpf_l4_csum_replace(skb, off, 0, addr_diff, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0);
        bpf_l4_csum_replace(skb, off, 0, port_diff, BPF_F_MARK_MANGLED_0);
    }
    // Direct writes (cheaper than bpf_skb_store_bytes); the helpers above moved the pointers.
    data = (void *)(long)skb->data;
    data_end = (void *)(long)skb->data_end;
    if (data + ETH_LEN + IP4_LEN + UDP_LEN > data_end)
        return TC_ACT_SHOT;
    ip = data + ETH_LEN;
    udp = (void *)(ip + 1);
    ip->saddr = new_addr[0];
    ip->daddr = new_addr[1];
    ip->check = csum_fold32(csum_add32((__u32)addr_diff, ~(__u32)ip->check));
    udp->source = new_ports[0];
    udp->dest = new_ports[1];
    return forward(ifindex, flags, &nh);
}

INLINE int handle_v6(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    if (data + ETH_LEN + IP6_LEN + UDP_LEN > data_end) {
        if (bpf_skb_pull_data(skb, ETH_LEN + IP6_LEN + UDP_LEN) < 0)
            return TC_ACT_UNSPEC;
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
        if (data + ETH_LEN + IP6_LEN + UDP_LEN > data_end)
            return TC_ACT_UNSPEC;
    }
    struct ipv6hdr *ip6 = data + ETH_LEN;
    // Extension headers are left to userspace.
    if (ip6->nexthdr != IPPROTO_UDP)
        return TC_ACT_UNSPEC;
    struct udphdr *udp = (void *)(ip6 + 1);

    struct flow_key key = {};
    key.family = 6;
    __builtin_memcpy(key.src, &ip6->saddr, 16);
    __builtin_memcpy(key.dst, &ip6->daddr, 16);
    key.sport = udp->source;
    key.dport = udp->dest;
    struct flow_value *v = lookup(&key);
    if (!v)
        return TC_ACT_UNSPEC;
    account(v, ntohs(udp->len));

    __be32 old_addr[8], new_addr[8];
    __builtin_memcpy(old_addr, &ip6->saddr, 16);
    __builtin_memcpy(old_addr + 4, &ip6->daddr, 16);
    __builtin_memcpy(new_addr, v->src, 16);
    __builtin_memcpy(new_addr + 4, v->dst, 16);
    __be16 old_ports[2] = {udp->source, udp->dest};
    __be16 new_ports[2] = {v->sport, v->dport};
    __u32 ifindex = v->ifindex, flags = v->flags;
    struct bpf_redir_neigh nh = v->nh;

    __s64 addr_diff = bpf_csum_diff(old_addr, 32, new_addr, 32, 0);
    __s64 port_diff = bpf_csum_diff((__be32 *)old_ports, 4, (__be32 *)new_ports, 4, 0);
    // RFC 8200 §8.1: the UDP checksum is mandatory over IPv6 and covers the pseudo-header.
    __u32 off = ETH_LEN + IP6_LEN + 6;
    bpf_l4_csum_replace(skb, off, 0, addr_diff, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0);
    bpf_l4_csum_replace(skb, off, 0, port_diff, BPF_F_MARK_MANGLED_0);
    data = (void *)(long)skb->data;
    data_end = (void *)(long)skb->data_end;
    if (data + ETH_LEN + IP6_LEN + UDP_LEN > data_end)
        return TC_ACT_SHOT;
    ip6 = data + ETH_LEN;
    udp = (void *)(ip6 + 1);
    __builtin_memcpy(&ip6->saddr, new_addr, 16);
    __builtin_memcpy(&ip6->daddr, new_addr + 4, 16);
    udp->source = new_ports[0];
    udp->dest = new_ports[1];
    return forward(ifindex, flags, &nh);
}

SEC("classifier")
int relay_ingress(struct __sk_buff *skb)
{
    // Only packets addressed to this host, one datagram each (GRO super-packets go up).
    if (skb->pkt_type != PACKET_HOST || skb->gso_size != 0)
        return TC_ACT_UNSPEC;
    // Attached only to Ethernet-framed interfaces (and loopback, which uses Ethernet framing).
    if (skb->protocol == htons(ETH_P_IP))
        return handle_v4(skb);
    if (skb->protocol == htons(ETH_P_IPV6))
        return handle_v6(skb);
    return TC_ACT_UNSPEC;
}

char _license[] SEC("license") = "Apache-2.0";
