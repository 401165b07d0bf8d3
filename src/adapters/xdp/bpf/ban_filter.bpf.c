// XDP half of the kernel-side bans (docs/xdp.md): drops every packet whose IPv4 or IPv6 source
// is in BLOCKED_IPS / BLOCKED_IPS6 with an expiry still ahead, and passes everything else.
// Built from the kernel's UAPI headers only (no vmlinux.h): nothing here reads a kernel struct,
// so the object loads on any kernel with XDP and BPF hash maps, whatever its BTF says.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// The user-space loader (xdp_ban_sink.cc) keeps the same layout: keys in network byte order as
// they sit in the header, values the ban's expiry in CLOCK_MONOTONIC nanoseconds, the clock of
// bpf_ktime_get_ns() and of std::chrono::steady_clock.
struct ipv6_key {
  __u8 addr[16];
};

// Sized as BanSettings::max_bans: the registry never holds more bans than the map can.
#define VX_MAX_BANS 65536

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VX_MAX_BANS);
  __type(key, __u32);
  __type(value, __u64);
} BLOCKED_IPS SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VX_MAX_BANS);
  __type(key, struct ipv6_key);
  __type(value, __u64);
} BLOCKED_IPS6 SEC(".maps");

// One slot per CPU: each CPU's XDP run bumps its own counter without an atomic; /metrics sums.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} DROPPED SEC(".maps");

struct vlan_hdr {
  __be16 tci;
  __be16 encapsulated_proto;
};

static __always_inline int banned(const __u64* expiry) {
  // An entry whose expiry has passed lets the packet through even before the sweeper has
  // removed it: the map never outlives the ban it stands for.
  return expiry && *expiry > bpf_ktime_get_ns();
}

static __always_inline int drop(void) {
  __u32 zero = 0;
  __u64* count = bpf_map_lookup_elem(&DROPPED, &zero);
  if (count) *count += 1;
  return XDP_DROP;
}

SEC("xdp")
int vortex_xdp_ban(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) return XDP_PASS;
  __u16 proto = eth->h_proto;
  void* next = eth + 1;

  // Up to two VLAN tags (802.1Q, and 802.1ad outside it); deeper stacks pass unfiltered.
#pragma unroll
  for (int i = 0; i < 2; i++) {
    if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD)) break;
    struct vlan_hdr* vlan = next;
    if ((void*)(vlan + 1) > data_end) return XDP_PASS;
    proto = vlan->encapsulated_proto;
    next = vlan + 1;
  }

  if (proto == bpf_htons(ETH_P_IP)) {
    struct iphdr* ip = next;
    // Only the fixed part is read: the source sits there in every fragment too, so a banned
    // sender's fragments drop and everyone else's pass whole, with no reassembly here.
    if ((void*)(ip + 1) > data_end) return XDP_PASS;
    __u32 source = ip->saddr;
    if (banned(bpf_map_lookup_elem(&BLOCKED_IPS, &source))) return drop();
    return XDP_PASS;
  }
  if (proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr* ip6 = next;
    if ((void*)(ip6 + 1) > data_end) return XDP_PASS;
    struct ipv6_key key;
    __builtin_memcpy(key.addr, &ip6->saddr, sizeof(key.addr));
    if (banned(bpf_map_lookup_elem(&BLOCKED_IPS6, &key))) return drop();
    return XDP_PASS;
  }
  return XDP_PASS;  // ARP, LLDP and the rest: never ours to judge
}

char LICENSE[] SEC("license") = "GPL";
