/* The host's own test plugin (ABI 0.2.1): what it does depends on the request path, so one
   module exercises headers, local answers, pauses and HTTP calls, bodies, properties, shared
   data, metrics and the failure modes. Used by tests/unit/adapters/wasm and the integration
   tests. */
#include "guest.h"

EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

static char config[256];
static u32 config_size;
static u32 requests_metric;
static u32 ticks_metric;
enum { PLAIN, UPPER, CALL, LOG_RESPONSE };
/* What each live stream context's path asked for: an open-addressing table keyed by context
   id (freed in proxy_on_delete), so streams of a busy instance never share an entry. */
enum { STREAMS = 1024 };
static u32 ids[STREAMS];
static u32 modes[STREAMS];
static u32* mode_of(u32 context) {
  static u32 none;
  for (u32 i = 0; i < STREAMS; ++i) {
    u32 at = (context + i) % STREAMS;
    if (ids[at] == context) return &modes[at];
  }
  none = PLAIN;
  return &none;
}
static u32 caller; /* the stream context waiting for the HTTP call */

EXPORT(proxy_on_vm_start) u32 proxy_on_vm_start(u32 root, u32 size) {
  return 1;
}

EXPORT(proxy_on_configure) u32 proxy_on_configure(u32 root, u32 size) {
  char* data = 0;
  u32 got = 0;
  proxy_get_buffer_bytes(BUFFER_PLUGIN_CONFIGURATION, 0, size, &data, &got);
  if (got > sizeof config) got = sizeof config;
  copy(config, data, got);
  config_size = got;
  if (same(config, config_size, "fail-configure")) return 0;
  proxy_define_metric(0, "requests", 8, &requests_metric);
  proxy_define_metric(1, "ticks", 5, &ticks_metric);
  if (same(config, config_size, "tick")) proxy_set_tick_period_milliseconds(20);
  return 1;
}

EXPORT(proxy_on_tick) void proxy_on_tick(u32 root) {
  proxy_increment_metric(ticks_metric, 1);
}

EXPORT(proxy_on_context_create) void proxy_on_context_create(u32 context, u32 parent) {
  if (parent == 0) return; /* the root context */
  for (u32 i = 0; i < STREAMS; ++i) {
    u32 at = (context + i) % STREAMS;
    if (ids[at] == 0) {
      ids[at] = context;
      modes[at] = PLAIN;
      return;
    }
  }
}

static int path_is(const char* value, u32 size, const char* path) {
  return same(value, size, path);
}

