#include "core/http/error.h"

#include <cstdio>

namespace vx::core::http {

ErrorSource Error::source() const {
  switch (kind) {
    case ErrorKind::BadRequest:
    case ErrorKind::RequestTimeout:
    case ErrorKind::BodyTooLarge:
    case ErrorKind::UriTooLong:
    case ErrorKind::HeadersTooLarge:
    case ErrorKind::DownstreamClosed:
    case ErrorKind::NoRoute:
    case ErrorKind::RateLimited:
    case ErrorKind::Forbidden:
      return ErrorSource::Downstream;
    case ErrorKind::NoEndpoint:
    case ErrorKind::UpstreamConnectRefused:
    case ErrorKind::UpstreamConnectTimeout:
    case ErrorKind::UpstreamReset:
    case ErrorKind::UpstreamBadResponse:
    case ErrorKind::UpstreamTimeout:
      return ErrorSource::Upstream;
    case ErrorKind::Internal:
      return ErrorSource::Internal;
  }
  return ErrorSource::Internal;
}

uint16_t status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadRequest:
      return 400;
    case ErrorKind::RequestTimeout:
      return 408;
    case ErrorKind::BodyTooLarge:
      return 413;
    case ErrorKind::UriTooLong:
      return 414;
    case ErrorKind::HeadersTooLarge:
      return 431;
    case ErrorKind::NoRoute:
      return 404;
    case ErrorKind::RateLimited:
      return 429;
    case ErrorKind::Forbidden:
      return 403;
    case ErrorKind::NoEndpoint:
      return 503;
    case ErrorKind::UpstreamConnectRefused:
    case ErrorKind::UpstreamReset:
    case ErrorKind::UpstreamBadResponse:
      return 502;
    case ErrorKind::UpstreamConnectTimeout:
    case ErrorKind::UpstreamTimeout:
      return 504;
    case ErrorKind::DownstreamClosed:
    case ErrorKind::Internal:
      return 500;
  }
  return 500;
}

std::string_view reason_phrase(uint16_t status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

void append_json_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

std::string error_body(const Error& error) {
  const uint16_t status = status_for(error.kind);
  std::string_view message = error.detail;
  if (error.kind == ErrorKind::NoRoute) message = "no route";
  if (error.kind == ErrorKind::NoEndpoint) {
    message = "Circuit breaker open or all backend nodes are offline.";
  }
  std::string body = "{\"error\":\"";
  append_json_escaped(body, reason_phrase(status));
  body += "\",\"message\":\"";
  append_json_escaped(body, message);
  body += "\"}";
  return body;
}

}  // namespace vx::core::http
