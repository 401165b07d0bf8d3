// The load of the XDP ban benchmark (bench/macro/xdp.sh, docs/BENCHMARKS.md §8). Three modes:
//   syn IFACE SRC_IP DST_IP DST_MAC PORT SECONDS
//       TCP SYNs from SRC_IP written straight onto IFACE (AF_PACKET, batches of sendmmsg), each
//       from another source port: a fresh connection attempt per packet, as fast as one core
//       makes them. Prints "sent N".
//   connect SRC_IP DST_IP PORT SECONDS
//       Real connections from SRC_IP, one at a time: connect, wait for the server's close,
//       close with RST (no TIME_WAIT piles up on either side). Prints "attempts N dropped M"
//       (M: connects with no SYN-ACK in 100 ms).
//   probe SRC_IP DST_IP PORT SECONDS
//       A legitimate client: one GET per new connection, back to back. Prints the count and
//       the p50/p99/max latency in microseconds.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t checksum(const void* data, size_t len, uint32_t sum) {
  const uint8_t* p = data;
  for (; len > 1; p += 2, len -= 2) sum += (uint32_t)(p[0] << 8 | p[1]);
  if (len) sum += (uint32_t)(p[0] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t)~sum);
}

enum { kFrame = 14 + 20 + 20, kBatch = 64 };

static void build_syn(uint8_t* frame, const uint8_t* dst_mac, const uint8_t* src_mac, uint32_t src,
                      uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq) {
  memcpy(frame, dst_mac, 6);
  memcpy(frame + 6, src_mac, 6);
  frame[12] = 0x08;
  frame[13] = 0x00;
  struct iphdr* ip = (struct iphdr*)(frame + 14);
  memset(ip, 0, sizeof(*ip));
  ip->version = 4;
  ip->ihl = 5;
  ip->tot_len = htons(40);
  ip->ttl = 64;
  ip->protocol = IPPROTO_TCP;
  ip->saddr = src;
  ip->daddr = dst;
  ip->check = checksum(ip, 20, 0);
  struct tcphdr* tcp = (struct tcphdr*)(frame + 34);
  memset(tcp, 0, sizeof(*tcp));
  tcp->source = htons(sport);
  tcp->dest = htons(dport);
  tcp->seq = htonl(seq);
  tcp->doff = 5;
  tcp->syn = 1;
  tcp->window = htons(64240);
  // Pseudo-header sum, so a SYN that gets past XDP is one the stack accepts.
  uint32_t sum = 0;
  sum += ntohs((uint16_t)(src >> 16)) + ntohs((uint16_t)src);
  sum += ntohs((uint16_t)(dst >> 16)) + ntohs((uint16_t)dst);
  sum += IPPROTO_TCP + 20;
  tcp->check = checksum(tcp, 20, sum);
}

static int parse_mac(const char* text, uint8_t* mac) {
  return sscanf(text, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                &mac[5]) == 6;
}

static int syn_flood(char** argv) {
  const char* iface = argv[0];
  uint32_t src, dst;
  uint8_t dst_mac[6], src_mac[6] = {0x02, 0, 0, 0, 0, 1};
  if (inet_pton(AF_INET, argv[1], &src) != 1 || inet_pton(AF_INET, argv[2], &dst) != 1 ||
      !parse_mac(argv[3], dst_mac)) {
    fprintf(stderr, "flood syn: bad address\n");
    return 2;
  }
  const uint16_t port = (uint16_t)atoi(argv[4]);
  const double seconds = atof(argv[5]);
  int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: send only, nothing queued to read
  if (fd < 0) {
    perror("flood syn: socket(AF_PACKET)");
    return 1;
  }
  struct sockaddr_ll where = {0};
  where.sll_family = AF_PACKET;
  where.sll_ifindex = (int)if_nametoindex(iface);
  where.sll_halen = 6;
  memcpy(where.sll_addr, dst_mac, 6);
  if (where.sll_ifindex == 0) {
    fprintf(stderr, "flood syn: no interface %s\n", iface);
    return 1;
  }
  // The queue discipline only adds a lock per packet here; bypass it as pktgen would.
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
  static uint8_t frames[kBatch][kFrame];
  struct iovec iov[kBatch];
  struct mmsghdr msgs[kBatch];
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < kBatch; i++) {
    iov[i].iov_base = frames[i];
    iov[i].iov_len = kFrame;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &where;
    msgs[i].msg_hdr.msg_namelen = sizeof(where);
  }
  uint64_t sent = 0;
  uint16_t sport = 1024;
  const double end = now_s() + seconds;
  while (now_s() < end) {
    for (int i = 0; i < kBatch; i++) {
      build_syn(frames[i], dst_mac, src_mac, src, dst, sport, port, (uint32_t)sent + i);
      sport = (uint16_t)(sport == 65535 ? 1024 : sport + 1);
    }
    int n = sendmmsg(fd, msgs, kBatch, 0);
    if (n < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) continue;
      perror("flood syn: sendmmsg");
      return 1;
    }
    sent += (uint64_t)n;
  }
  printf("sent %llu\n", (unsigned long long)sent);
  return 0;
}

