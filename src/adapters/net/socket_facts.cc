#include "adapters/net/socket_facts.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <tuple>
#include <utility>

namespace vx::adapters::net {

namespace {

// The address and port of `address`, an IPv4-mapped IPv6 address written as IPv4 (as
// client_address() writes the client's).
std::pair<std::string, uint16_t> text_of(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return {text, ntohs(v4.sin_port)};
  }
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
      inet_ntop(AF_INET, &v6.sin6_addr.s6_addr[12], text, sizeof text);
    } else {
      inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    }
    return {text, ntohs(v6.sin6_port)};
  }
  return {};
}

}  // namespace

ports::ConnectionFacts SocketFacts::get(std::string_view client_ip,
                                        std::string_view protocol) const {
  if (!read_) {
    read_ = true;
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
      client_port_ = text_of(address).second;
    }
    size = sizeof address;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
      std::tie(local_ip_, local_port_) = text_of(address);
    }
  }
  ports::ConnectionFacts facts;
  facts.client_ip = client_ip;
  facts.client_port = client_port_;
  facts.local_ip = local_ip_;
  facts.local_port = local_port_;
  facts.listener = listener_;
  facts.protocol = protocol;
  return facts;
}

}  // namespace vx::adapters::net