EXPORT(proxy_on_request_headers)
u32 proxy_on_request_headers(u32 context, u32 headers, u32 end_of_stream) {
  proxy_increment_metric(requests_metric, 1);
  char* path = 0;
  u32 path_size = 0;
  proxy_get_header_map_value(MAP_REQUEST_HEADERS, ":path", 5, &path, &path_size);
  proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-wasm-config", 13, config, config_size);
  proxy_replace_header_map_value(MAP_REQUEST_HEADERS, "x-replace", 9, "new", 3);
  proxy_remove_header_map_value(MAP_REQUEST_HEADERS, "x-remove", 8);
  if (path_is(path, path_size, "/deny")) {
    char headers_buf[64];
    u32 n = one_pair(headers_buf, "x-reason", "test");
    proxy_send_local_response(401, "", 0, "denied by test plugin\n", 22, headers_buf, n, 0);
    return PAUSE;
  }
  if (path_is(path, path_size, "/call")) {
    char request[128];
    /* :method GET, :path /check, :authority auth */
    const u32 words[] = {3, 7, 3, 5, 6, 10, 4};
    u32 at = 28;
    copy(request, (const char*)words, 28);
    const char* parts[] = {":method", "GET", ":path", "/check", ":authority", "auth"};
    for (int i = 0; i < 6; ++i) {
      u32 n = len(parts[i]);
      copy(request + at, parts[i], n);
      at += n;
      request[at++] = 0;
    }
    u32 token = 0;
    if (proxy_http_call("auth", 4, request, at, "", 0, "", 0, 5000, &token) != 0) {
      proxy_send_local_response(500, "", 0, "no call\n", 8, "", 0, 0);
      return PAUSE;
    }
    caller = context;
    *mode_of(context) = CALL;
    return PAUSE;
  }
  if (path_is(path, path_size, "/pause-forever")) return PAUSE;
  if (path_is(path, path_size, "/trap")) __builtin_trap();
  if (path_is(path, path_size, "/loop")) {
    for (volatile int spin = 1; spin;) {
    }
  }
  if (path_is(path, path_size, "/bomb")) {
    while (__builtin_wasm_memory_grow(0, 16) != (unsigned long)-1) {
    }
  }
  if (path_is(path, path_size, "/upper")) *mode_of(context) = UPPER;
  if (path_is(path, path_size, "/log-response")) *mode_of(context) = LOG_RESPONSE;
  if (path_is(path, path_size, "/property")) {
    char* value = 0;
    u32 size = 0;
    if (proxy_get_property("request\0url_path", 16, &value, &size) == 0) {
      proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-property-path", 15, value, size);
    }
    if (proxy_get_property("plugin_name", 11, &value, &size) == 0) {
      proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-property-plugin", 17, value, size);
    }
    if (proxy_get_property("request\0protocol", 16, &value, &size) == 0) {
      proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-property-protocol", 19, value, size);
    }
    if (proxy_get_property("listener_name", 13, &value, &size) == 0) {
      proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-property-listener", 19, value, size);
    }
    if (proxy_get_property("destination\0port", 16, &value, &size) == 0 && size == 8) {
      u64 port = 0;
      for (int i = 7; i >= 0; --i) port = port * 256 + (unsigned char)value[i];
      char digits[20];
      u32 n = 0;
      do {
        digits[n++] = (char)('0' + port % 10);
        port /= 10;
      } while (port);
      char text[20];
      for (u32 i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
      proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-property-port", 15, text, n);
    }
  }
  if (path_is(path, path_size, "/shared")) {
    char* value = 0;
    u32 size = 0, cas = 0;
    if (proxy_get_shared_data("hits", 4, &value, &size, &cas) != 0) {
      proxy_set_shared_data("hits", 4, "1", 1, 0);
    } else {
      char next = (char)(value[0] + 1);
      proxy_set_shared_data("hits", 4, &next, 1, cas);
    }
    proxy_get_shared_data("hits", 4, &value, &size, &cas);
    proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-shared", 8, value, size);
  }
  if (path_is(path, path_size, "/foreign")) {
    char* out = 0;
    u32 out_size = 0;
    u32 status = proxy_call_foreign_function("nothing", 7, "", 0, &out, &out_size);
    char digit = (char)('0' + status);
    proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-foreign", 9, &digit, 1);
  }
  if (path_is(path, path_size, "/wasi")) {
    struct {
      const char* p;
      u32 n;
    } iov = {"hello from wasi\n", 16};
    u32 written = 0;
    fd_write(1, &iov, 1, &written);
    u64 now = 0;
    clock_time_get(0, 0, &now);
    char ok = now > 1600000000000000000ull ? 'y' : 'n';
    proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-clock", 7, &ok, 1);
    /* Two 16-byte draws: the same twice, or all zero, is no random source. */
    unsigned char a[16], b[16];
    int differ = 0, zero = 1;
    if (random_get(a, 16) == 0 && random_get(b, 16) == 0) {
      for (int i = 0; i < 16; ++i) {
        differ |= a[i] != b[i];
        zero &= a[i] == 0;
      }
    }
    char random_ok = differ && !zero ? 'y' : 'n';
    proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-random", 8, &random_ok, 1);
  }
  return CONTINUE;
}

EXPORT(proxy_on_request_body) u32 proxy_on_request_body(u32 context, u32 size, u32 end_of_stream) {
  if (*mode_of(context) != UPPER) return CONTINUE;
  if (!end_of_stream) return PAUSE; /* buffer it all */
  char* body = 0;
  u32 got = 0;
  proxy_get_buffer_bytes(BUFFER_REQUEST_BODY, 0, size, &body, &got);
  for (u32 i = 0; i < got; ++i) {
    if (body[i] >= 'a' && body[i] <= 'z') body[i] = (char)(body[i] - 32);
  }
  proxy_set_buffer_bytes(BUFFER_REQUEST_BODY, 0, got, body, got);
  return CONTINUE;
}

EXPORT(proxy_on_response_headers)
u32 proxy_on_response_headers(u32 context, u32 headers, u32 end_of_stream) {
  proxy_add_header_map_value(MAP_RESPONSE_HEADERS, "x-wasm-response", 15, "seen", 4);
  return CONTINUE;
}

EXPORT(proxy_on_response_body)
u32 proxy_on_response_body(u32 context, u32 size, u32 end_of_stream) {
  if (*mode_of(context) == UPPER && end_of_stream) {
    proxy_set_buffer_bytes(BUFFER_RESPONSE_BODY, size, 0, "!", 1); /* append */
  }
  return CONTINUE;
}

EXPORT(proxy_on_http_call_response)
void proxy_on_http_call_response(u32 context, u32 token, u32 headers, u32 body_size, u32 trailers) {
  proxy_set_effective_context(caller);
  char* status = 0;
  u32 status_size = 0;
  if (headers > 0) {
    proxy_get_header_map_value(MAP_CALL_RESPONSE_HEADERS, ":status", 7, &status, &status_size);
  }
  if (headers > 0 && same(status, status_size, "200")) {
    char* body = 0;
    u32 got = 0;
    proxy_get_buffer_bytes(BUFFER_CALL_RESPONSE_BODY, 0, body_size, &body, &got);
    if (same(body, got, "trap")) __builtin_trap();
    proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-auth", 6, body, got);
    proxy_continue_stream(0);
  } else {
    proxy_send_local_response(403, "", 0, "forbidden by auth\n", 18, "", 0, 0);
  }
}

EXPORT(proxy_on_done) u32 proxy_on_done(u32 context) {
  return 1;
}
/* An access-logging plugin's way: the response head, as sent, read once the stream is over. */
EXPORT(proxy_on_log) void proxy_on_log(u32 context) {
  if (*mode_of(context) != LOG_RESPONSE) return;
  static const char prefix[] = "logged response ";
  char line[128];
  u32 at = sizeof prefix - 1;
  copy(line, prefix, at);
  const char* names[] = {":status", "x-wasm-response"};
  for (int i = 0; i < 2; ++i) {
    char* value = 0;
    u32 size = 0;
    if (proxy_get_header_map_value(MAP_RESPONSE_HEADERS, names[i], len(names[i]), &value, &size) ==
            0 &&
        at + size + 1 < sizeof line) {
      copy(line + at, value, size);
      at += size;
    }
    line[at++] = i == 0 ? ' ' : 0;
  }
  proxy_log(2, line, at - 1);
}
EXPORT(proxy_on_delete) void proxy_on_delete(u32 context) {
  for (u32 i = 0; i < STREAMS; ++i) {
    u32 at = (context + i) % STREAMS;
    if (ids[at] == context) {
      ids[at] = 0;
      return;
    }
  }
}
