#include "adapters/k8s/route_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vx::adapters::k8s {
namespace {

TEST(RouteJsonTest, DecodesAListWithItsResourceVersion) {
  auto list = decode_route_list(R"({"kind":"VortexRouteList","apiVersion":"vortex.dev/v1alpha1",
    "metadata":{"resourceVersion":"1234","continue":"abc"},
    "items":[{"metadata":{"name":"api","namespace":"prod","generation":2,"resourceVersion":"1200"},
              "spec":{"backends":[{"id":0,"address":"10.0.0.1:80","ai_models":["gpt-4"]},
                                  {"id":1,"address":"10.0.0.2:80","weight":5}]}},
             {"metadata":{"name":"web"},"spec":{}}]})",
                                "prod");
  ASSERT_TRUE(list.has_value()) << list.error();
  EXPECT_EQ(list->resource_version, "1234");
  EXPECT_EQ(list->continue_token, "abc");
  ASSERT_EQ(list->items.size(), 2u);
  const auto& api = list->items[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.generation, 2);
  ASSERT_EQ(api.backends.size(), 2u);
  EXPECT_EQ(api.backends[0].ai_models, std::vector<std::string>{"gpt-4"});
  EXPECT_EQ(api.backends[1].weight, 5);
  EXPECT_TRUE(api.decode_error.empty());
  EXPECT_EQ(list->items[1].namespace_, "prod");
  EXPECT_TRUE(list->items[1].backends.empty());
}

TEST(RouteJsonTest, ASpecOfTheWrongShapeIsKeptWithItsError) {
  auto list = decode_route_list(R"({"metadata":{"resourceVersion":"1"},
    "items":[{"metadata":{"name":"api"},"spec":{"backends":[{"id":"zero","address":"x:1"}]}}]})",
                                "prod");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->items[0].decode_error, "spec.backends[0].id: expected an integer");
}

TEST(RouteJsonTest, RefusesAListWithoutResourceVersionOrNotJson) {
  EXPECT_FALSE(decode_route_list(R"({"items":[]})", "prod").has_value());
  EXPECT_FALSE(decode_route_list("{\"metadata\":", "prod").has_value());
  EXPECT_FALSE(
      decode_route_list(R"({"metadata":{"resourceVersion":"1"},"items":[{"spec":{}}]})", "prod")
          .has_value());
}

TEST(RouteJsonTest, DecodesEveryWatchEventType) {
  auto added = decode_watch_event(
      R"({"type":"ADDED","object":{"metadata":{"name":"api","resourceVersion":"7"},
          "spec":{"backends":[{"id":3,"address":"10.0.0.3:80"}]}}})",
      "prod");
  ASSERT_TRUE(added.has_value()) << added.error();
  EXPECT_EQ(added->type, WatchEvent::Type::Added);
  EXPECT_EQ(added->resource_version, "7");
  EXPECT_EQ(added->route.backends[0].id, 3);

  auto bookmark = decode_watch_event(
      R"({"type":"BOOKMARK","object":{"kind":"VortexRoute","metadata":{"resourceVersion":"99"}}})",
      "prod");
  ASSERT_TRUE(bookmark.has_value());
  EXPECT_EQ(bookmark->type, WatchEvent::Type::Bookmark);
  EXPECT_EQ(bookmark->resource_version, "99");

  auto gone = decode_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}})",
      "prod");
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->type, WatchEvent::Type::Error);
  EXPECT_EQ(gone->code, 410);

  auto deleted =
      decode_watch_event(R"({"type":"DELETED","object":{"metadata":{"name":"api"}}})", "prod");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->type, WatchEvent::Type::Deleted);
  EXPECT_EQ(deleted->route.name, "api");

  EXPECT_FALSE(decode_watch_event(R"({"type":"SURPRISE","object":{}})", "prod").has_value());
  EXPECT_FALSE(decode_watch_event("not json", "prod").has_value());
}

TEST(RouteJsonTest, ReadsTheAcceptedConditionTheStatusHolds) {
  auto event = decode_watch_event(
      R"({"type":"MODIFIED","object":{"metadata":{"name":"api","generation":3},
          "spec":{"backends":[]},
          "status":{"observedGeneration":3,"conditions":[
            {"type":"Other","status":"True"},
            {"type":"Accepted","status":"False","reason":"InvalidBackend","message":"m",
             "observedGeneration":3,"lastTransitionTime":"2026-12-05T18:00:00Z"}]}}})",
      "prod");
  ASSERT_TRUE(event.has_value()) << event.error();
  ASSERT_TRUE(event->route.accepted_condition.has_value());
  const auto& c = *event->route.accepted_condition;
  EXPECT_EQ(c.observed_generation, 3);
  EXPECT_FALSE(c.accepted);
  EXPECT_EQ(c.reason, "InvalidBackend");
  EXPECT_EQ(c.message, "m");
  EXPECT_EQ(c.last_transition_time, "2026-12-05T18:00:00Z");
}

TEST(RouteJsonTest, WritesTheAcceptedConditionAsAMergePatch) {
  const auto patch = nlohmann::json::parse(accepted_status_patch(
      4, core::k8s::Verdict{core::k8s::Reason::DuplicateBackendId, "id 1 repeats"},
      "2026-12-05T18:00:00Z"));
  EXPECT_EQ(patch["status"]["observedGeneration"], 4);
  const auto& c = patch["status"]["conditions"][0];
  EXPECT_EQ(c["type"], "Accepted");
  EXPECT_EQ(c["status"], "False");
  EXPECT_EQ(c["reason"], "DuplicateBackendId");
  EXPECT_EQ(c["message"], "id 1 repeats");
  EXPECT_EQ(c["observedGeneration"], 4);
  EXPECT_EQ(c["lastTransitionTime"], "2026-12-05T18:00:00Z");
}

}  // namespace
}  // namespace vx::adapters::k8s
