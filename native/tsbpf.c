// The only non-TypeScript code in tsbpf: raw system calls for N-API.
// Every call returns its result, or -errno on failure; policy lives in TypeScript.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "tsbpf native: " #call " failed");       \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value num(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static napi_value result(napi_env env, long r) { return num(env, r < 0 ? -errno : r); }

static int64_t arg_i64(napi_env env, napi_value v) {
  int64_t out = 0;
  napi_get_value_int64(env, v, &out);
  return out;
}

// Data pointer and length of a Buffer, TypedArray, DataView or ArrayBuffer.
static int view_data(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  napi_is_typedarray(env, v, &is);
  if (is) {
    napi_typedarray_type t;
    size_t n, off;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &t, &n, data, &ab, &off) != napi_ok) return -1;
    size_t el = 1;
    switch (t) {
      case napi_int16_array: case napi_uint16_array: el = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
      default: el = 1;
    }
    *len = n * el;
    return 0;
  }
  napi_is_dataview(env, v, &is);
  if (is) {
    napi_value ab;
    size_t off;
    return napi_get_dataview_info(env, v, len, data, &ab, &off) == napi_ok ? 0 : -1;
  }
  napi_is_arraybuffer(env, v, &is);
  if (is) return napi_get_arraybuffer_info(env, v, data, len) == napi_ok ? 0 : -1;
  return -1;
}

static napi_value get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < want) {
    napi_throw_type_error(env, NULL, "tsbpf native: too few arguments");
    return NULL;
  }
  return argv[0];
}

// bpf(cmd, attr): attr is the union bpf_attr as bytes.
static napi_value js_bpf(napi_env env, napi_callback_info info) {
  napi_value a[2];
  if (!get_args(env, info, 2, a)) return NULL;
  void *attr;
  size_t len;
  if (view_data(env, a[1], &attr, &len)) { napi_throw_type_error(env, NULL, "bpf: attr must be a buffer"); return NULL; }
  return result(env, syscall(__NR_bpf, (int)arg_i64(env, a[0]), attr, (unsigned)len));
}

// perf_event_open(attr, pid, cpu, group_fd, flags)
static napi_value js_perf_event_open(napi_env env, napi_callback_info info) {
  napi_value a[5];
  if (!get_args(env, info, 5, a)) return NULL;
  void *attr;
  size_t len;
  if (view_data(env, a[0], &attr, &len)) { napi_throw_type_error(env, NULL, "perf_event_open: attr must be a buffer"); return NULL; }
  return result(env, syscall(__NR_perf_event_open, attr, (pid_t)arg_i64(env, a[1]), (int)arg_i64(env, a[2]),
                             (int)arg_i64(env, a[3]), (unsigned long)arg_i64(env, a[4])));
}

// ioctl(fd, request, arg): arg is an integer or a buffer passed by address.
static napi_value js_ioctl(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (!get_args(env, info, 3, a)) return NULL;
  void *p;
  size_t len;
  unsigned long arg = view_data(env, a[2], &p, &len) == 0 ? (unsigned long)p : (unsigned long)arg_i64(env, a[2]);
  return result(env, ioctl((int)arg_i64(env, a[0]), (unsigned long)arg_i64(env, a[1]), arg));
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (!get_args(env, info, 1, a)) return NULL;
  return result(env, close((int)arg_i64(env, a[0])));
}

// address(view): the address of a buffer's bytes, for pointers inside bpf_attr.
static napi_value js_address(napi_env env, napi_callback_info info) {
  napi_value a[1], out;
  if (!get_args(env, info, 1, a)) return NULL;
  void *p;
  size_t len;
  if (view_data(env, a[0], &p, &len)) { napi_throw_type_error(env, NULL, "address: not a buffer"); return NULL; }
  CHECK(napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)p, &out));
  return out;
}

// mmap(fd, length, prot, flags, offset) -> ArrayBuffer over the mapping, or -errno.
static napi_value js_mmap(napi_env env, napi_callback_info info) {
  napi_value a[5], out;
  if (!get_args(env, info, 5, a)) return NULL;
  size_t length = (size_t)arg_i64(env, a[1]);
  void *p = mmap(NULL, length, (int)arg_i64(env, a[2]), (int)arg_i64(env, a[3]), (int)arg_i64(env, a[0]),
                 (off_t)arg_i64(env, a[4]));
  if (p == MAP_FAILED) return num(env, -errno);
  if (napi_create_external_arraybuffer(env, p, length, NULL, NULL, &out) != napi_ok) {
    munmap(p, length);
    napi_throw_error(env, NULL, "mmap: external ArrayBuffer not allowed");
    return NULL;
  }
  return out;
}

