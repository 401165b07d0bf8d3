/*
 * openloop.c — open-loop (fixed arrival rate) HTTP/1.1 load generator that
 * measures latency from each request's INTENDED send time, so a stalled
 * server cannot hide its own stalls (no coordinated omission), in the spirit
 * of wrk2, which Debian does not package.
 *
 * Model: request i is due at t0 + i/RATE (or Poisson arrivals with the same
 * mean). When it is due it goes out on any idle keep-alive connection from a
 * pool of --connections pre-opened connections; if none is idle it waits in a
 * FIFO and its latency keeps growing from the intended time. Latency =
 * response fully received - intended send time. Requests due during the first
 * --warmup seconds are sent but not recorded.
 *
 * Single thread, epoll, timerfd (ns-resolution schedule). At a few thousand
 * req/s it uses a few % of one core; it reports its own scheduling lag so a
 * saturated generator is visible rather than silent.
 *
 * Build:  gcc -O2 -Wall -Wextra -o openloop openloop.c -lm
 * (`make load-test` builds it and runs it through bench/loadgen/load_test.sh; the same tool
 * as shared/bench/openloop.c, which bench/tail/tail.sh uses.)
 *
 * Usage:  openloop --url http://127.0.0.1:PORT/path --rate R --duration S
 *                  [--warmup S(2)] [--connections C(128)] [--timeout-ms T(10000)]
 *                  [--arrival const|poisson] [--seed N] [--label L]
 *                  [--latencies FILE]   (one latency in us per line, measured requests)
 *
 * Output: one line of key=value pairs on stdout (times in ms):
 *   label rate duration intended ok non2xx errors timeouts achieved_rps
 *   p50 p90 p99 p999 max mean max_send_lag max_queue conns reconnects
 * Exit status: 0 if it ran (even with errors, which are counted), 2 on usage
 * errors, 1 if it could not connect at all.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { C_CLOSED, C_CONNECTING, C_IDLE, C_BUSY };
enum { P_HDR, P_BODY_CL, P_BODY_CHUNK_SIZE, P_BODY_CHUNK_DATA, P_BODY_CHUNK_CRLF, P_TRAILER, P_BODY_EOF };

typedef struct {
    int fd, state, idx;
    uint64_t sent_ns, retry_at_ns;
    char *buf;
    size_t len, cap;
    int pstate, status, close_after;
    uint64_t remaining;
    const char *out;
    size_t out_len, out_off;
} conn_t;

static struct sockaddr_in g_addr;
static char g_req[1024];
static size_t g_req_len;
static double o_rate = 0, o_duration = 0, o_warmup = 2;
static int o_conns = 128, o_poisson = 0;
static double o_timeout_ms = 10000;
static uint64_t o_seed = 1;
static const char *o_label = "-", *o_latfile = NULL;

static int ep;
static conn_t *conns;
static int *idle_stack, idle_n;
static uint64_t *offs;            /* intended offsets from t0, ns */
static uint32_t *lat_us;          /* per measured request */
static uint8_t *done;             /* per request: 0 pending, 1 ok, 2 non2xx, 3 error, 4 timeout */
static size_t total, warm_n, next_i;
static int *fifo; static size_t fifo_head, fifo_tail;  /* pending request indices */
static uint64_t t0;
static uint64_t max_send_lag_ns;
static size_t max_queue;
static unsigned long long reconnects, connect_errors;
static int inflight;
static volatile sig_atomic_t g_stop;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static uint64_t rng_state;
static double rnd01(void) {
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: openloop --url http://127.0.0.1:PORT/path --rate R --duration S [--warmup S]\n"
            "                [--connections C] [--timeout-ms T] [--arrival const|poisson] [--seed N]\n"
            "                [--label L] [--latencies FILE]\n");
    exit(2);
}

static void ep_set(conn_t *c, uint32_t ev, int op) {
    struct epoll_event e = {.events = ev, .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(ep, op, c->fd, &e) < 0 && op != EPOLL_CTL_DEL) perror("epoll_ctl");
}

