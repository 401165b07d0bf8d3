// See ban_list.h.
#include "core/ban/ban_list.h"

#include <algorithm>
#include <limits>

namespace vx::core::ban {
namespace {

TimePoint saturating_add(TimePoint t, Nanos d) {
  int64_t out = 0;
  if (__builtin_add_overflow(t.time_since_epoch().count(), d.count(), &out)) {
    return d.count() < 0 ? TimePoint::min() : TimePoint::max();
  }
  return TimePoint(Nanos(out));
}

}  // namespace

BanSettings BanSettings::from_config(const config::Bans& bans) {
  BanSettings s;
  s.after_violations = bans.after_violations;
  s.window = bans.window;
  s.ttl = bans.ttl;
  return s;
}

std::optional<TimePoint> BanList::record_violation(std::string_view ip, TimePoint now) {
  if (settings_.after_violations == 0 || is_banned(ip, now)) return std::nullopt;
  auto it = offenders_.find(ip);
  if (it == offenders_.end()) {
    if (offenders_.size() >= settings_.max_offenders) return std::nullopt;
    it = offenders_.emplace(std::string(ip), Offender{now, 0}).first;
  } else if (now >= saturating_add(it->second.window_start, settings_.window) ||
             now < it->second.window_start) {  // closed, or the clock went back: new window
    it->second = Offender{now, 0};
  }
  if (++it->second.count < settings_.after_violations) return std::nullopt;
  return ban(ip, settings_.ttl, now);  // clears the offender record when it bans
}

std::optional<TimePoint> BanList::ban(std::string_view ip, Nanos ttl, TimePoint now) {
  const TimePoint until = saturating_add(now, ttl.count() > 0 ? ttl : settings_.ttl);
  auto it = bans_.find(ip);
  if (it != bans_.end()) {
    it->second = until;
  } else {
    if (bans_.size() >= settings_.max_bans) return std::nullopt;
    bans_.emplace(std::string(ip), until);
  }
  if (auto o = offenders_.find(ip); o != offenders_.end()) offenders_.erase(o);
  return until;
}

bool BanList::unban(std::string_view ip) {
  if (auto o = offenders_.find(ip); o != offenders_.end()) offenders_.erase(o);
  auto it = bans_.find(ip);
  if (it == bans_.end()) return false;
  bans_.erase(it);
  return true;
}

bool BanList::is_banned(std::string_view ip, TimePoint now) const {
  auto it = bans_.find(ip);
  return it != bans_.end() && it->second > now;
}

std::vector<std::string> BanList::sweep(TimePoint now) {
  std::vector<std::string> lifted;
  for (auto it = bans_.begin(); it != bans_.end();) {
    if (it->second <= now) {
      lifted.push_back(it->first);
      it = bans_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = offenders_.begin(); it != offenders_.end();) {
    const bool closed = now >= saturating_add(it->second.window_start, settings_.window);
    it = closed ? offenders_.erase(it) : std::next(it);
  }
  return lifted;
}

std::vector<BanEntry> BanList::list(TimePoint now) const {
  std::vector<BanEntry> out;
  for (const auto& [ip, until] : bans_) {
    if (until > now) out.push_back(BanEntry{ip, until});
  }
  std::sort(out.begin(), out.end(),
            [](const BanEntry& a, const BanEntry& b) { return a.ip < b.ip; });
  return out;
}

}  // namespace vx::core::ban