// munmap(arrayBuffer): unmaps and detaches, so later reads fail instead of faulting.
static napi_value js_munmap(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (!get_args(env, info, 1, a)) return NULL;
  void *p;
  size_t len;
  CHECK(napi_get_arraybuffer_info(env, a[0], &p, &len));
  if (p == NULL) return num(env, 0);
  long r = munmap(p, len);
  napi_detach_arraybuffer(env, a[0]);
  return result(env, r);
}

static napi_value js_epoll_create(napi_env env, napi_callback_info info) {
  return result(env, epoll_create1(EPOLL_CLOEXEC));
}

// epollCtl(epfd, op, fd, events, data)
static napi_value js_epoll_ctl(napi_env env, napi_callback_info info) {
  napi_value a[5];
  if (!get_args(env, info, 5, a)) return NULL;
  struct epoll_event ev = {.events = (uint32_t)arg_i64(env, a[3]), .data.u64 = (uint64_t)arg_i64(env, a[4])};
  return result(env, epoll_ctl((int)arg_i64(env, a[0]), (int)arg_i64(env, a[1]), (int)arg_i64(env, a[2]), &ev));
}

// epollWait(epfd, out Uint32Array of 2*max: events,data pairs, timeoutMs) -> count
static napi_value js_epoll_wait(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (!get_args(env, info, 3, a)) return NULL;
  void *p;
  size_t len;
  if (view_data(env, a[1], &p, &len)) { napi_throw_type_error(env, NULL, "epollWait: out must be a buffer"); return NULL; }
  int max = (int)(len / 8);
  if (max > 64) max = 64;
  struct epoll_event evs[64];
  int n = epoll_wait((int)arg_i64(env, a[0]), evs, max, (int)arg_i64(env, a[2]));
  if (n < 0) return num(env, -errno);
  uint32_t *o = p;
  for (int i = 0; i < n; i++) {
    o[2 * i] = evs[i].events;
    o[2 * i + 1] = (uint32_t)evs[i].data.u64;
  }
  return num(env, n);
}

// watch(fd, callback): calls callback() on the event loop whenever fd is readable.
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
} watch_t;

static void on_readable(uv_poll_t *h, int status, int events) {
  watch_t *w = h->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, ret, resource;
  napi_callback_scope cscope;
  napi_create_object(env, &resource);
  napi_open_callback_scope(env, resource, w->ctx, &cscope);
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &recv);
  if (napi_call_function(env, recv, cb, 0, NULL, &ret) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_callback_scope(env, cscope);
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t *h) { free(h->data); }

static void watch_finalize(napi_env env, void *data, void *hint) { (void)data; }

static napi_value js_watch(napi_env env, napi_callback_info info) {
  napi_value a[2], out, name, resource;
  if (!get_args(env, info, 2, a)) return NULL;
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watch_t *w = calloc(1, sizeof *w);
  w->env = env;
  w->poll.data = w;
  if (uv_poll_init(loop, &w->poll, (int)arg_i64(env, a[0])) != 0) {
    free(w);
    return num(env, -EINVAL);
  }
  napi_create_reference(env, a[1], 1, &w->cb);
  napi_create_string_utf8(env, "tsbpf.watch", NAPI_AUTO_LENGTH, &name);
  napi_create_object(env, &resource);
  napi_async_init(env, resource, name, &w->ctx);
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  CHECK(napi_create_external(env, w, watch_finalize, NULL, &out));
  return out;
}

static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (!get_args(env, info, 1, a)) return NULL;
  watch_t *w;
  CHECK(napi_get_value_external(env, a[0], (void **)&w));
  if (!w || !w->cb) return num(env, 0);
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->cb);
  napi_async_destroy(env, w->ctx);
  w->cb = NULL;
  uv_close((uv_handle_t *)&w->poll, on_closed);
  return num(env, 0);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"bpf", 0, js_bpf, 0, 0, 0, napi_enumerable, 0},
      {"perfEventOpen", 0, js_perf_event_open, 0, 0, 0, napi_enumerable, 0},
      {"ioctl", 0, js_ioctl, 0, 0, 0, napi_enumerable, 0},
      {"close", 0, js_close, 0, 0, 0, napi_enumerable, 0},
      {"address", 0, js_address, 0, 0, 0, napi_enumerable, 0},
      {"mmap", 0, js_mmap, 0, 0, 0, napi_enumerable, 0},
      {"munmap", 0, js_munmap, 0, 0, 0, napi_enumerable, 0},
      {"epollCreate", 0, js_epoll_create, 0, 0, 0, napi_enumerable, 0},
      {"epollCtl", 0, js_epoll_ctl, 0, 0, 0, napi_enumerable, 0},
      {"epollWait", 0, js_epoll_wait, 0, 0, 0, napi_enumerable, 0},
      {"watch", 0, js_watch, 0, 0, 0, napi_enumerable, 0},
      {"unwatch", 0, js_unwatch, 0, 0, 0, napi_enumerable, 0},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
