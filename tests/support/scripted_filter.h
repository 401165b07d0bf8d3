// ScriptedFilter: an HttpFilter whose hooks run the test's lambdas and note each call in a
// trace ("name:request_head", ...), so a test can check both what a filter did and when it ran.
// Test use only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ports/http_filter.h"

namespace vx::testing {

class ScriptedFilter final : public ports::HttpFilter {
 public:
  using HeadHook = std::function<core::filter::FilterStatus(ports::FilterStream&)>;
  using BodyHook = std::function<core::filter::BodyStatus(ports::FilterStream&,
                                                          core::filter::BodyBuffer&, bool)>;
  using LogHook = std::function<void(ports::FilterStream&, const ports::StreamOutcome&)>;

  ScriptedFilter(std::string name, std::vector<std::string>& trace)
      : name_(std::move(name)), trace_(trace) {}

  HeadHook request_head;
  BodyHook request_body;
  HeadHook response_head;
  BodyHook response_body;
  LogHook log;
  bool log_reads_response = true;  // declares Hook::LogResponseHead with log

  std::string_view name() const override { return name_; }
  core::filter::HookSet hooks() const override {
    using core::filter::Hook;
    core::filter::HookSet set;
    if (request_head) set = set | Hook::RequestHead;
    if (request_body) set = set | Hook::RequestBody;
    if (response_head) set = set | Hook::ResponseHead;
    if (response_body) set = set | Hook::ResponseBody;
    if (log) set = set | Hook::Log;
    if (log && log_reads_response) set = set | Hook::LogResponseHead;
    return set;
  }
  core::filter::FilterStatus on_request_head(ports::FilterStream& s) const override {
    trace_.push_back(name_ + ":request_head");
    return request_head(s);
  }
  core::filter::BodyStatus on_request_body(ports::FilterStream& s, core::filter::BodyBuffer& b,
                                           bool end) const override {
    trace_.push_back(name_ + ":request_body" + (end ? ":end" : ""));
    return request_body(s, b, end);
  }
  core::filter::FilterStatus on_response_head(ports::FilterStream& s) const override {
    trace_.push_back(name_ + ":response_head");
    return response_head(s);
  }
  core::filter::BodyStatus on_response_body(ports::FilterStream& s, core::filter::BodyBuffer& b,
                                            bool end) const override {
    trace_.push_back(name_ + ":response_body" + (end ? ":end" : ""));
    return response_body(s, b, end);
  }
  void on_log(ports::FilterStream& s, const ports::StreamOutcome& outcome) const override {
    trace_.push_back(name_ + ":log");
    log(s, outcome);
  }

 private:
  std::string name_;
  std::vector<std::string>& trace_;
};

}  // namespace vx::testing
