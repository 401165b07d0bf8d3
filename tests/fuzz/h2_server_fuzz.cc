// H2Session in the server role, as H2Downstream and H2Stream use it (adapters/net/
// h2_connection.cc, h2_stream.cc): the client preface, then the input as the client's bytes in
// reads of sizes drawn from its hash, receive() for each and produce() after it. The events
// answer like the pipeline: each stream gets a plan from the input's hash (respond at once or
// after the request body, with or without a body, queued whole or in parts and resumed, with
// an interim head first or trailers after, reset it, or leave it waiting), and received DATA is
// consumed at once, after the read, or when the request ends. Some inputs start from an h2c
// Upgrade, some drain the connection half-way. Half the inputs run with tight limits, so the
// flood guards and the header-list bound are within a short input's reach.
//
// Beyond the sanitizers it checks the events (a stream's events in order, a block's fields
// inside its bytes and within the limits) and, through OutgoingFrames, every frame sent back.
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

constexpr std::string_view kClientMagic = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::string_view kEmptySettings("\0\0\0\4\0\0\0\0\0", 9);
// Rounds of "the pipeline runs, the writer flushes" after the client's last byte.
constexpr int kFinalRounds = 8;

H2Settings settings_from(Choices& choices) {
  H2Settings s;  // h2_connection.cc's settings_for() with SPEC.md's default limits
  s.max_header_list = 65536;
  s.max_header_fields = 100 + 8;
  if (choices.one_in(2)) return s;
  s.max_concurrent_streams = 4;
  s.initial_window = 1024;
  s.max_header_list = 512;
  s.max_header_fields = 8;
  s.max_continuations = 2;
  s.max_resets_per_s = 3;
  s.max_control_per_s = 4;
  s.max_empty_per_s = 3;
  s.max_priority_per_s = 5;
  return s;
}

// The response fields a pipeline may hand the codec: case as an HTTP/1.1 upstream sent them,
// hop-by-hop ones included (the codec must drop what HTTP/2 forbids).
const HeaderList kPlainHeaders{{"Content-Type", "text/plain"}, {"X-Upper", "v"}};
const HeaderList kLeakyHeaders{{"content-type", "text/plain"},
                               {"Connection", "close"},
                               {"Keep-Alive", "timeout=5"},
                               {"Transfer-Encoding", "chunked"},
                               {"Upgrade", "websocket"},
                               {"TE", "gzip"},
                               {"te", "trailers"},
                               {"Proxy-Connection", "x"},
                               {"Host", "origin.example"}};
const HeaderList kTrailers{{"grpc-status", "0"}, {"Grpc-Message", "ok"}, {"Connection", "x"}};
const HeaderList kEarlyHints{{"Link", "</style.css>; rel=preload"}};

class Pipeline final : public H2Events {
 public:
  enum class Plan : uint8_t { Respond, RespondAfterRequest, RespondInParts, NoBody, Reset, Hold };
  enum class Consume : uint8_t { AtOnce, AfterRead, AtEnd };

  struct Stream {
    Plan plan = Plan::Respond;
    Consume consume = Consume::AtOnce;
    bool remote_ended = false;
    bool closed = false;
    bool responded = false;
    bool with_body = false;
    uint16_t status = 200;
    size_t body_size = 0;  // bytes the response body will have
    size_t queued = 0;     // of those, queued into `body` so far
    size_t unconsumed = 0;
    bool trailers = false;
    bool interim = false;
    OutgoingBody body;
  };

  Pipeline(Choices& choices, const H2Settings& settings) : choices_(choices), settings_(settings) {}
  void attach(H2Session& session) { session_ = &session; }
  const std::map<int32_t, Stream>& streams() const { return streams_; }

  // h2c: stream 1 is the upgraded request, its body already read (H2Downstream::accept_upgrade).
  void upgraded() {
    plan(1);
    streams_[1].remote_ended = true;
  }

