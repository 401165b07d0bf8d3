#include "adapters/config/yaml_document.h"

#include <yaml.h>

#include <map>
#include <memory>

namespace vx::adapters::config {

namespace {

constexpr std::string_view kNullTag = "tag:yaml.org,2002:null";
// Far deeper than any config; bounds the stack of open containers a hostile file can build.
constexpr size_t kMaxDepth = 64;

int line_of(const yaml_mark_t& mark) {
  return static_cast<int>(mark.line) + 1;
}

bool plain_null(const yaml_event_t& e) {
  const auto& s = e.data.scalar;
  std::string_view tag = s.tag == nullptr ? "" : reinterpret_cast<const char*>(s.tag);
  if (tag == kNullTag) return true;
  if (!tag.empty() || s.style != YAML_PLAIN_SCALAR_STYLE) return false;
  std::string_view v(reinterpret_cast<const char*>(s.value), s.length);
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

std::string anchor_of(const yaml_char_t* anchor) {
  return anchor == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(anchor));
}

struct ParserDeleter {
  void operator()(yaml_parser_t* p) const {
    yaml_parser_delete(p);
    delete p;
  }
};

struct Event {
  yaml_event_t e{};
  bool live = false;
  ~Event() {
    if (live) yaml_event_delete(&e);
  }
};

}  // namespace

const YamlNode* YamlNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k->is_scalar() && k->scalar() == key) return v;
  }
  return nullptr;
}

core::Result<YamlDocument, YamlDocument::ParseError> YamlDocument::parse(std::string_view text) {
  std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t);
  if (yaml_parser_initialize(parser.get()) == 0) {
    delete parser.release();
    return core::unexpected(ParseError{0, "out of memory"});
  }
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());

  YamlDocument doc;
  struct Open {
    YamlNode* node;
    std::string anchor;
    const YamlNode* key = nullptr;  // a mapping's key waiting for its value
  };
  std::vector<Open> open;
  std::map<std::string, const YamlNode*, std::less<>> anchors;
  int documents = 0;

  // Hangs a finished node under the container being built, or makes it the root.
  auto attach = [&](const YamlNode* node) {
    if (open.empty()) {
      doc.root_ = node;
      return;
    }
    Open& parent = open.back();
    if (parent.node->kind_ == YamlNode::Kind::Sequence) {
      parent.node->children_.push_back(node);
    } else if (parent.key == nullptr) {
      parent.key = node;
    } else {
      parent.node->entries_.emplace_back(parent.key, node);
      parent.key = nullptr;
    }
  };
  auto make = [&](YamlNode::Kind kind, const yaml_mark_t& mark) {
    YamlNode& n = doc.nodes_.emplace_back();
    n.kind_ = kind;
    n.line_ = line_of(mark);
    return &n;
  };

  for (bool done = false; !done;) {
    Event ev;
    if (yaml_parser_parse(parser.get(), &ev.e) == 0) {
      std::string message = parser->problem != nullptr ? parser->problem : "invalid YAML";
      if (parser->context != nullptr) message += std::string(" ") + parser->context;
      return core::unexpected(ParseError{line_of(parser->problem_mark), std::move(message)});
    }
    ev.live = true;
    const yaml_event_t& e = ev.e;
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1) {
          return core::unexpected(
              ParseError{line_of(e.start_mark), "more than one YAML document in the file"});
        }
        break;
      case YAML_SCALAR_EVENT: {
        YamlNode* n =
            make(plain_null(e) ? YamlNode::Kind::Null : YamlNode::Kind::Scalar, e.start_mark);
        if (n->is_scalar()) {
          n->scalar_.assign(reinterpret_cast<const char*>(e.data.scalar.value),
                            e.data.scalar.length);
        }
        if (e.data.scalar.anchor != nullptr) anchors[anchor_of(e.data.scalar.anchor)] = n;
        attach(n);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        if (open.size() >= kMaxDepth) {
          return core::unexpected(
              ParseError{line_of(e.start_mark),
                         "nesting deeper than " + std::to_string(kMaxDepth) + " levels"});
        }
        if (e.type == YAML_MAPPING_START_EVENT) {
          open.push_back(Open{make(YamlNode::Kind::Mapping, e.start_mark),
                              anchor_of(e.data.mapping_start.anchor)});
          break;
        }
        open.push_back(Open{make(YamlNode::Kind::Sequence, e.start_mark),
                            anchor_of(e.data.sequence_start.anchor)});
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Open finished = std::move(open.back());
        open.pop_back();
        // Registered only now, so a container cannot contain itself.
        if (!finished.anchor.empty()) anchors[finished.anchor] = finished.node;
        attach(finished.node);
        break;
      }
      case YAML_ALIAS_EVENT: {
        std::string_view name = reinterpret_cast<const char*>(e.data.alias.anchor);
        auto it = anchors.find(name);
        if (it == anchors.end()) {
          return core::unexpected(
              ParseError{line_of(e.start_mark), "undefined alias '" + std::string(name) + "'"});
        }
        attach(it->second);
        break;
      }
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      default:
        break;
    }
  }
  if (doc.root_ == nullptr) doc.root_ = &doc.nodes_.emplace_back();
  return doc;
}

}  // namespace vx::adapters::config
