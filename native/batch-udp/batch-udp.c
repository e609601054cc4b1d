/*
 * Batched UDP for the DNS server (issue 17): recvmmsg(2) and sendmmsg(2) on a socket Node already
 * bound. Node's dgram layer costs one libuv callback, one Buffer and one JS call per packet in and
 * one uv_udp_send per packet out; here one epoll wake-up reads up to SLOTS datagrams into slots of
 * one ArrayBuffer, JS answers them all in one call, and one sendmmsg sends every reply.
 *
 * The socket stays Node's (bound, shared between cluster workers, closed by Node); this module polls
 * a dup(2) of its descriptor so libuv's own watcher on the original is never disturbed, and Node
 * just stops reading it (recvStop). Replies to asynchronous answers still go through Node's send.
 *
 * Shared memory layout (all owned by JS, passed in once):
 *   recv:  SLOTS * slotSize bytes, datagram i at i * slotSize
 *   send:  SLOTS * slotSize bytes, reply i at i * slotSize
 *   meta:  Int32Array of SLOTS * META_INTS: [len, port, family, v4 address, text length, reply
 *          length, reply source slot, unused] then the address text (INET6_ADDRSTRLEN) as bytes.
 * The JS callback gets the number of datagrams read and returns the number of replies it queued.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define META_INTS 24 /* 8 ints + 64 bytes of text */
#define META_TEXT 8  /* int index where the address text starts */
/* Reads per wake-up at most this many batches, so timers and TCP still get their turn. */
#define MAX_BATCHES 4

typedef struct {
  uv_poll_t poll;
  int fd;
  unsigned slots;
  size_t slot_size;
  unsigned char *recv;
  unsigned char *send;
  int32_t *meta;
  struct mmsghdr *rmsgs;
  struct mmsghdr *smsgs;
  struct iovec *riov;
  struct iovec *siov;
  struct sockaddr_storage *addrs;
  napi_env env;
  napi_ref callback;
  napi_ref self;
  napi_async_context async;
  double received, sent, send_errors, truncated;
  int closed;
} batch_t;

static napi_value throw_errno(napi_env env, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  napi_throw_error(env, "ERR_BATCH_UDP", msg);
  return NULL;
}

/* Sends the replies JS queued in this batch (one sendmmsg; partial sends are resumed; a reply
   the kernel refuses is counted and skipped, as a dropped datagram). */
static void flush(batch_t *b, unsigned count) {
  unsigned n = 0;
  for (unsigned i = 0; i < count; i++) {
    int32_t *m = b->meta + i * META_INTS;
    int32_t len = m[5];
    int32_t src = m[6];
    if (len <= 0 || (size_t)len > b->slot_size || src < 0 || (unsigned)src >= b->slots) continue;
    b->siov[n].iov_base = b->send + (size_t)i * b->slot_size;
    b->siov[n].iov_len = (size_t)len;
    struct msghdr *h = &b->smsgs[n].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_name = &b->addrs[src];
    h->msg_namelen = b->rmsgs[src].msg_hdr.msg_namelen;
    h->msg_iov = &b->siov[n];
    h->msg_iovlen = 1;
    n++;
  }
  unsigned done = 0;
  while (done < n) {
    int r = sendmmsg(b->fd, b->smsgs + done, n - done, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      b->send_errors += 1; /* EAGAIN (buffer full) or an ICMP error: drop this one, go on */
      done++;
      continue;
    }
    done += (unsigned)r;
    b->sent += r;
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  batch_t *b = (batch_t *)handle->data;
  if (status < 0 || b->closed || !(events & UV_READABLE)) return;
  napi_env env = b->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, self, argv[1], result;
  napi_get_reference_value(env, b->callback, &cb);
  napi_get_reference_value(env, b->self, &self);
  for (int batch = 0; batch < MAX_BATCHES && !b->closed; batch++) {
    for (unsigned i = 0; i < b->slots; i++) {
      struct msghdr *h = &b->rmsgs[i].msg_hdr;
      h->msg_name = &b->addrs[i];
      h->msg_namelen = sizeof(struct sockaddr_storage);
      h->msg_iov = &b->riov[i];
      h->msg_iovlen = 1;
      h->msg_control = NULL;
      h->msg_controllen = 0;
      h->msg_flags = 0;
    }
    int n = recvmmsg(b->fd, b->rmsgs, b->slots, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    b->received += n;
    for (int i = 0; i < n; i++) {
      int32_t *m = b->meta + i * META_INTS;
      char *text = (char *)(m + META_TEXT);
      m[0] = (b->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)b->rmsgs[i].msg_len;
      if (m[0] < 0) b->truncated += 1;
      m[5] = -1;
      m[6] = i;
      struct sockaddr_storage *a = &b->addrs[i];
      if (a->ss_family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)a;
        m[1] = ntohs(s->sin_port);
        m[2] = 4;
        m[3] = (int32_t)ntohl(s->sin_addr.s_addr);
        inet_ntop(AF_INET, &s->sin_addr, text, 64);
      } else if (a->ss_family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)a;
        m[1] = ntohs(s->sin6_port);
        m[2] = 6;
        m[3] = 0;
        inet_ntop(AF_INET6, &s->sin6_addr, text, 64);
      } else {
        m[0] = -1;
        m[1] = 0;
        m[2] = 0;
        text[0] = 0;
      }
      m[4] = (int32_t)strlen(text);
    }
    napi_create_uint32(env, (uint32_t)n, &argv[0]);
    result = NULL;
    /* make_callback: process.nextTick queue and promise jobs run after it, as after any libuv event. */
    napi_status st = napi_make_callback(env, b->async, self, cb, 1, argv, &result);
    if (st == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
      break;
    }
    uint32_t replies = 0;
    if (result != NULL && napi_get_value_uint32(env, result, &replies) == napi_ok && replies > 0) {
      flush(b, replies > (uint32_t)n ? (uint32_t)n : replies);
    }
    if ((unsigned)n < b->slots) break;
  }
  napi_close_handle_scope(env, scope);
}

