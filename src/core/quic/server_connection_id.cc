#include "core/quic/server_connection_id.h"

namespace vx::core::quic {

void mark_owner(std::span<uint8_t> cid, unsigned worker) {
  cid[kOwnerOffset] = static_cast<uint8_t>(worker);
}

std::optional<unsigned> owner_of(std::span<const uint8_t> dcid, unsigned workers) {
  if (dcid.size() != kServerCidBytes) return std::nullopt;
  const unsigned owner = dcid[kOwnerOffset];
  if (owner >= workers) return std::nullopt;
  return owner;
}

}  // namespace vx::core::quic
