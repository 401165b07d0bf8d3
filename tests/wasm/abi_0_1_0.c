/* An ABI 0.1.0 plugin: headers callbacks without end_of_stream, proxy_continue_request. */
#include "guest.h"

IMPORT(proxy_continue_request) u32 proxy_continue_request(void);

EXPORT(proxy_abi_version_0_1_0) void proxy_abi_version_0_1_0(void) {}
EXPORT(proxy_on_vm_start) u32 proxy_on_vm_start(u32 root, u32 size) {
  return 1;
}
EXPORT(proxy_on_configure) u32 proxy_on_configure(u32 root, u32 size) {
  return 1;
}
EXPORT(proxy_on_context_create) void proxy_on_context_create(u32 context, u32 parent) {}
EXPORT(proxy_on_request_headers) u32 proxy_on_request_headers(u32 context, u32 headers) {
  char* missing = (char*)1;
  u32 size = 7;
  /* 0.1.0: a missing header is OK with an empty value, not NOT_FOUND */
  u32 status = proxy_get_header_map_value(MAP_REQUEST_HEADERS, "x-absent", 8, &missing, &size);
  proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-abi", 5, "0.1.0", 5);
  char verdict = status == 0 && size == 0 ? 'y' : 'n';
  proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-missing-ok", 12, &verdict, 1);
  return CONTINUE;
}
EXPORT(proxy_on_done) u32 proxy_on_done(u32 context) {
  return 1;
}
