// The HTTP2-Settings field of an h2c Upgrade request (RFC 7540 §3.2.1): a base64url SETTINGS
// payload. Checked before the 101 goes out, so a malformed one is a 400 and never a switch
// followed by a silent close. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vx::adapters::h2 {

// The decoded SETTINGS payload, or nullopt when the field is not base64url (RFC 4648 §5,
// padding optional), is not a whole number of 6-byte settings, or sets a value RFC 9113 §6.5.2
// forbids (ENABLE_PUSH or ENABLE_CONNECT_PROTOCOL above 1, INITIAL_WINDOW_SIZE above 2^31-1,
// MAX_FRAME_SIZE outside 2^14..2^24-1). Unknown settings are ignored, as the RFC says.
std::optional<std::string> decode_http2_settings(std::string_view field);

}  // namespace vx::adapters::h2
