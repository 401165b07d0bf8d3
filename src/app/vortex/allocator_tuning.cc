// jemalloc reads this at start-up (the library's weak `malloc_conf`; MALLOC_CONF in the
// environment still overrides it).
//
// Coroutine frames are the hot path's only heap allocations: six per proxied HTTP/1.1 request,
// in the 384-1792 byte classes. jemalloc caches as many per thread as a class's slab holds
// twice, but at least 20: 20 for 512 bytes. Connections move through a request in step, so
// a whole batch of frames of one class is freed, then allocated again, and every one past the
// cache's 20 went through the arena: 1.7 arena round trips (bin lock, slab bitmap) per request
// with wrk -c64, 8 % of the proxy's user time. At 200 slots for every small class the arena
// sees 0.04 per request; jemalloc's incremental GC still returns what stays unused.
//
// Memory given back returns to the system (issue 19: RSS falls again once a crowd of idle
// connections is gone): jemalloc purges its unused dirty pages only while the thread that
// freed them keeps allocating, so a proxy that went quiet kept them all; a background thread
// purges them after a second instead (the 10 s default decay held 100k connections' worth for
// that long). A steady busy path frees and reuses the same pages and purges next to nothing.
extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): jemalloc's interface
const char* malloc_conf =
    "tcache_nslots_small_min:200,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
