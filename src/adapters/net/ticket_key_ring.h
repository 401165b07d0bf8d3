// TicketKeyRing: the process-wide keys that encrypt TLS session tickets (RFC 5077 / RFC 8446
// §4.6.1), shared by every listener and every config snapshot so a reload keeps resumption.
// The newest key encrypts; the previous ones still decrypt (and ask for a fresh ticket) until
// they age out. Thread-safe: workers call it during handshakes under a small mutex.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <deque>
#include <mutex>

namespace vx::adapters::net {

class TicketKeyRing {
 public:
  // A key encrypts new tickets for `rotation`; it still decrypts for `kKeptKeys` rotations.
  explicit TicketKeyRing(std::chrono::seconds rotation = std::chrono::hours(1));

  // The process's ring (the one every TLS context installs).
  static TicketKeyRing& instance();

  // Makes a new encrypting key now (tests; the control plane may call it on reload).
  void rotate();
  size_t key_count() const;

  // Installs the ticket callback on `ctx` (SSL_CTX_set_tlsext_ticket_key_evp_cb).
  static void install(SSL_CTX* ctx);

 private:
  struct Key {
    std::array<unsigned char, 16> name;
    std::array<unsigned char, 32> aes;
    std::array<unsigned char, 32> hmac;
    std::chrono::steady_clock::time_point created;
  };
  static constexpr size_t kKeptKeys = 3;

  static int on_ticket(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                       EVP_MAC_CTX* mac, int encrypt);
  int handle(unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
             int encrypt);
  void rotate_locked(std::chrono::steady_clock::time_point now);

  const std::chrono::seconds rotation_;
  mutable std::mutex mutex_;
  std::deque<Key> keys_;  // front = newest
};

}  // namespace vx::adapters::net