static void conn_open(conn_t *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { perror("socket"); exit(1); }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->len = 0; c->pstate = P_HDR; c->idx = -1; c->out = NULL;
    int r = connect(c->fd, (struct sockaddr *)&g_addr, sizeof g_addr);
    if (r == 0) {
        c->state = C_IDLE;
        ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
        idle_stack[idle_n++] = (int)(c - conns);
    } else if (errno == EINPROGRESS) {
        c->state = C_CONNECTING;
        ep_set(c, EPOLLOUT, EPOLL_CTL_ADD);
    } else {
        connect_errors++;
        close(c->fd); c->fd = -1; c->state = C_CLOSED;
        c->retry_at_ns = now_ns() + 10000000ull;
    }
}

static void idle_remove(int ci) {
    for (int k = 0; k < idle_n; k++)
        if (idle_stack[k] == ci) { idle_stack[k] = idle_stack[--idle_n]; return; }
}

/* close; the in-flight request (if any) gets `outcome`; reopen later */
static void conn_fail(conn_t *c, int outcome) {
    if (c->state == C_BUSY && c->idx >= 0) {
        done[c->idx] = (uint8_t)outcome;
        inflight--;
    }
    if (c->state == C_IDLE) idle_remove((int)(c - conns));
    if (c->fd >= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); }
    c->fd = -1; c->state = C_CLOSED; c->idx = -1;
    c->retry_at_ns = now_ns(); /* reconnect on next scan */
    reconnects++;
}

static void flush_req(conn_t *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) { c->out_off += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) { ep_set(c, EPOLLIN | EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_MOD); return; }
        conn_fail(c, 3);
        return;
    }
}

static void send_on(conn_t *c, int idx, uint64_t now) {
    c->state = C_BUSY; c->idx = idx; c->sent_ns = now;
    c->len = 0; c->pstate = P_HDR; c->status = 0; c->close_after = 0;
    c->out = g_req; c->out_len = g_req_len; c->out_off = 0;
    inflight++;
    flush_req(c);
}

static void dispatch(int idx, uint64_t now) {
    if (idle_n > 0) {
        uint64_t intended = t0 + offs[idx];
        if (now > intended && now - intended > max_send_lag_ns) max_send_lag_ns = now - intended;
        send_on(&conns[idle_stack[--idle_n]], idx, now);
    } else {
        fifo[fifo_tail++] = idx;
        size_t q = fifo_tail - fifo_head;
        if (q > max_queue) max_queue = q;
    }
}

static void conn_ready(conn_t *c, uint64_t now) {
    c->state = C_IDLE; c->idx = -1;
    if (fifo_head < fifo_tail) send_on(c, fifo[fifo_head++], now);
    else idle_stack[idle_n++] = (int)(c - conns);
}

static void complete(conn_t *c, uint64_t now) {
    int idx = c->idx;
    uint64_t lat = now - (t0 + offs[idx]);
    done[idx] = (c->status >= 200 && c->status < 300) ? 1 : 2;
    lat_us[idx] = lat / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(lat / 1000);
    inflight--;
    if (c->close_after) { /* server asked to close: reopen on the next scan */
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd);
        c->fd = -1; c->state = C_CLOSED; c->idx = -1; c->retry_at_ns = now; reconnects++;
        return;
    }
    conn_ready(c, now);
}

static const char *hdr_val(const char *h, size_t hl, const char *name, size_t *vl) {
    size_t nl = strlen(name);
    const char *p = memmem(h, hl, "\r\n", 2), *end = h + hl;
    if (!p) return NULL;
    p += 2;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol || eol == p) break;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            *vl = (size_t)(eol - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}
static int has_tok(const char *v, size_t vl, const char *t) {
    size_t tl = strlen(t);
    for (size_t i = 0; i + tl <= vl; i++) if (!strncasecmp(v + i, t, tl)) return 1;
    return 0;
}

