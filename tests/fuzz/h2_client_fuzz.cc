// H2Session in the client role, as H2UpstreamSession and H2UpstreamStream use it (adapters/
// upstream/h2_upstream_session.cc): the connection preface goes out, requests are submitted
// (with and without bodies and trailers, fields as an HTTP/1.1 client sent them), and the
// input is what the upstream answers, in reads drawn from its hash, with produce() after
// each. Between reads the streams act like the proxy's: consume the response body at once or
// later, cancel a stream (consume what it held, RST_STREAM CANCEL), open another request while
// the peer allows, and drain on GOAWAY. Half the inputs run with tight limits, so the flood
// guards and the header-list bound are within reach.
//
// Checks: events only for streams this side opened (push is refused), in order, a block's
// fields inside its bytes and within the limits, and every frame sent (OutgoingFrames).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "adapters/codec/h2/h2_session.h"
#include "adapters/codec/h2/outgoing_body.h"
#include "fuzz_support.h"
#include "h2_frames.h"

namespace {

using std::chrono::milliseconds;
using vx::adapters::h2::H2Events;
using vx::adapters::h2::H2Session;
using vx::adapters::h2::H2Settings;
using vx::adapters::h2::HeaderBlock;
using vx::adapters::h2::OutgoingBody;
using vx::core::http::HeaderList;
using vx::fuzz::Choices;
using vx::fuzz::OutgoingFrames;
using Clock = std::chrono::steady_clock;

constexpr int kFirstRequests = 3;  // streams 1, 3 and 5: what the seeds answer
constexpr int kMaxRequests = 16;
constexpr int kFinalRounds = 4;

H2Settings settings_from(Choices& choices) {
  H2Settings s;  // h2_upstream_session.cc's client_settings()
  s.initial_window = 256 * 1024;
  s.connection_window = 8 << 20;
  s.max_header_list = 256 * 1024;
  s.max_header_fields = 500;
  if (choices.one_in(2)) return s;
  s.initial_window = 1024;
  s.connection_window = 65535;
  s.max_header_list = 512;
  s.max_header_fields = 8;
  s.max_continuations = 2;
  s.max_resets_per_s = 3;
  s.max_control_per_s = 4;
  s.max_empty_per_s = 3;
  s.max_priority_per_s = 5;
  return s;
}

// A request head as the pipeline hands it over from an HTTP/1.1 client: mixed case, with the
// fields HTTP/2 forbids still in (H2Session drops them).
const HeaderList kRequestHeaders{
    {"User-Agent", "curl/7.88"},   {"Accept", "*/*"},  {"Connection", "keep-alive"},
    {"Host", "a.example"},         {"TE", "trailers"}, {"Transfer-Encoding", "chunked"},
    {"X-Forwarded-For", "1.2.3.4"}};
const HeaderList kRequestTrailers{{"X-Checksum", "abc"}, {"Keep-Alive", "1"}};

class Upstream final : public H2Events {
 public:
  struct Stream {
    bool released = false;  // the proxy let it go (cancelled)
    bool final_head = false;
    bool remote_ended = false;
    bool closed = false;
    bool consume_late = false;
    size_t unconsumed = 0;
    size_t body_size = 0;
    bool trailers = false;
    OutgoingBody body;
  };

  Upstream(Choices& choices, const H2Settings& settings) : choices_(choices), settings_(settings) {}
  void attach(H2Session& session) { session_ = &session; }
  const std::map<int32_t, Stream>& streams() const { return streams_; }

  // H2UpstreamSession::open_stream.
  void open() {
    if (draining_ || opened_ == kMaxRequests) return;
    static constexpr std::string_view kMethods[] = {"GET", "POST", "HEAD", "PUT"};
    const std::string_view method = kMethods[choices_.below(4)];
    static constexpr size_t kSizes[] = {0, 0, 5, 20000};
    const size_t body_size = method == "GET" || method == "HEAD" ? 0 : kSizes[choices_.below(4)];
    const bool trailers = body_size > 0 && choices_.one_in(4);
    const int32_t id = session_->submit_request(method, "https", "a.example", "/p?q=1",
                                                choices_.one_in(2) ? kRequestHeaders : HeaderList{},
                                                body_size > 0 || trailers);
    ++opened_;
    if (id < 0) {  // the session is closing
      draining_ = true;
      return;
    }
    VX_FUZZ_CHECK(id % 2 == 1 && id > last_id_);
    last_id_ = id;
    Stream& s = streams_[id];
    s.consume_late = choices_.one_in(2);
    s.body_size = body_size;
    s.trailers = trailers;
    if (body_size > 0 || trailers) {
      const std::string bytes(body_size, 'r');
      const std::string_view piece(bytes);
      s.body.queue({&piece, 1}, true, trailers ? &kRequestTrailers : nullptr);
    }
  }

  // H2Events
  void on_headers(int32_t id, HeaderBlock& block, bool end_stream) override {
    Stream& s = ours(id);
    VX_FUZZ_CHECK(!s.remote_ended && !s.closed);
    check(block);
    const std::string_view status = block.find(":status");
    if (!s.final_head) {
      // nghttp2 checks a response head (RFC 9113 §8.3.2) before handing it over.
      VX_FUZZ_CHECK(status.size() == 3);
      s.final_head = status[0] != '1';
    } else {
      VX_FUZZ_CHECK(status.empty() && end_stream);  // trailers
    }
  }

