#include "adapters/xdp/xdp_ban_sink.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "adapters/xdp/ban_filter.skel.h"
#include "core/ban/kernel_ban_key.h"

namespace vx::adapters::xdp {

namespace {

using core::ban::Enforcement;

// The program's name as the kernel reports it (bpf_prog_info.name keeps 15 characters): how
// a leftover of ours is told from somebody else's program.
constexpr std::string_view kProgramName = "vortex_xdp_ban";

// libbpf prints its reasons to stderr by default, several lines per failure. The loader
// keeps the last warning of the attaching thread instead and puts it in its one log line.
thread_local std::string libbpf_last_warning;

int keep_libbpf_warning(enum libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_WARN) return 0;
  char line[512];
  std::vsnprintf(line, sizeof(line), format, args);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (!text.empty()) libbpf_last_warning = std::move(text);
  return 0;
}

std::string error_text(int err) {
  return std::strerror(err < 0 ? -err : err);
}

uint32_t mode_flag(Enforcement enforcement) {
  return enforcement == Enforcement::XdpNative ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

std::string_view mode_word(uint32_t flag) {
  switch (flag) {
    case XDP_FLAGS_DRV_MODE:
      return "native";
    case XDP_FLAGS_SKB_MODE:
      return "generic";
    default:
      return "offloaded";
  }
}

std::string program_name(uint32_t id) {
  const int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return {};
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  std::string name;
  if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0) name = info.name;
  close(fd);
  return name;
}

// Puts the program on the interface in one mode. A program of ours already there (a crashed
// run's) in the same mode is swapped atomically (XDP_FLAGS_REPLACE names the one expected, so
// a program attached meanwhile by someone else is never clobbered); one of ours in the other
// mode is detached first, since a device runs native and generic XDP programs only one at a
// time. Nothing there: XDP_FLAGS_UPDATE_IF_NOEXIST, for the same reason.
core::Result<void, std::string> attach_in_mode(int ifindex, int prog_fd, uint32_t flag) {
  bpf_xdp_query_opts query{};
  query.sz = sizeof(query);
  if (int err = bpf_xdp_query(ifindex, 0, &query); err != 0) {
    return core::unexpected("cannot query its XDP programs: " + error_text(err));
  }
  int replace_fd = -1;
  const std::pair<uint32_t, uint32_t> present[] = {{query.drv_prog_id, XDP_FLAGS_DRV_MODE},
                                                   {query.skb_prog_id, XDP_FLAGS_SKB_MODE},
                                                   {query.hw_prog_id, XDP_FLAGS_HW_MODE}};
  for (const auto& [id, where] : present) {
    if (id == 0) continue;
    const std::string name = program_name(id);
    if (name != kProgramName || where == XDP_FLAGS_HW_MODE) {
      if (replace_fd >= 0) close(replace_fd);
      return core::unexpected("another XDP program ('" + name + "', id " + std::to_string(id) +
                              ", " + std::string(mode_word(where)) +
                              ") is attached: not replacing it");
    }
    if (where == flag) {
      replace_fd = bpf_prog_get_fd_by_id(id);
    } else {
      bpf_xdp_attach_opts detach{};
      detach.sz = sizeof(detach);
      bpf_xdp_detach(ifindex, where, &detach);
    }
  }
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof(opts);
  uint32_t flags = flag;
  if (replace_fd >= 0) {
    opts.old_prog_fd = replace_fd;
    flags |= XDP_FLAGS_REPLACE;
  } else {
    flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
  }
  const int err = bpf_xdp_attach(ifindex, prog_fd, flags, &opts);
  if (replace_fd >= 0) close(replace_fd);
  if (err != 0) {
    return core::unexpected(std::string(mode_word(flag)) + " attach failed: " + error_text(err));
  }
  return {};
}

}  // namespace