  // H2Events
  void on_headers(int32_t id, HeaderBlock& block, bool end_stream) override {
    VX_FUZZ_CHECK(id > 0 && id % 2 == 1);
    check(block);
    auto it = streams_.find(id);
    if (it != streams_.end()) {  // trailers (RFC 9113 §8.1: they end the stream)
      VX_FUZZ_CHECK(!it->second.remote_ended && !it->second.closed && end_stream);
      return;
    }
    VX_FUZZ_CHECK(id > last_stream_);  // RFC 9113 §5.1.1: new streams ascend
    last_stream_ = id;
    if (draining_) {  // as H2Downstream::on_headers
      session_->reset(id, NGHTTP2_REFUSED_STREAM);
      streams_[id].plan = Plan::Hold;
      return;
    }
    plan(id);  // end_stream: on_end_stream follows
  }

  void on_data(int32_t id, std::string_view data) override {
    auto it = streams_.find(id);
    if (it == streams_.end()) {  // nobody reads it: as H2Downstream::on_data
      session_->consume(id, data.size());
      return;
    }
    Stream& s = it->second;
    VX_FUZZ_CHECK(!s.remote_ended && !s.closed);
    if (s.consume == Consume::AtOnce) {
      session_->consume(id, data.size());
    } else {
      s.unconsumed += data.size();
    }
  }

  void on_end_stream(int32_t id) override {
    auto it = streams_.find(id);
    VX_FUZZ_CHECK(it != streams_.end() && !it->second.remote_ended && !it->second.closed);
    it->second.remote_ended = true;
  }

  void on_stream_close(int32_t id, uint32_t) override {
    auto it = streams_.find(id);
    if (it == streams_.end()) return;  // closed before its head was whole (e.g. refused)
    VX_FUZZ_CHECK(!it->second.closed);
    it->second.closed = true;
  }

  long on_send_body(int32_t id, uint8_t* into, size_t max, bool& eof,
                    const HeaderList*& trailers) override {
    auto it = streams_.find(id);
    if (it == streams_.end() || it->second.closed) {  // as H2Downstream::on_send_body
      eof = true;
      return 0;
    }
    VX_FUZZ_CHECK(it->second.with_body);
    return it->second.body.pull(into, max, eof, trailers);
  }

  // What the streams' coroutines do once a read has been handled; `finishing`: after the
  // client's last byte, every waiting stream is answered and every body completed.
  void run(bool finishing) {
    for (auto& [id, s] : streams_) {
      if (s.closed) continue;
      if (s.consume == Consume::AfterRead || (s.remote_ended && s.consume == Consume::AtEnd)) {
        session_->consume(id, s.unconsumed);
        s.unconsumed = 0;
      }
      switch (s.plan) {
        case Plan::Respond:
        case Plan::NoBody:
          respond(id, s);
          break;
        case Plan::RespondAfterRequest:
          if (s.remote_ended) respond(id, s);
          break;
        case Plan::RespondInParts:
          if (!s.responded) {
            respond(id, s);
          } else if (s.queued < s.body_size) {
            queue(s, finishing ? s.body_size - s.queued : 1 + choices_.below(s.body_size));
            session_->resume(id);
          }
          break;
        case Plan::Reset:
          session_->reset(id, choices_.one_in(2) ? NGHTTP2_CANCEL : NGHTTP2_INTERNAL_ERROR);
          s.plan = Plan::Hold;
          break;
        case Plan::Hold:
          if (finishing) s.plan = Plan::Respond;
          break;
      }
    }
  }

  void drain() {  // H2Downstream::drain
    if (draining_) return;
    draining_ = true;
    session_->shutdown();
    if (std::none_of(streams_.begin(), streams_.end(),
                     [](const auto& s) { return !s.second.closed; })) {
      session_->terminate(0);
    }
  }

 private:
  void plan(int32_t id) {
    Stream& s = streams_[id];
    s.plan = static_cast<Plan>(choices_.below(6));
    s.consume = static_cast<Consume>(choices_.below(3));
    static constexpr uint16_t kStatuses[] = {200, 404, 503, 999};
    s.status = kStatuses[choices_.below(4)];
    static constexpr size_t kSizes[] = {0, 1, 100, 16385, 70000};
    s.body_size = s.plan == Plan::NoBody ? 0 : kSizes[choices_.below(5)];
    s.trailers = s.plan != Plan::NoBody && choices_.one_in(3);
    s.interim = choices_.one_in(4);
  }

