/* A few lines of Proxy-Wasm SDK for the test guests: the host imports they use, a bump
   allocator the host hands memory out through, and string helpers. No libc (-nostdlib). */
#pragma once

#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define WASI(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

typedef uint32_t u32;
typedef uint64_t u64;

enum { MAP_REQUEST_HEADERS = 0, MAP_RESPONSE_HEADERS = 2, MAP_CALL_RESPONSE_HEADERS = 6 };
enum {
  BUFFER_REQUEST_BODY = 0,
  BUFFER_RESPONSE_BODY = 1,
  BUFFER_CALL_RESPONSE_BODY = 4,
  BUFFER_PLUGIN_CONFIGURATION = 7
};
enum { CONTINUE = 0, PAUSE = 1 };

IMPORT(proxy_log) u32 proxy_log(u32 level, const char* message, u32 size);
IMPORT(proxy_get_header_map_value)
u32 proxy_get_header_map_value(u32 map, const char* key, u32 key_size, char** value, u32* size);
IMPORT(proxy_add_header_map_value)
u32 proxy_add_header_map_value(u32 map, const char* key, u32 key_size, const char* value,
                               u32 value_size);
IMPORT(proxy_replace_header_map_value)
u32 proxy_replace_header_map_value(u32 map, const char* key, u32 key_size, const char* value,
                                   u32 value_size);
IMPORT(proxy_remove_header_map_value)
u32 proxy_remove_header_map_value(u32 map, const char* key, u32 key_size);
IMPORT(proxy_get_buffer_bytes)
u32 proxy_get_buffer_bytes(u32 buffer, u32 start, u32 max, char** data, u32* size);
IMPORT(proxy_set_buffer_bytes)
u32 proxy_set_buffer_bytes(u32 buffer, u32 start, u32 size, const char* data, u32 data_size);
IMPORT(proxy_send_local_response)
u32 proxy_send_local_response(u32 status, const char* details, u32 details_size, const char* body,
                              u32 body_size, const char* headers, u32 headers_size, u32 grpc);
IMPORT(proxy_http_call)
u32 proxy_http_call(const char* upstream, u32 upstream_size, const char* headers, u32 headers_size,
                    const char* body, u32 body_size, const char* trailers, u32 trailers_size,
                    u32 timeout_ms, u32* token);
IMPORT(proxy_continue_stream) u32 proxy_continue_stream(u32 stream);
IMPORT(proxy_set_effective_context) u32 proxy_set_effective_context(u32 context);
IMPORT(proxy_get_property)
u32 proxy_get_property(const char* path, u32 size, char** value, u32* value_size);
IMPORT(proxy_define_metric) u32 proxy_define_metric(u32 type, const char* name, u32 size, u32* id);
IMPORT(proxy_increment_metric) u32 proxy_increment_metric(u32 id, int64_t delta);
IMPORT(proxy_record_metric) u32 proxy_record_metric(u32 id, u64 value);
IMPORT(proxy_set_shared_data)
u32 proxy_set_shared_data(const char* key, u32 key_size, const char* value, u32 value_size,
                          u32 cas);
IMPORT(proxy_get_shared_data)
u32 proxy_get_shared_data(const char* key, u32 key_size, char** value, u32* value_size, u32* cas);
IMPORT(proxy_set_tick_period_milliseconds) u32 proxy_set_tick_period_milliseconds(u32 period);
IMPORT(proxy_get_current_time_nanoseconds) u32 proxy_get_current_time_nanoseconds(u64* now);
IMPORT(proxy_register_shared_queue)
u32 proxy_register_shared_queue(const char* name, u32 size, u32* id);
IMPORT(proxy_enqueue_shared_queue)
u32 proxy_enqueue_shared_queue(u32 id, const char* value, u32 size);
IMPORT(proxy_dequeue_shared_queue) u32 proxy_dequeue_shared_queue(u32 id, char** value, u32* size);
IMPORT(proxy_call_foreign_function)
u32 proxy_call_foreign_function(const char* name, u32 size, const char* args, u32 args_size,
                                char** result, u32* result_size);
WASI(fd_write) u32 fd_write(u32 fd, const void* iovs, u32 count, u32* written);
WASI(clock_time_get) u32 clock_time_get(u32 clock, u64 precision, u64* now);
WASI(random_get) u32 random_get(void* buffer, u32 size);

/* A bump allocator: the tests run a handful of calls per instance, never near its end. */
static unsigned char heap[1 << 20];
static u32 heap_top;
EXPORT(proxy_on_memory_allocate) void* proxy_on_memory_allocate(u32 size) {
  u32 at = (heap_top + 7u) & ~7u;
  if (at + size > sizeof heap) return 0;
  heap_top = at + size;
  return heap + at;
}

static u32 len(const char* s) {
  u32 n = 0;
  while (s[n]) ++n;
  return n;
}
static int same(const char* a, u32 a_size, const char* b) {
  u32 n = len(b);
  if (a_size != n) return 0;
  for (u32 i = 0; i < n; ++i) {
    if (a[i] != b[i]) return 0;
  }
  return 1;
}
static void copy(char* to, const char* from, u32 n) {
  for (u32 i = 0; i < n; ++i) to[i] = from[i];
}
static void info(const char* message) {
  proxy_log(2, message, len(message));
}
/* A one-pair header map in the Proxy-Wasm serialisation. */
static u32 one_pair(char* out, const char* key, const char* value) {
  u32 k = len(key), v = len(value), at = 20;
  const u32 words[] = {1, k, v};
  copy(out, (const char*)words, 12);
  at = 12;
  copy(out + at, key, k);
  at += k;
  out[at++] = 0;
  copy(out + at, value, v);
  at += v;
  out[at++] = 0;
  return at;
}
