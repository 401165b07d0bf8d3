// BanList: rate-limit offences -> temporary bans of client addresses (SPEC.md §2 `bans`), with
// time handed in. Single-threaded value type: the app owns one and serialises access to it
// (the accept path asks is_banned, workers report violations, the sweeper calls sweep).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config/config.h"
#include "core/ports/clock.h"

namespace vx::core::ban {

struct BanSettings {
  uint32_t after_violations = 0;  // 0 = automatic bans off (manual bans still work)
  Nanos window = std::chrono::seconds(10);
  Nanos ttl = std::chrono::seconds(60);
  // Memory bounds: a flood of distinct offenders cannot grow the list past these.
  std::size_t max_offenders = 65536;
  std::size_t max_bans = 65536;

  static BanSettings from_config(const config::Bans& bans);
};

struct BanEntry {
  std::string ip;
  TimePoint until;
  friend bool operator==(const BanEntry&, const BanEntry&) = default;
};

// Invariants:
//  1. An address is banned at `now` iff it has an entry with until > now; entries with
//     until <= now are inert until sweep() removes (and reports) them.
//  2. An address is never both banned and counted as an offender: the ban clears its count.
//  3. offenders <= max_offenders and bans <= max_bans at all times.
// Addresses are opaque strings compared byte for byte: the caller normalises them (e.g. maps
// "::ffff:1.2.3.4" to "1.2.3.4") before handing them in.
class BanList {
 public:
  explicit BanList(BanSettings settings) : settings_(settings) {}

  // Counts one 429 for `ip`. A window opens at a client's first violation and lasts `window`;
  // the after_violations-th violation inside it bans the client for `ttl`. Returns the ban's
  // expiry when this call banned it; nullopt otherwise (off, still under the threshold,
  // already banned, or the list is full: a new offender is not tracked until sweep() frees
  // room, and a ban that does not fit is not made).
  std::optional<TimePoint> record_violation(std::string_view ip, TimePoint now);

  // Bans `ip` until now + ttl (ttl <= 0: settings.ttl), replacing any earlier expiry, as the
  // admin API asks. Returns the expiry, or nullopt when max_bans is reached.
  std::optional<TimePoint> ban(std::string_view ip, Nanos ttl, TimePoint now);

  // Lifts a ban and forgets the address's offences. Returns whether a ban was lifted.
  bool unban(std::string_view ip);

  bool is_banned(std::string_view ip, TimePoint now) const;

  // Removes expired bans (returns their addresses, for the BanSink) and offence windows that
  // have closed. O(size).
  std::vector<std::string> sweep(TimePoint now);

  // Active bans, sorted by address.
  std::vector<BanEntry> list(TimePoint now) const;

  // Applies new settings (reload); existing bans keep their expiry.
  void update_settings(BanSettings settings) { settings_ = settings; }

  std::size_t bans_size_for_test() const { return bans_.size(); }
  std::size_t offenders_size_for_test() const { return offenders_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Offender {
    TimePoint window_start;
    uint32_t count = 0;
  };

  BanSettings settings_;
  std::unordered_map<std::string, Offender, Hash, std::equal_to<>> offenders_;
  std::unordered_map<std::string, TimePoint, Hash, std::equal_to<>> bans_;
};

}  // namespace vx::core::ban
