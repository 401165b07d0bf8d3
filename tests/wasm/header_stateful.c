/* The benchmark's header plugin (examples/plugins/hello_header.c: one request and one response
   header) with stream callbacks that keep state, as an SDK-built plugin's do (they create,
   find and drop a context object): the host calls every one of them, where hello_header's
   empty ones are left out (src/adapters/wasm/inert_exports.h). bench/macro/wasm.sh runs both. */
#include "guest.h"

static u32 open_streams;
static u32 logged;

EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}
EXPORT(proxy_on_vm_start) u32 proxy_on_vm_start(u32 root, u32 size) {
  return 1;
}
EXPORT(proxy_on_configure) u32 proxy_on_configure(u32 root, u32 size) {
  return 1;
}
EXPORT(proxy_on_context_create) void proxy_on_context_create(u32 context, u32 parent) {
  if (parent != 0) ++open_streams;
}
EXPORT(proxy_on_request_headers)
u32 proxy_on_request_headers(u32 context, u32 headers, u32 end_of_stream) {
  proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-hello", 7, "bench", 5);
  return CONTINUE;
}
EXPORT(proxy_on_response_headers)
u32 proxy_on_response_headers(u32 context, u32 headers, u32 end_of_stream) {
  proxy_add_header_map_value(MAP_RESPONSE_HEADERS, "x-vortex-plugin", 15, "hello_header/1", 14);
  return CONTINUE;
}
EXPORT(proxy_on_done) u32 proxy_on_done(u32 context) {
  return 1;
}
EXPORT(proxy_on_log) void proxy_on_log(u32 context) {
  ++logged;
}
EXPORT(proxy_on_delete) void proxy_on_delete(u32 context) {
  --open_streams;
}
