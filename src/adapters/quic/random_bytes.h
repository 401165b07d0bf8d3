// fill_random: bytes from the kernel's CSPRNG (getrandom), for connection IDs, secrets and the
// random parts of stateless answers. Blocks only until the pool is initialised at boot.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vx::adapters::quic {

void fill_random(uint8_t* into, size_t size);

}  // namespace vx::adapters::quic