/* consume buffered bytes; returns 1 when the response is complete */
static int parse(conn_t *c) {
    size_t pos = 0;
    int fin = 0;
    while (!fin) {
        char *b = c->buf + pos;
        size_t avail = c->len - pos;
        if (c->pstate == P_HDR) {
            char *e = memmem(b, avail, "\r\n\r\n", 4);
            if (!e) break;
            size_t hl = (size_t)(e - b) + 4;
            if (avail < 12 || memcmp(b, "HTTP/1.", 7)) { c->status = 0; c->close_after = 1; fin = -1; break; }
            c->status = atoi(b + 9);
            size_t vl; const char *v;
            int http10 = b[7] == '0';
            v = hdr_val(b, hl, "connection", &vl);
            c->close_after = (v && has_tok(v, vl, "close")) || (http10 && !(v && has_tok(v, vl, "keep-alive")));
            pos += hl;
            if (c->status / 100 == 1) continue; /* 100-continue etc: read next head */
            v = hdr_val(b, hl, "transfer-encoding", &vl);
            if (v && has_tok(v, vl, "chunked")) { c->pstate = P_BODY_CHUNK_SIZE; continue; }
            v = hdr_val(b, hl, "content-length", &vl);
            if (c->status == 204 || c->status == 304) { fin = 1; break; }
            if (v) { c->remaining = strtoull(v, NULL, 10); c->pstate = P_BODY_CL; continue; }
            c->pstate = P_BODY_EOF; c->close_after = 1; /* body runs to EOF */
            pos = c->len; break;
        } else if (c->pstate == P_BODY_CL) {
            size_t take = avail < c->remaining ? avail : (size_t)c->remaining;
            pos += take; c->remaining -= take;
            if (c->remaining == 0) fin = 1;
            else break;
        } else if (c->pstate == P_BODY_CHUNK_SIZE) {
            char *e = memmem(b, avail, "\r\n", 2);
            if (!e) break;
            c->remaining = strtoull(b, NULL, 16);
            pos += (size_t)(e - b) + 2;
            c->pstate = c->remaining ? P_BODY_CHUNK_DATA : P_TRAILER;
        } else if (c->pstate == P_BODY_CHUNK_DATA) {
            size_t take = avail < c->remaining ? avail : (size_t)c->remaining;
            pos += take; c->remaining -= take;
            if (c->remaining) break;
            c->pstate = P_BODY_CHUNK_CRLF;
        } else if (c->pstate == P_BODY_CHUNK_CRLF) {
            if (avail < 2) break;
            pos += 2; c->pstate = P_BODY_CHUNK_SIZE;
        } else if (c->pstate == P_TRAILER) {
            char *e = memmem(b, avail, "\r\n", 2);
            if (!e) break;
            pos += (size_t)(e - b) + 2;
            if (e == b) fin = 1;  /* empty line ends trailers */
        } else { /* P_BODY_EOF */
            pos = c->len; break;
        }
    }
    memmove(c->buf, c->buf + pos, c->len - pos);
    c->len -= pos;
    return fin;
}

static void on_event(conn_t *c, uint32_t ev, uint64_t now) {
    if (c->state == C_CONNECTING) {
        int err = 0; socklen_t sl = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
        if (err || (ev & (EPOLLERR | EPOLLHUP))) {
            connect_errors++;
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd);
            c->fd = -1; c->state = C_CLOSED; c->retry_at_ns = now + 10000000ull;
            return;
        }
        ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
        conn_ready(c, now);
        return;
    }
    if ((ev & EPOLLOUT) && c->state == C_BUSY && c->out_off < c->out_len) {
        flush_req(c);
        if (c->state != C_BUSY) return;
        if (c->out_off == c->out_len) ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        for (;;) {
            if (c->cap - c->len < 16384) {
                c->cap = c->cap ? c->cap * 2 : 65536;
                c->buf = realloc(c->buf, c->cap);
                if (!c->buf) { perror("realloc"); exit(1); }
            }
            ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
            if (n > 0) {
                c->len += (size_t)n;
                if (c->state != C_BUSY) { conn_fail(c, 3); return; } /* unsolicited bytes */
                int r = parse(c);
                if (r < 0) { conn_fail(c, 3); return; }
                if (r == 1) {
                    uint64_t t = now_ns();
                    complete(c, t);
                    if (c->state != C_BUSY) return; /* idle or closed: stop reading */
                }
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return;
            /* EOF or error */
            if (c->state == C_BUSY && c->pstate == P_BODY_EOF) { complete(c, now_ns()); return; }
            conn_fail(c, 3);
            return;
        }
    }
}

