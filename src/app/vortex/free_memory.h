// Gives the allocator's free pages back to the kernel after a burst of short-lived allocations
// the process will not repeat soon: loading a config. A 10 000-route file leaves tens of MB of
// parse tree and superseded tables freed but resident; jemalloc only purges them as it
// allocates again, and an idle proxy does not.
#pragma once

namespace vx::app {

// Every arena's unused dirty pages go back to the kernel. A no-op without jemalloc (TSan
// builds). Takes each arena's lock briefly: call on a config apply, never per request.
void return_free_memory();

}  // namespace vx::app
