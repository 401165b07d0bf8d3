// See redis_rate_limit_store.h. hiredis 0.14 (Debian 12) async API: every reply callback runs
// exactly once, with NULL when the context is freed, which is what lets a decision's state be
// released from its callback whether the reply came, the connection died or the store went.
#include "adapters/ratelimit/redis_rate_limit_store.h"

#include <algorithm>
#include <array>
#include <optional>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "adapters/ratelimit/redis_asio_events.h"
#include "adapters/ratelimit/redis_gcra_script.h"

namespace vx::adapters::ratelimit {
namespace {

using core::ratelimit::StoreError;
using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>,
                                                boost::asio::io_context::executor_type>;

void load_script(redisAsyncContext* ac) {
  const std::string_view script = gcra_script();
  redisAsyncCommand(ac, nullptr, nullptr, "SCRIPT LOAD %b", script.data(), script.size());
}

}  // namespace

// One decision in flight. Shared by the waiting coroutine and the hiredis callback, so whichever
// finishes last frees it; `done` tells the other side the answer is already settled.
struct RedisRateLimitStore::Pending {
  explicit Pending(boost::asio::io_context& io) : timer(io.get_executor()) {}

  Timer timer;  // expires at the deadline; cancelled by the reply
  bool done = false;
  bool retried = false;  // NOSCRIPT reload attempted
  std::optional<DecideResult> result;
  core::TimePoint now;
  uint64_t limit = 0;
  // The EVALSHA arguments, kept for the NOSCRIPT retry.
  std::string key;
  std::array<std::string, 4> args;  // T_ns, tau_ns [, now_s, now_ns]
  int arg_count = 2;
};

// One pooled connection. Invariants:
//  1. ac == nullptr: down, the timer holds the reconnect backoff.
//  2. ac != nullptr && !connected: connecting, the timer holds the connect deadline; commands
//     queue in hiredis' buffer and go out once connected.
//  3. connected implies ac != nullptr. Only this struct frees ac, and never inside a hiredis
//     callback (hiredis frees it itself after a connect failure or a disconnect).
struct RedisRateLimitStore::Connection : std::enable_shared_from_this<Connection> {
  Connection(RedisRateLimitStore& s, boost::asio::io_context& io)
      : store(s), timer(io.get_executor()), backoff(s.options_.backoff_initial) {}

  ~Connection() { close(); }

  void close() {
    timer.cancel();
    if (ac != nullptr) {
      redisAsyncContext* c = ac;
      ac = nullptr;
      connected = false;
      c->data = nullptr;  // the disconnect callback fired while freeing must not come back here
      redisAsyncFree(c);  // fails every queued decision with a NULL reply
    }
    in_flight = 0;
  }

