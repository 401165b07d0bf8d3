// SocketFacts: a downstream connection's addresses and listener as filters see them
// (ports::ConnectionFacts), read from the socket the first time a filter asks: most
// connections never do, and then pay neither the two syscalls nor the strings. The socket's
// worker thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ports/filter_stream.h"

namespace vx::adapters::net {

class SocketFacts {
 public:
  // `fd`: the connection's TCP socket, open as long as this is used; `listener`: the
  // configured listener's name, which outlives its connections.
  SocketFacts(int fd, std::string_view listener) : fd_(fd), listener_(listener) {}

  ports::ConnectionFacts get(std::string_view client_ip, std::string_view protocol) const;
  std::string_view listener() const { return listener_; }

 private:
  int fd_;
  std::string_view listener_;
  mutable bool read_ = false;
  mutable uint16_t client_port_ = 0;
  mutable uint16_t local_port_ = 0;
  mutable std::string local_ip_;
};

}  // namespace vx::adapters::net