static void free_batch(batch_t *b) {
  free(b->rmsgs);
  free(b->smsgs);
  free(b->riov);
  free(b->siov);
  free(b->addrs);
  free(b);
}

static void on_closed(uv_handle_t *h) { free_batch((batch_t *)h->data); }

static batch_t *unwrap(napi_env env, napi_value v) {
  batch_t *b = NULL;
  if (napi_get_value_external(env, v, (void **)&b) != napi_ok) {
    napi_throw_type_error(env, "ERR_BATCH_UDP", "not a batch handle");
    return NULL;
  }
  return b;
}

static int buffer_arg(napi_env env, napi_value v, void **data, size_t *len) {
  bool ab = false;
  napi_is_arraybuffer(env, v, &ab);
  if (ab) return napi_get_arraybuffer_info(env, v, data, len) == napi_ok;
  bool ta = false;
  napi_is_typedarray(env, v, &ta);
  if (!ta) return 0;
  napi_typedarray_type t;
  size_t n, off;
  napi_value arr;
  if (napi_get_typedarray_info(env, v, &t, &n, data, &arr, &off) != napi_ok) return 0;
  size_t width = t == napi_int32_array || t == napi_uint32_array ? 4 : 1;
  *len = n * width;
  return 1;
}

/* open(fd, slots, slotSize, recv, send, meta, self, callback) -> handle */
static napi_value open_batch(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) {
    napi_throw_type_error(env, "ERR_BATCH_UDP", "open(fd, slots, slotSize, recv, send, meta, self, callback)");
    return NULL;
  }
  int32_t fd, slots, slot_size;
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_int32(env, argv[1], &slots);
  napi_get_value_int32(env, argv[2], &slot_size);
  void *recv, *send, *meta;
  size_t recv_len, send_len, meta_len;
  if (fd < 0 || slots <= 0 || slot_size <= 0 || !buffer_arg(env, argv[3], &recv, &recv_len) ||
      !buffer_arg(env, argv[4], &send, &send_len) || !buffer_arg(env, argv[5], &meta, &meta_len) ||
      recv_len < (size_t)slots * slot_size || send_len < (size_t)slots * slot_size ||
      meta_len < (size_t)slots * META_INTS * 4) {
    napi_throw_range_error(env, "ERR_BATCH_UDP", "bad descriptor, slot count or buffer sizes");
    return NULL;
  }
  batch_t *b = calloc(1, sizeof *b);
  if (b == NULL) return throw_errno(env, "calloc");
  b->slots = (unsigned)slots;
  b->slot_size = (size_t)slot_size;
  b->recv = recv;
  b->send = send;
  b->meta = meta;
  b->rmsgs = calloc(slots, sizeof *b->rmsgs);
  b->smsgs = calloc(slots, sizeof *b->smsgs);
  b->riov = calloc(slots, sizeof *b->riov);
  b->siov = calloc(slots, sizeof *b->siov);
  b->addrs = calloc(slots, sizeof *b->addrs);
  if (!b->rmsgs || !b->smsgs || !b->riov || !b->siov || !b->addrs) {
    free_batch(b);
    return throw_errno(env, "calloc");
  }
  for (int i = 0; i < slots; i++) {
    b->riov[i].iov_base = b->recv + (size_t)i * b->slot_size;
    b->riov[i].iov_len = b->slot_size;
  }
  b->fd = dup(fd);
  if (b->fd < 0) {
    free_batch(b);
    return throw_errno(env, "dup");
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init(loop, &b->poll, b->fd) != 0) {
    close(b->fd);
    free_batch(b);
    napi_throw_error(env, "ERR_BATCH_UDP", "uv_poll_init failed");
    return NULL;
  }
  b->poll.data = b;
  b->env = env;
  napi_create_reference(env, argv[7], 1, &b->callback);
  napi_create_reference(env, argv[6], 1, &b->self);
  napi_value name;
  napi_create_string_utf8(env, "sovereign:udp-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &b->async);
  uv_poll_start(&b->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, b, NULL, NULL, &handle);
  return handle;
}

/* close(handle): stops polling, closes the duplicate descriptor (Node closes its own). */
static napi_value close_batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  batch_t *b = argc == 1 ? unwrap(env, argv[0]) : NULL;
  if (b == NULL || b->closed) return NULL;
  b->closed = 1;
  uv_poll_stop(&b->poll);
  napi_delete_reference(env, b->callback);
  napi_delete_reference(env, b->self);
  napi_async_destroy(env, b->async);
  close(b->fd);
  uv_close((uv_handle_t *)&b->poll, on_closed);
  return NULL;
}

/* stats(handle) -> [received, sent, sendErrors, truncated] */
static napi_value stats_batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  batch_t *b = argc == 1 ? unwrap(env, argv[0]) : NULL;
  if (b == NULL) return NULL;
  napi_value arr, v;
  napi_create_array_with_length(env, 4, &arr);
  double vals[4] = {b->received, b->sent, b->send_errors, b->truncated};
  for (uint32_t i = 0; i < 4; i++) {
    napi_create_double(env, vals[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, open_batch, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_batch, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats_batch, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  napi_value v;
  napi_create_uint32(env, META_INTS, &v);
  napi_set_named_property(env, exports, "META_INTS", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
