/* hello_header: the smallest useful Proxy-Wasm plugin, in C with no SDK and no libc.

   It adds `x-hello: <its config>` to every request the origin sees and
   `x-vortex-plugin: hello_header/<VERSION>` to every response. `make run` loads it on the demo
   route (examples/vortex.yaml); the build makes two versions, so that pushing the second one
   with `vortexctl wasm push` shows a module swapped under a running proxy (README.md).

   Build by hand: clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export-dynamic \
                    -Wl,--allow-undefined -DVERSION='"1"' -o hello_header.wasm hello_header.c */
#include <stdint.h>

#ifndef VERSION
#define VERSION "1"
#endif

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

enum { REQUEST_HEADERS = 0, RESPONSE_HEADERS = 2 };
enum { PLUGIN_CONFIGURATION = 7 };
enum { CONTINUE = 0 };
enum { LOG_INFO = 2 };

IMPORT(proxy_log) uint32_t proxy_log(uint32_t level, const char* message, uint32_t size);
IMPORT(proxy_get_buffer_bytes)
uint32_t proxy_get_buffer_bytes(uint32_t buffer, uint32_t start, uint32_t max, char** data,
                                uint32_t* size);
IMPORT(proxy_add_header_map_value)
uint32_t proxy_add_header_map_value(uint32_t map, const char* key, uint32_t key_size,
                                    const char* value, uint32_t value_size);

/* The host copies values into guest memory it asks for here. This plugin asks for one value,
   once per configure, so a bump allocator over a small static heap is enough. */
static unsigned char heap[4096];
static uint32_t heap_top;
EXPORT(proxy_on_memory_allocate) void* proxy_on_memory_allocate(uint32_t size) {
  uint32_t at = (heap_top + 7u) & ~7u;
  if (at + size > sizeof heap) return 0;
  heap_top = at + size;
  return heap + at;
}

EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

static const char kVersion[] = "hello_header/" VERSION;
static char greeting[256] = "hello";
static uint32_t greeting_size = 5;

EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t context, uint32_t root) {}

EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t root, uint32_t vm_config_size) {
  return 1;
}

/* The plugin's `config` string (SPEC.md §2 wasm.plugins[].config) is the greeting. */
EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t config_size) {
  heap_top = 0;
  char* config = 0;
  uint32_t size = 0;
  if (config_size > 0 && config_size <= sizeof greeting &&
      proxy_get_buffer_bytes(PLUGIN_CONFIGURATION, 0, config_size, &config, &size) == 0) {
    for (uint32_t i = 0; i < size; ++i) greeting[i] = config[i];
    greeting_size = size;
  }
  static const char started[] = "hello_header " VERSION " configured";
  proxy_log(LOG_INFO, started, sizeof started - 1);
  return 1;
}

EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
  proxy_add_header_map_value(REQUEST_HEADERS, "x-hello", 7, greeting, greeting_size);
  return CONTINUE;
}

EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
  proxy_add_header_map_value(RESPONSE_HEADERS, "x-vortex-plugin", 15, kVersion,
                             sizeof kVersion - 1);
  return CONTINUE;
}

EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t context) {
  return 1;
}
EXPORT(proxy_on_log) void proxy_on_log(uint32_t context) {}
EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t context) {}