static void scan(uint64_t now) {
    uint64_t to = (uint64_t)(o_timeout_ms * 1e6);
    for (int i = 0; i < o_conns; i++) {
        conn_t *c = &conns[i];
        if (c->state == C_BUSY && now - c->sent_ns > to) conn_fail(c, 4);
        if (c->state == C_CLOSED && now >= c->retry_at_ns && !g_stop) conn_open(c);
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void on_sig(int s) { (void)s; g_stop = 1; }

int main(int argc, char **argv) {
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--url")) url = NEXT();
        else if (!strcmp(a, "--rate")) o_rate = atof(NEXT());
        else if (!strcmp(a, "--duration")) o_duration = atof(NEXT());
        else if (!strcmp(a, "--warmup")) o_warmup = atof(NEXT());
        else if (!strcmp(a, "--connections")) o_conns = atoi(NEXT());
        else if (!strcmp(a, "--timeout-ms")) o_timeout_ms = atof(NEXT());
        else if (!strcmp(a, "--arrival")) o_poisson = !strcmp(NEXT(), "poisson");
        else if (!strcmp(a, "--seed")) o_seed = strtoull(NEXT(), NULL, 10);
        else if (!strcmp(a, "--label")) o_label = NEXT();
        else if (!strcmp(a, "--latencies")) o_latfile = NEXT();
        else usage();
#undef NEXT
    }
    if (!url || o_rate <= 0 || o_duration <= 0 || o_conns <= 0 || o_warmup < 0) usage();

    /* only http://IPv4:port/path — this tool is for loopback benchmarks */
    char host[256] = {0}, path[512] = "/";
    int port = 80;
    if (strncmp(url, "http://", 7)) { fprintf(stderr, "openloop: only http:// URLs\n"); return 2; }
    const char *h = url + 7, *sl = strchr(h, '/');
    size_t hl = sl ? (size_t)(sl - h) : strlen(h);
    if (hl >= sizeof host) usage();
    memcpy(host, h, hl);
    if (sl) snprintf(path, sizeof path, "%s", sl);
    char *colon = strchr(host, ':');
    char hostonly[256];
    snprintf(hostonly, sizeof hostonly, "%s", host);
    if (colon) { port = atoi(colon + 1); hostonly[colon - host] = 0; }
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, hostonly, &g_addr.sin_addr) != 1) { fprintf(stderr, "openloop: host must be an IPv4 literal\n"); return 2; }
    g_req_len = (size_t)snprintf(g_req, sizeof g_req,
                                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: openloop\r\nAccept: */*\r\n\r\n", path, host);

    /* schedule */
    rng_state = o_seed * 0x9E3779B97F4A7C15ull + 1;
    double span = o_warmup + o_duration;
    size_t cap = (size_t)(o_rate * span * (o_poisson ? 1.5 : 1.0)) + 16;
    offs = malloc(cap * sizeof *offs);
    double t = 0;
    for (total = 0; total < cap; total++) {
        if (o_poisson) { if (total) t += -log(rnd01()) / o_rate; }
        else t = (double)total / o_rate;
        if (t >= span) break;
        offs[total] = (uint64_t)(t * 1e9);
        if (t < o_warmup) warm_n = total + 1;
    }
    lat_us = calloc(total, sizeof *lat_us);
    done = calloc(total, 1);
    fifo = malloc(total * sizeof *fifo);
    conns = calloc((size_t)o_conns, sizeof *conns);
    idle_stack = malloc((size_t)o_conns * sizeof *idle_stack);
    if (!lat_us || !done || !fifo || !conns || !idle_stack) { perror("alloc"); return 1; }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_sig;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event te = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &te);

    /* pre-open the pool (up to 3 s) so connection setup is not in the measurement */
    for (int i = 0; i < o_conns; i++) { conns[i].fd = -1; conn_open(&conns[i]); }
    struct epoll_event evs[1024];
    uint64_t deadline = now_ns() + 3000000000ull;
    t0 = 0;
    while (idle_n < o_conns && now_ns() < deadline && !g_stop) {
        int n = epoll_wait(ep, evs, 1024, 10);
        uint64_t now = now_ns();
        for (int i = 0; i < n; i++)
            if (evs[i].data.u32 != UINT32_MAX) on_event(&conns[evs[i].data.u32], evs[i].events, now);
        scan(now);
    }
    if (idle_n == 0) { fprintf(stderr, "openloop: could not connect to %s\n", url); return 1; }
    int pool = idle_n;

    t0 = now_ns() + 5000000ull;
    uint64_t last_intended = t0 + offs[total - 1];
    uint64_t drain_deadline = last_intended + (uint64_t)(o_timeout_ms * 1e6) + 1000000000ull;
    uint64_t armed = 0, last_scan = 0;
    for (;;) {
        uint64_t now = now_ns();
        while (next_i < total && t0 + offs[next_i] <= now && !g_stop) { dispatch((int)next_i, now); next_i++; }
        if ((next_i == total || g_stop) && inflight == 0 && fifo_head == fifo_tail) break;
        if (g_stop && drain_deadline > now + 1000000000ull) drain_deadline = now + 1000000000ull;
        if (now > drain_deadline) break;
        if (next_i < total && armed != t0 + offs[next_i]) {
            armed = t0 + offs[next_i];
            struct itimerspec its = {{0, 0}, {(time_t)(armed / 1000000000ull), (long)(armed % 1000000000ull)}};
            timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
        }
        int n = epoll_wait(ep, evs, 1024, 10);
        now = now_ns();
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 == UINT32_MAX) { uint64_t x; if (read(tfd, &x, sizeof x) < 0) {} armed = 0; continue; }
            on_event(&conns[evs[i].data.u32], evs[i].events, now);
        }
        if (now - last_scan > 10000000ull) { scan(now); last_scan = now; }
    }

    /* tally measured requests (those due after warm-up) */
    size_t ok = 0, non2xx = 0, errs = 0, tos = 0, m = 0;
    uint32_t *v = malloc((total + 1) * sizeof *v);
    double sum = 0;
    for (size_t i = warm_n; i < next_i; i++) {
        switch (done[i]) {
        case 1: ok++; v[m++] = lat_us[i]; sum += lat_us[i]; break;
        case 2: non2xx++; v[m++] = lat_us[i]; sum += lat_us[i]; break;
        case 3: errs++; break;
        default: tos++; break; /* 4 = timed out, 0 = never finished */
        }
    }
    qsort(v, m, sizeof *v, cmp_u32);