static int open_from(const char* src_text, const char* dst_text, int port,
                     struct sockaddr_in* dst) {
  struct sockaddr_in src = {0};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, src_text, &src.sin_addr);
  memset(dst, 0, sizeof(*dst));
  dst->sin_family = AF_INET;
  dst->sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, dst_text, &dst->sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  if (bind(fd, (struct sockaddr*)&src, sizeof(src)) != 0) {
    perror("bind");
    exit(1);
  }
  return fd;
}

static void close_rst(int fd) {
  struct linger l = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

// connect with a deadline; 1 connected, 0 no answer, -1 refused
static int connect_within(int fd, const struct sockaddr_in* dst, int ms) {
  if (connect(fd, (const struct sockaddr*)dst, sizeof(*dst)) == 0) return 1;
  if (errno != EINPROGRESS) return -1;
  struct pollfd p = {fd, POLLOUT, 0};
  if (poll(&p, 1, ms) <= 0) return 0;
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0 ? 1 : -1;
}

static int connect_flood(char** argv) {
  const int port = atoi(argv[2]);
  const double end = now_s() + atof(argv[3]);
  uint64_t attempts = 0, dropped = 0;
  char buf[256];
  while (now_s() < end) {
    struct sockaddr_in dst;
    int fd = open_from(argv[0], argv[1], port, &dst);
    const int got = connect_within(fd, &dst, 100);
    attempts++;
    if (got == 0) dropped++;
    if (got == 1) {
      struct pollfd p = {fd, POLLIN, 0};
      while (poll(&p, 1, 1000) > 0 && read(fd, buf, sizeof(buf)) > 0) {
      }
    }
    close_rst(fd);
  }
  printf("attempts %llu dropped %llu\n", (unsigned long long)attempts, (unsigned long long)dropped);
  return 0;
}

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static int probe(char** argv) {
  const int port = atoi(argv[2]);
  const double end = now_s() + atof(argv[3]);
  static double latencies[1 << 20];
  size_t n = 0, failed = 0;
  static const char request[] = "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
  char buf[1024];
  while (now_s() < end && n < sizeof(latencies) / sizeof(latencies[0])) {
    struct sockaddr_in dst;
    int fd = open_from(argv[0], argv[1], port, &dst);
    const double start = now_s();
    int ok = connect_within(fd, &dst, 2000) == 1 &&
             write(fd, request, sizeof(request) - 1) == (ssize_t)(sizeof(request) - 1);
    ssize_t got = 0, total = 0;
    struct pollfd p = {fd, POLLIN, 0};
    while (ok && poll(&p, 1, 2000) > 0 && (got = read(fd, buf, sizeof(buf))) > 0) {
      if (total == 0 && strncmp(buf, "HTTP/1.1 200", 12) != 0) ok = 0;
      total += got;
    }
    if (ok && total > 0) {
      latencies[n++] = (now_s() - start) * 1e6;
    } else {
      failed++;
    }
    close_rst(fd);
  }
  qsort(latencies, n, sizeof(double), by_value);
  printf("requests %zu failed %zu p50_us %.0f p99_us %.0f max_us %.0f\n", n, failed,
         n ? latencies[n / 2] : 0.0, n ? latencies[(n * 99) / 100] : 0.0,
         n ? latencies[n - 1] : 0.0);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 8 && strcmp(argv[1], "syn") == 0) return syn_flood(argv + 2);
  if (argc == 6 && strcmp(argv[1], "connect") == 0) return connect_flood(argv + 2);
  if (argc == 6 && strcmp(argv[1], "probe") == 0) return probe(argv + 2);
  fprintf(stderr,
          "usage: flood syn IFACE SRC DST DST_MAC PORT SECONDS | connect SRC DST PORT SECONDS |"
          " probe SRC DST PORT SECONDS\n");
  return 2;
}
