#include "adapters/k8s/route_json.h"

#include <nlohmann/json.hpp>

namespace vx::adapters::k8s {

namespace {

using nlohmann::json;

// Reads spec.backends; the first field of the wrong type ends it with decode_error.
void decode_spec(const json& object, core::k8s::VortexRoute& route) {
  auto spec = object.find("spec");
  if (spec == object.end() || !spec->is_object()) {
    route.decode_error = "spec: expected an object with backends";
    return;
  }
  auto backends = spec->find("backends");
  if (backends == spec->end() || backends->is_null()) return;  // no backends: an empty cluster
  if (!backends->is_array()) {
    route.decode_error = "spec.backends: expected a list";
    return;
  }
  for (size_t i = 0; i < backends->size(); ++i) {
    const json& item = (*backends)[i];
    const std::string where = "spec.backends[" + std::to_string(i) + "]";
    if (!item.is_object()) {
      route.decode_error = where + ": expected an object";
      return;
    }
    core::k8s::BackendSpec b;
    auto id = item.find("id");
    if (id == item.end() || !id->is_number_integer()) {
      route.decode_error = where + ".id: expected an integer";
      return;
    }
    b.id = id->get<int64_t>();
    auto address = item.find("address");
    if (address == item.end() || !address->is_string()) {
      route.decode_error = where + ".address: expected a string \"host:port\"";
      return;
    }
    b.address = address->get<std::string>();
    if (auto models = item.find("ai_models"); models != item.end() && !models->is_null()) {
      if (!models->is_array()) {
        route.decode_error = where + ".ai_models: expected a list of strings";
        return;
      }
      for (const json& m : *models) {
        if (!m.is_string()) {
          route.decode_error = where + ".ai_models: expected a list of strings";
          return;
        }
        b.ai_models.push_back(m.get<std::string>());
      }
    }
    if (auto weight = item.find("weight"); weight != item.end() && !weight->is_null()) {
      if (!weight->is_number_integer()) {
        route.decode_error = where + ".weight: expected an integer";
        return;
      }
      b.weight = weight->get<int64_t>();
    }
    route.backends.push_back(std::move(b));
  }
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// status.conditions[type=Accepted], when it is there and well formed; anything else is ignored
// (it is only there to spare a write).
void decode_accepted_condition(const json& object, core::k8s::VortexRoute& route) {
  auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return;
  for (const json& c : *conditions) {
    if (!c.is_object() || string_at(c, "type") != "Accepted") continue;
    auto generation = c.find("observedGeneration");
    const std::string state = string_at(c, "status");
    if (generation == c.end() || !generation->is_number_integer() ||
        (state != "True" && state != "False")) {
      return;
    }
    core::k8s::VortexRoute::Condition out;
    out.observed_generation = generation->get<int64_t>();
    out.accepted = state == "True";
    out.reason = string_at(c, "reason");
    out.message = string_at(c, "message");
    out.last_transition_time = string_at(c, "lastTransitionTime");
    route.accepted_condition = std::move(out);
    return;
  }
}

// One VortexRoute object; the error only when it has no name.
core::Result<core::k8s::VortexRoute, std::string> decode_object(const json& object,
                                                                std::string_view namespace_,
                                                                std::string* resource_version) {
  if (!object.is_object()) return core::unexpected(std::string("object: expected an object"));
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) {
    return core::unexpected(std::string("object without metadata"));
  }
  core::k8s::VortexRoute route;
  route.name = string_at(*metadata, "name");
  if (route.name.empty()) return core::unexpected(std::string("object without metadata.name"));
  route.namespace_ = string_at(*metadata, "namespace");
  if (route.namespace_.empty()) route.namespace_ = std::string(namespace_);
  if (auto g = metadata->find("generation"); g != metadata->end() && g->is_number_integer()) {
    route.generation = g->get<int64_t>();
  }
  if (resource_version) *resource_version = string_at(*metadata, "resourceVersion");
  decode_spec(object, route);
  decode_accepted_condition(object, route);
  return route;
}

}  // namespace

core::Result<RouteList, std::string> decode_route_list(std::string_view body,
                                                       std::string_view namespace_) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return core::unexpected(std::string("list: not a JSON object"));
  }
  RouteList list;
  if (auto metadata = doc.find("metadata"); metadata != doc.end() && metadata->is_object()) {
    list.resource_version = string_at(*metadata, "resourceVersion");
    list.continue_token = string_at(*metadata, "continue");
  }
  if (list.resource_version.empty()) {
    return core::unexpected(std::string("list: no metadata.resourceVersion"));
  }
  auto items = doc.find("items");
  if (items == doc.end() || items->is_null()) return list;
  if (!items->is_array()) return core::unexpected(std::string("list: items is not a list"));
  for (const json& item : *items) {
    auto route = decode_object(item, namespace_, nullptr);
    if (!route) return core::unexpected("list item: " + route.error());
    list.items.push_back(std::move(*route));
  }
  return list;
}

core::Result<WatchEvent, std::string> decode_watch_event(std::string_view line,
                                                         std::string_view namespace_) {
  const json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return core::unexpected(std::string("watch event: not a JSON object"));
  }
  const std::string type = string_at(doc, "type");
  auto object = doc.find("object");
  if (object == doc.end() || !object->is_object()) {
    return core::unexpected("watch event " + type + ": no object");
  }
  WatchEvent event;
  if (type == "ERROR") {
    event.type = WatchEvent::Type::Error;
    if (auto code = object->find("code"); code != object->end() && code->is_number_integer()) {
      event.code = code->get<int64_t>();
    }
    event.message = string_at(*object, "message");
    return event;
  }
  if (type == "BOOKMARK") {
    event.type = WatchEvent::Type::Bookmark;
    auto metadata = object->find("metadata");
    if (metadata != object->end() && metadata->is_object()) {
      event.resource_version = string_at(*metadata, "resourceVersion");
    }
    if (event.resource_version.empty()) {
      return core::unexpected(std::string("watch event BOOKMARK: no resourceVersion"));
    }
    return event;
  }
  if (type == "ADDED") {
    event.type = WatchEvent::Type::Added;
  } else if (type == "MODIFIED") {
    event.type = WatchEvent::Type::Modified;
  } else if (type == "DELETED") {
    event.type = WatchEvent::Type::Deleted;
  } else {
    return core::unexpected("watch event: unknown type '" + type + "'");
  }
  auto route = decode_object(*object, namespace_, &event.resource_version);
  if (!route) return core::unexpected("watch event " + type + ": " + route.error());
  event.route = std::move(*route);
  return event;
}

std::string accepted_status_patch(int64_t generation, const core::k8s::Verdict& verdict,
                                  std::string_view transition_time) {
  json condition = {
      {"type", "Accepted"},
      {"status", verdict.accepted() ? "True" : "False"},
      {"reason", std::string(core::k8s::reason_name(verdict.reason))},
      {"message", verdict.message},
      {"lastTransitionTime", std::string(transition_time)},
      {"observedGeneration", generation},
  };
  json patch = {
      {"status", {{"observedGeneration", generation}, {"conditions", json::array({condition})}}}};
  // Replace invalid UTF-8 rather than throw: a message may quote what a user wrote.
  return patch.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace vx::adapters::k8s