core::Result<std::unique_ptr<XdpBanSink>, std::string> XdpBanSink::attach(
    const std::string& interface, core::config::XdpMode mode) {
  static std::once_flag print_set;
  std::call_once(print_set, [] { libbpf_set_print(keep_libbpf_warning); });
  libbpf_last_warning.clear();

  std::unique_ptr<XdpBanSink> sink(new XdpBanSink());
  sink->interface_ = interface;
  sink->configured_mode_ = mode;
  sink->ifindex_ = static_cast<int>(if_nametoindex(interface.c_str()));
  if (sink->ifindex_ == 0) return core::unexpected("no interface '" + interface + "'");

  sink->skeleton_ = vortex_xdp__open_and_load();
  if (!sink->skeleton_) {
    const int err = errno;
    std::string why = "cannot load the XDP program: " + error_text(err);
    if (err == EPERM || err == EACCES) why += " (needs root, or CAP_BPF and CAP_NET_ADMIN)";
    if (!libbpf_last_warning.empty()) why += " [" + libbpf_last_warning + "]";
    return core::unexpected(std::move(why));
  }
  const int possible = libbpf_num_possible_cpus();
  sink->possible_cpus_ = possible > 0 ? possible : 1;

  const int prog_fd = bpf_program__fd(sink->skeleton_->progs.vortex_xdp_ban);
  std::string failures;
  for (const Enforcement enforcement : core::ban::xdp_attach_plan(mode)) {
    const uint32_t flag = mode_flag(enforcement);
    auto attached = attach_in_mode(sink->ifindex_, prog_fd, flag);
    if (!attached) {
      if (!failures.empty()) failures += "; ";
      failures += attached.error();
      continue;
    }
    sink->attach_flags_ = flag;
    sink->enforcement_ = enforcement;
    bpf_xdp_query_id(sink->ifindex_, static_cast<int>(flag), &sink->program_id_);
    return sink;
  }
  return core::unexpected(std::move(failures));
}

XdpBanSink::~XdpBanSink() {
  if (skeleton_ && attach_flags_ != 0) {
    // Only if it is still ours: another process may have replaced it since.
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof(opts);
    opts.old_prog_fd = bpf_program__fd(skeleton_->progs.vortex_xdp_ban);
    bpf_xdp_detach(ifindex_, attach_flags_ | XDP_FLAGS_REPLACE, &opts);
  }
  if (skeleton_) vortex_xdp__destroy(skeleton_);
}

void XdpBanSink::ban(std::string_view ip, core::TimePoint until) {
  const auto key = core::ban::kernel_ban_key(ip);
  if (!key) {
    failed_updates_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const uint64_t expiry = core::ban::kernel_expiry_ns(until);
  int err;
  if (key->family == core::ban::KernelBanKey::Family::V4) {
    err = bpf_map_update_elem(bpf_map__fd(skeleton_->maps.BLOCKED_IPS), key->bytes.data(), &expiry,
                              BPF_ANY);
  } else {
    err = bpf_map_update_elem(bpf_map__fd(skeleton_->maps.BLOCKED_IPS6), key->bytes.data(), &expiry,
                              BPF_ANY);
  }
  if (err != 0) failed_updates_.fetch_add(1, std::memory_order_relaxed);
}

void XdpBanSink::unban(std::string_view ip) {
  const auto key = core::ban::kernel_ban_key(ip);
  if (!key) return;
  const bool v4 = key->family == core::ban::KernelBanKey::Family::V4;
  bpf_map_delete_elem(bpf_map__fd(v4 ? skeleton_->maps.BLOCKED_IPS : skeleton_->maps.BLOCKED_IPS6),
                      key->bytes.data());
}

bool XdpBanSink::holds(std::string_view ip) const {
  const auto key = core::ban::kernel_ban_key(ip);
  if (!key) return false;
  const bool v4 = key->family == core::ban::KernelBanKey::Family::V4;
  uint64_t expiry = 0;
  return bpf_map_lookup_elem(
             bpf_map__fd(v4 ? skeleton_->maps.BLOCKED_IPS : skeleton_->maps.BLOCKED_IPS6),
             key->bytes.data(), &expiry) == 0;
}

uint64_t XdpBanSink::dropped_packets() const {
  // A per-CPU array returns one value per possible CPU, each rounded up to 8 bytes.
  std::vector<uint64_t> per_cpu(static_cast<size_t>(possible_cpus_));
  const uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.DROPPED), &zero, per_cpu.data()) != 0) {
    return 0;
  }
  uint64_t sum = 0;
  for (const uint64_t n : per_cpu) sum += n;
  return sum;
}

}  // namespace vx::adapters::xdp
