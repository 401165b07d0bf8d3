#include "adapters/net/ticket_key_ring.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include <cstring>

namespace vx::adapters::net {

TicketKeyRing::TicketKeyRing(std::chrono::seconds rotation) : rotation_(rotation) {
  std::lock_guard lock(mutex_);
  rotate_locked(std::chrono::steady_clock::now());
}

TicketKeyRing& TicketKeyRing::instance() {
  static TicketKeyRing ring;
  return ring;
}

void TicketKeyRing::rotate() {
  std::lock_guard lock(mutex_);
  rotate_locked(std::chrono::steady_clock::now());
}

size_t TicketKeyRing::key_count() const {
  std::lock_guard lock(mutex_);
  return keys_.size();
}

void TicketKeyRing::rotate_locked(std::chrono::steady_clock::time_point now) {
  Key key;
  key.created = now;
  // RAND_bytes fails only without an entropy source; a zero key would still be unique per
  // process start but guessable, so the failure leaves tickets unusable instead.
  if (RAND_bytes(key.name.data(), key.name.size()) != 1 ||
      RAND_bytes(key.aes.data(), key.aes.size()) != 1 ||
      RAND_bytes(key.hmac.data(), key.hmac.size()) != 1) {
    return;
  }
  keys_.push_front(key);
  while (keys_.size() > kKeptKeys) keys_.pop_back();
}

void TicketKeyRing::install(SSL_CTX* ctx) {
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketKeyRing::on_ticket);
}

int TicketKeyRing::on_ticket(SSL*, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                             EVP_MAC_CTX* mac, int encrypt) {
  return instance().handle(name, iv, cipher, mac, encrypt);
}

// Return values per SSL_CTX_set_tlsext_ticket_key_evp_cb(3): 1 = ticket ok, 2 = ok but renew
// it, 0 = unknown key (full handshake), -1 = error.
int TicketKeyRing::handle(unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                          EVP_MAC_CTX* mac, int encrypt) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (keys_.empty() || now - keys_.front().created >= rotation_) rotate_locked(now);
  if (keys_.empty()) return encrypt ? -1 : 0;
  const Key* key = nullptr;
  bool newest = true;
  if (encrypt) {
    key = &keys_.front();
    std::memcpy(name, key->name.data(), key->name.size());
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
  } else {
    for (const Key& k : keys_) {
      if (std::memcmp(name, k.name.data(), k.name.size()) == 0) {
        key = &k;
        break;
      }
      newest = false;
    }
    if (!key) return 0;
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(
          OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key->hmac.data()), key->hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("sha256"), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  if (encrypt) {
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv) != 1) return -1;
    return 1;
  }
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv) != 1) return -1;
  return newest ? 1 : 2;
}

}  // namespace vx::adapters::net