  void start() {
    redisAsyncContext* c = redisAsyncConnect(store.ip_.c_str(), store.port_);
    if (c == nullptr || c->err != 0) {  // e.g. ECONNREFUSED reported at once on loopback
      if (c != nullptr) redisAsyncFree(c);
      schedule_reconnect();
      return;
    }
    if (!attach_to_asio(c, store.io_)) {
      redisAsyncFree(c);
      schedule_reconnect();
      return;
    }
    ac = c;
    c->data = this;
    redisAsyncSetConnectCallback(c, &Connection::on_connect);
    redisAsyncSetDisconnectCallback(c, &Connection::on_disconnect);
    if (store.db_ != 0) redisAsyncCommand(c, nullptr, nullptr, "SELECT %u", store.db_);
    load_script(c);  // ahead of any EVALSHA: Redis answers a connection's commands in order
    timer.expires_after(store.options_.connect_timeout);
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->connected || self->ac == nullptr) return;
      self->close();  // hiredis 0.14 has no connect timeout of its own
      self->schedule_reconnect();
    });
  }

  void schedule_reconnect() {
    // Full jitter over [backoff/2, backoff] so replicas that lost Redis together do not
    // reconnect in lockstep.
    const auto half = std::max<int64_t>(backoff.count() / 2, 1);
    const auto delay = std::chrono::milliseconds(
        half + static_cast<int64_t>(store.rng_.below(static_cast<uint64_t>(half) + 1)));
    backoff = std::min(backoff * 2, store.options_.backoff_max);
    timer.expires_after(delay);
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->ac != nullptr) return;
      self->start();
    });
  }

  static void on_connect(const redisAsyncContext* c, int status) {
    auto* self = static_cast<Connection*>(c->data);
    if (self == nullptr) return;
    if (status != REDIS_OK) {  // hiredis frees the context when this returns
      self->ac = nullptr;
      self->schedule_reconnect();
      return;
    }
    self->connected = true;
    self->backoff = self->store.options_.backoff_initial;
    self->timer.cancel();
  }

  static void on_disconnect(const redisAsyncContext* c, int status) {
    auto* self = static_cast<Connection*>(c->data);
    if (self == nullptr) return;
    self->ac = nullptr;  // hiredis frees the context when this returns
    self->connected = false;
    self->schedule_reconnect();
  }

  // Queues EVALSHA for `p`. False when hiredis refuses (the context is going away).
  bool send(const std::shared_ptr<Pending>& p) {
    if (ac == nullptr) return false;
    const std::string_view sha = gcra_script_sha1();
    std::array<const char*, 8> argv{};
    std::array<std::size_t, 8> lens{};
    int n = 0;
    auto add = [&](std::string_view s) {
      argv[n] = s.data();
      lens[n++] = s.size();
    };
    add("EVALSHA");
    add(sha);
    add("1");
    add(p->key);
    for (int i = 0; i < p->arg_count; ++i) add(p->args[i]);
    auto* holder = new std::shared_ptr<Pending>(p);
    if (redisAsyncCommandArgv(ac, &Connection::on_reply, holder, n, argv.data(), lens.data()) !=
        REDIS_OK) {
      delete holder;
      return false;
    }
    ++in_flight;
    return true;
  }

  static void on_reply(redisAsyncContext* c, void* r, void* privdata);

  RedisRateLimitStore& store;
  redisAsyncContext* ac = nullptr;
  bool connected = false;
  std::size_t in_flight = 0;
  Timer timer;
  std::chrono::milliseconds backoff;
};

void RedisRateLimitStore::Connection::on_reply(redisAsyncContext* c, void* r, void* privdata) {
  std::unique_ptr<std::shared_ptr<Pending>> holder(
      static_cast<std::shared_ptr<Pending>*>(privdata));
  Pending& p = **holder;
  auto* self = static_cast<Connection*>(c->data);
  if (self != nullptr) --self->in_flight;
  if (p.done) return;  // timed out: the coroutine has moved on, drop the late reply
  const auto* reply = static_cast<const redisReply*>(r);
  if (reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
      std::string_view(reply->str, reply->len).substr(0, 8) == "NOSCRIPT" && !p.retried &&
      self != nullptr) {
    p.retried = true;
    load_script(c);
    if (self->send(*holder)) return;
  }
  if (reply == nullptr) {
    p.result = core::unexpected(StoreError::Unavailable);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    p.result = core::unexpected(StoreError::ScriptError);
  } else if (auto d = parse_gcra_reply(reply, p.now, p.limit)) {
    p.result = *d;
  } else {
    p.result = core::unexpected(StoreError::BadReply);
  }
  p.done = true;
  p.timer.cancel();
}

RedisRateLimitStore::Options RedisRateLimitStore::Options::from_config(
    const core::config::RedisSettings& redis) {
  Options o;
  o.url = redis.url;
  o.timeout = redis.timeout;
  o.pool_size = redis.pool_size;
  return o;
}