#define PCT(p) (m ? v[(size_t)fmin((double)m - 1, ceil((p) / 100.0 * (double)m) - 1)] / 1000.0 : -1.0)
    double measured_span = o_duration;
    printf("label=%s rate=%.0f duration=%.1f intended=%zu ok=%zu non2xx=%zu errors=%zu timeouts=%zu "
           "achieved_rps=%.1f p50=%.3f p90=%.3f p99=%.3f p999=%.3f max=%.3f mean=%.3f "
           "max_send_lag=%.3f max_queue=%zu conns=%d reconnects=%llu connect_errors=%llu\n",
           o_label, o_rate, o_duration, next_i - warm_n, ok, non2xx, errs, tos,
           (double)(ok + non2xx) / measured_span, PCT(50), PCT(90), PCT(99), PCT(99.9),
           m ? v[m - 1] / 1000.0 : -1.0, m ? sum / (double)m / 1000.0 : -1.0,
           max_send_lag_ns / 1e6, max_queue, pool, reconnects, connect_errors);
    if (o_latfile) {
        FILE *f = fopen(o_latfile, "w");
        if (!f) { perror(o_latfile); return 1; }
        for (size_t i = warm_n; i < next_i; i++)
            if (done[i] == 1 || done[i] == 2) fprintf(f, "%u\n", lat_us[i]);
        fclose(f);
    }
    return 0;
}