  void on_data(int32_t id, std::string_view data) override {
    Stream& s = ours(id);
    VX_FUZZ_CHECK(s.final_head && !s.remote_ended && !s.closed);
    if (s.released || !s.consume_late) {
      session_->consume(id, data.size());
    } else {
      s.unconsumed += data.size();
    }
  }

  void on_end_stream(int32_t id) override {
    Stream& s = ours(id);
    VX_FUZZ_CHECK(s.final_head && !s.remote_ended && !s.closed);
    s.remote_ended = true;
  }

  void on_stream_close(int32_t id, uint32_t) override {
    Stream& s = ours(id);
    VX_FUZZ_CHECK(!s.closed);
    s.closed = true;
  }

  long on_send_body(int32_t id, uint8_t* into, size_t max, bool& eof,
                    const HeaderList*& trailers) override {
    Stream& s = ours(id);
    if (s.released) return -1;  // as H2UpstreamSession: its RST_STREAM is queued
    VX_FUZZ_CHECK(s.body_size > 0 || s.trailers);
    return s.body.pull(into, max, eof, trailers);
  }

  void on_goaway(uint32_t, uint32_t) override {
    draining_ = true;
    if (live() == 0) session_->terminate(NGHTTP2_NO_ERROR);
  }

  // The proxy's side between two reads.
  void run() {
    for (auto& [id, s] : streams_) {
      if (s.released || s.closed) continue;
      if (s.unconsumed > 0 && (s.remote_ended || choices_.one_in(2))) {
        session_->consume(id, s.unconsumed);
        s.unconsumed = 0;
      }
      if (choices_.one_in(16)) release(id, s);
    }
    if (choices_.one_in(4) && live() < session_->peer_max_concurrent_streams()) open();
  }

 private:
  Stream& ours(int32_t id) {
    auto it = streams_.find(id);
    VX_FUZZ_CHECK(it != streams_.end());  // only streams this side opened
    return it->second;
  }

  // H2UpstreamSession::detach for a stream whose exchange gave up.
  void release(int32_t id, Stream& s) {
    s.released = true;
    session_->consume(id, s.unconsumed);
    s.unconsumed = 0;
    session_->reset(id, NGHTTP2_CANCEL);
    if (draining_ && live() == 0) session_->terminate(NGHTTP2_NO_ERROR);
  }

  uint32_t live() const {
    return static_cast<uint32_t>(std::count_if(streams_.begin(), streams_.end(), [](const auto& e) {
      return !e.second.released && !e.second.closed;
    }));
  }

  void check(const HeaderBlock& block) const {
    uint64_t listed = 0;
    for (const auto& f : block.fields) {
      VX_FUZZ_CHECK(uint64_t{f.name_at} + f.name_size <= block.bytes.size());
      VX_FUZZ_CHECK(uint64_t{f.value_at} + f.value_size <= block.bytes.size());
      listed += f.name_size + f.value_size + 32;
    }
    VX_FUZZ_CHECK(block.fields.size() <= settings_.max_header_fields);
    VX_FUZZ_CHECK(listed <= settings_.max_header_list);
  }

  Choices& choices_;
  H2Settings settings_;
  H2Session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  int32_t last_id_ = 0;
  int opened_ = 0;
  bool draining_ = false;
};

void produce(H2Session& session, OutgoingFrames& frames, const Upstream& upstream) {
  std::string out;
  session.produce(out);
  frames.scan(out);
  for (const auto& [id, s] : upstream.streams()) {
    const OutgoingFrames::Stream* sent = frames.stream(id);
    if (sent == nullptr) continue;
    VX_FUZZ_CHECK(sent->data_bytes <= s.body_size);
    if (sent->end_stream) {
      VX_FUZZ_CHECK(sent->data_bytes == s.body_size);
      VX_FUZZ_CHECK(!s.trailers || sent->trailers);
      VX_FUZZ_CHECK(session.local_closed(id));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Choices choices(input);
  const H2Settings settings = settings_from(choices);
  Upstream upstream(choices, settings);
  H2Session session(H2Session::Role::Client, settings, upstream);
  upstream.attach(session);
  OutgoingFrames frames(/*server=*/false);

  produce(session, frames, upstream);  // the preface and SETTINGS, before the server speaks
  for (int i = 0; i < kFirstRequests; ++i) upstream.open();
  produce(session, frames, upstream);

  Clock::time_point now{std::chrono::hours(24 * 30)};
  size_t at = 0;
  while (at < input.size()) {
    const size_t n = choices.piece(input.size() - at);
    const bool was_fatal = session.fatal();
    const bool ok = session.receive(input.substr(at, n), now);
    VX_FUZZ_CHECK(ok == !session.fatal());
    if (was_fatal) VX_FUZZ_CHECK(!ok);
    at += n;
    if (choices.one_in(8)) now += milliseconds(choices.below(3000));
    upstream.run();
    produce(session, frames, upstream);
    if (!ok) break;
  }
  for (int round = 0; round < kFinalRounds && !session.fatal(); ++round) {
    upstream.run();
    produce(session, frames, upstream);
  }
  if (session.fatal()) VX_FUZZ_CHECK(frames.goaway_sent() && session.finished());
  return 0;
}
