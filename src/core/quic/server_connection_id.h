// Server connection IDs: the layout of the connection IDs Vortex's QUIC listeners give their
// connections (docs/http3.md "How packets reach their worker"). 18 bytes: the first is the
// index of the worker that owns the connection, the other 17 random. So the owner of any packet
// carrying one of our IDs is known from the packet alone: the kernel's reuseport program
// (adapters/quic/reuseport_steering.h) and every worker read it without shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace vx::core::quic {

inline constexpr size_t kServerCidBytes = 18;
// Where the owner's index sits in the ID (and so in a packet: short header at 1 + this offset;
// long header, after the DCID length byte at 5, at 6 + this offset).
inline constexpr size_t kOwnerOffset = 0;
// Worker indexes that fit the owner byte: listeners on later workers serve no QUIC.
inline constexpr unsigned kMaxOwners = 256;

// Marks `cid` (kServerCidBytes, its other bytes already random) as owned by `worker`.
// REQUIRES: cid.size() == kServerCidBytes, worker < kMaxOwners.
void mark_owner(std::span<uint8_t> cid, unsigned worker);

// The worker a destination connection ID routes to when `workers` serve the listener: its owner
// byte when the ID has our length and the byte names a worker, else none (a client-chosen ID,
// or not ours). A client's first ID that happens to look like ours routes by its byte too,
// which is harmless: all its packets route the same way, so one worker sees the handshake.
std::optional<unsigned> owner_of(std::span<const uint8_t> dcid, unsigned workers);

}  // namespace vx::core::quic