core::Result<std::unique_ptr<RedisRateLimitStore>, std::string> RedisRateLimitStore::create(
    boost::asio::io_context& io, Options options) {
  auto url = RedisUrl::parse(options.url);
  if (!url) return core::unexpected(url.error());
  std::string ip = url->host;
  boost::system::error_code ec;
  boost::asio::ip::make_address(ip, ec);
  if (ec) {  // a name: resolve it now, once
    boost::asio::io_context resolver_io;
    boost::asio::ip::tcp::resolver resolver(resolver_io);
    auto results = resolver.resolve(url->host, std::to_string(url->port), ec);
    if (ec || results.empty()) {
      return core::unexpected("cannot resolve redis host '" + url->host + "': " + ec.message());
    }
    ip = results.begin()->endpoint().address().to_string();
  }
  options.pool_size = std::max<uint32_t>(options.pool_size, 1);
  return std::unique_ptr<RedisRateLimitStore>(
      new RedisRateLimitStore(io, std::move(options), std::move(ip), url->port, url->db));
}

RedisRateLimitStore::RedisRateLimitStore(boost::asio::io_context& io, Options options,
                                         std::string ip, uint16_t port, uint32_t db)
    : io_(io),
      options_(std::move(options)),
      ip_(std::move(ip)),
      port_(port),
      db_(db),
      rng_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
  for (uint32_t i = 0; i < options_.pool_size; ++i) {
    auto c = std::make_shared<Connection>(*this, io_);
    // Connect from io's thread: create() may run on another one.
    boost::asio::post(io_, [weak = std::weak_ptr<Connection>(c)] {
      if (auto self = weak.lock()) self->start();
    });
    connections_.push_back(std::move(c));
  }
}

RedisRateLimitStore::~RedisRateLimitStore() {
  for (auto& c : connections_) c->close();
}

std::size_t RedisRateLimitStore::connected_count() const {
  return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                [](const auto& c) { return c->connected; }));
}

std::string RedisRateLimitStore::redis_key(std::string_view policy, std::string_view key) const {
  std::string out = options_.key_prefix;
  out += std::to_string(policy.size());
  out += ':';
  out += policy;
  out += ':';
  out += key;
  return out;
}

RedisRateLimitStore::Connection* RedisRateLimitStore::pick() {
  // Round-robin over established connections; a connecting one only when none is up (its
  // commands wait in hiredis' buffer, bounded by the decision timeout).
  const std::size_t n = connections_.size();
  Connection* fallback = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    Connection* c = connections_[(next_ + i) % n].get();
    if (c->ac == nullptr || c->in_flight >= options_.max_in_flight_per_connection) continue;
    if (c->connected) {
      next_ = (next_ + i + 1) % n;
      return c;
    }
    if (fallback == nullptr) fallback = c;
  }
  return fallback;
}

boost::asio::awaitable<RedisRateLimitStore::DecideResult, RedisRateLimitStore::Executor>
RedisRateLimitStore::decide(const core::ratelimit::Policy& policy, std::string_view key,
                            core::TimePoint now) {
  Connection* c = pick();
  if (c == nullptr) co_return core::unexpected(StoreError::Unavailable);
  auto p = std::make_shared<Pending>(io_);
  p->now = now;
  p->limit = policy.gcra.limit;
  p->key = redis_key(policy.name, key);
  p->args[0] = std::to_string(policy.gcra.emission_interval.count());
  p->args[1] = std::to_string(policy.gcra.tolerance.count());
  if (options_.use_caller_clock_for_test) {
    const int64_t ns = now.time_since_epoch().count();
    int64_t s = ns / 1'000'000'000;
    int64_t sub = ns % 1'000'000'000;
    if (sub < 0) {  // floor division, so the nanosecond part is in [0, 1e9)
      --s;
      sub += 1'000'000'000;
    }
    p->args[2] = std::to_string(s);
    p->args[3] = std::to_string(sub);
    p->arg_count = 4;
  }
  p->timer.expires_after(options_.timeout);
  if (!c->send(p)) co_return core::unexpected(StoreError::Unavailable);
  // The reply cancels the timer; the deadline firing first means a timeout. Either way the
  // answer is in `p` (shared with the callback, which frees its half when it runs).
  co_await p->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable_t<Executor>{}));
  if (!p->done) {
    p->done = true;
    co_return core::unexpected(StoreError::Timeout);
  }
  co_return std::move(*p->result);
}

}  // namespace vx::adapters::ratelimit