  void respond(int32_t id, Stream& s) {
    if (s.responded) return;
    s.responded = true;
    if (s.interim) {
      session_->submit_interim(id, choices_.one_in(2) ? 100 : 103,
                               choices_.one_in(2) ? kEarlyHints : HeaderList{});
    }
    s.with_body = s.body_size > 0 || s.trailers;
    const HeaderList& headers = choices_.one_in(2) ? kPlainHeaders : kLeakyHeaders;
    if (!session_->submit_response(id, s.status, headers, s.with_body)) {
      s.with_body = false;  // the stream went away meanwhile
      return;
    }
    if (!s.with_body) return;
    queue(s, s.plan == Plan::RespondInParts ? choices_.below(s.body_size + 1) : s.body_size);
  }

  void queue(Stream& s, size_t n) {
    n = std::min(n, s.body_size - s.queued);
    chunk_.assign(n, static_cast<char>('a' + s.queued % 26));
    const std::string_view piece(chunk_);
    s.queued += n;
    const bool last = s.queued == s.body_size;
    s.body.queue({&piece, 1}, last, s.trailers && last ? &kTrailers : nullptr);
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
  int32_t last_stream_ = 0;
  bool draining_ = false;
  std::string chunk_;
};

void produce(H2Session& session, OutgoingFrames& frames, Pipeline& pipeline) {
  std::string out;
  session.produce(out);
  frames.scan(out);
  for (const auto& [id, s] : pipeline.streams()) {
    const OutgoingFrames::Stream* sent = frames.stream(id);
    if (sent == nullptr) continue;
    VX_FUZZ_CHECK(sent->data_bytes <= s.queued);
    // END_STREAM goes out with the last queued byte, never before it.
    if (sent->end_stream && s.with_body) VX_FUZZ_CHECK(sent->data_bytes == s.body_size);
    // Trailers are never dropped (gRPC's status travels in them).
    if (sent->end_stream && s.trailers && s.with_body) VX_FUZZ_CHECK(sent->trailers);
    // H2Stream waits on local_closed() to know its response is out.
    if (sent->end_stream) VX_FUZZ_CHECK(session.local_closed(id));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Choices choices(input);
  const H2Settings settings = settings_from(choices);
  Pipeline pipeline(choices, settings);
  H2Session session(H2Session::Role::Server, settings, pipeline);
  pipeline.attach(session);
  OutgoingFrames frames(/*server=*/true);

  if (choices.one_in(8)) {  // h2c: the HTTP2-Settings payload comes first, then the preface
    const size_t n = choices.below(std::min<size_t>(input.size(), 37) + 1);
    if (!session.upgrade(input.substr(0, n), choices.one_in(4))) return 0;
    input.remove_prefix(n);
    pipeline.upgraded();
  }
  std::string client(kClientMagic);
  client.append(kEmptySettings).append(input);

  Clock::time_point now{std::chrono::hours(24 * 30)};
  const size_t drain_at = choices.one_in(8) ? choices.below(client.size() + 1) : client.size() + 1;
  size_t at = 0;
  while (at < client.size()) {
    const size_t n = choices.piece(client.size() - at);
    const bool was_fatal = session.fatal();
    const bool ok = session.receive(std::string_view(client).substr(at, n), now);
    VX_FUZZ_CHECK(ok == !session.fatal());
    if (was_fatal) VX_FUZZ_CHECK(!ok);  // invariant 2: a fatal session reads nothing more
    at += n;
    switch (choices.below(8)) {  // the time between two reads
      case 0:
        now += milliseconds(choices.below(1000));
        break;
      case 1:
        now += milliseconds(1000 + choices.below(5000));
        break;
      default:
        break;
    }
    if (at >= drain_at) pipeline.drain();
    pipeline.run(false);
    produce(session, frames, pipeline);
    if (!ok) break;  // the connection flushes its GOAWAY and closes
  }
  for (int round = 0; round < kFinalRounds && !session.fatal(); ++round) {
    pipeline.run(round >= kFinalRounds / 2);
    produce(session, frames, pipeline);
  }
  // Invariant 2: a fatal session has said why (GOAWAY) and has nothing left to do.
  if (session.fatal()) VX_FUZZ_CHECK(frames.goaway_sent() && session.finished());
  return 0;
}
