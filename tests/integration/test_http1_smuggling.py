"""Request smuggling and malformed input: every request of the corpus gets 400 with the SPEC
JSON body (then the connection is closed) or is just closed, and is never forwarded.

Malformed heads must not reach the origin at all (it sees no request head). Malformed
chunked bodies come after a valid head that a streaming proxy may already have sent
upstream, so for those the origin must never receive a complete request. Either way no
smuggled second request ("/smuggled") may reach it, and a valid request sent afterwards on
a fresh connection still works (so the route under test really leads to the origin)."""

import pytest

from rawhttp import RawConnection, assert_json_error, exchange, request_bytes
from vortex_harness import simple_config

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"


def post(headers: bytes, body: bytes = b"", line: bytes = b"POST /target HTTP/1.1") -> bytes:
    return line + b"\r\nHost: t\r\n" + headers + b"\r\n" + body


# (id, request bytes): the head itself is invalid or ambiguous.
MALFORMED_HEADS = [
    ("content_length_and_transfer_encoding", post(b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n" + SMUGGLED)),
    ("transfer_encoding_and_content_length", post(b"Transfer-Encoding: chunked\r\nContent-Length: 40\r\n", b"0\r\n\r\n" + SMUGGLED)),
    ("two_different_content_lengths", post(b"Content-Length: 0\r\nContent-Length: 36\r\n", SMUGGLED)),
    ("content_length_list_with_different_values", post(b"Content-Length: 0, 36\r\n", SMUGGLED)),
    ("content_length_with_plus_sign", post(b"Content-Length: +5\r\n", b"hello")),
    ("negative_content_length", post(b"Content-Length: -5\r\n", b"hello")),
    ("hex_content_length", post(b"Content-Length: 0x5\r\n", b"hello")),
    ("content_length_with_inner_space", post(b"Content-Length: 1 0\r\n", b"helloworld")),
    ("content_length_overflowing_64_bits", post(b"Content-Length: 184467440737095516160\r\n", b"hello")),
    ("transfer_encoding_chunked_then_identity", post(b"Transfer-Encoding: chunked, identity\r\n", b"5\r\nhello\r\n0\r\n\r\n")),
    ("transfer_encoding_xchunked", post(b"Transfer-Encoding: xchunked\r\n", b"5\r\nhello\r\n0\r\n\r\n")),
    ("empty_transfer_encoding_beside_content_length", post(b"Transfer-Encoding:\r\nContent-Length: 5\r\n", b"hello")),
    ("transfer_encoding_in_http10", post(b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n", line=b"POST /target HTTP/1.0")),
    ("transfer_encoding_with_obs_fold", post(b"Transfer-Encoding:\r\n chunked\r\n", b"0\r\n\r\n" + SMUGGLED)),
    ("space_before_colon_in_transfer_encoding", post(b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n" + SMUGGLED)),
    ("obs_fold_continuation_line", post(b"X-Folded: first\r\n  continued\r\n")),
    ("nul_in_header_value", post(b"X-Bad: a\x00b\r\n")),
    ("control_char_in_header_value", post(b"X-Bad: a\x01b\r\n")),
    ("bare_cr_in_header_value", post(b"X-Bad: a\rContent-Length: 36\r\n", SMUGGLED)),
    ("bare_lf_ending_a_header_line", post(b"X-Bad: a\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n" + SMUGGLED)),
    ("control_char_in_header_name", post(b"X-B\x01d: a\r\n")),
    ("space_inside_header_name", post(b"X Bad: a\r\n")),
    ("header_line_without_colon", post(b"X-No-Colon value\r\n")),
    ("empty_header_name", post(b": value\r\n")),
    ("request_line_with_two_spaces", post(b"", line=b"GET  /target HTTP/1.1")),
    ("invalid_method_characters", post(b"", line=b"G<T /target HTTP/1.1")),
    ("http11_request_without_host", b"GET /target HTTP/1.1\r\nX-A: b\r\n\r\n"),
    ("two_host_headers", b"GET /target HTTP/1.1\r\nHost: t\r\nHost: other.example\r\n\r\n"),
    ("absolute_form_target_disagreeing_with_host", b"GET http://other.example/target HTTP/1.1\r\nHost: t\r\n\r\n"),
    ("raw_tab_in_request_target", b"GET /tar\tget HTTP/1.1\r\nHost: t\r\n\r\n"),
    ("http10_with_transfer_encoding", post(b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n" + SMUGGLED, line=b"POST /target HTTP/1.0")),
    ("host_with_a_space", b"GET /target HTTP/1.1\r\nHost: t t\r\n\r\n"),
    ("host_with_a_slash", b"GET /target HTTP/1.1\r\nHost: t/evil\r\n\r\n"),
    ("host_with_userinfo", b"GET /target HTTP/1.1\r\nHost: user@t\r\n\r\n"),
    ("host_with_a_bad_port", b"GET /target HTTP/1.1\r\nHost: t:80x\r\n\r\n"),
]

# (id, chunked body after a valid head).
MALFORMED_CHUNKED_BODIES = [
    ("non_hex_chunk_size", b"zz\r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_overflowing_64_bits", b"fffffffffffffffff5\r\nhello\r\n0\r\n\r\n"),
    ("negative_chunk_size", b"-5\r\nhello\r\n0\r\n\r\n"),
    ("hex_prefixed_chunk_size", b"0x5\r\nhello\r\n0\r\n\r\n"),
    ("chunk_data_longer_than_its_size", b"3\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
    ("bare_lf_after_chunk_size", b"5\nhello\r\n0\r\n\r\n"),
    ("bare_lf_after_chunk_data", b"5\r\nhello\n0\r\n\r\n"),
    ("chunk_data_ended_by_other_than_crlf", b"5\r\nhelloXY0\r\n\r\n"),
]


def _assert_refused(ex):
    assert ex.closed, f"the connection stayed open; received {ex.data[:300]!r}"
    if ex.responses:
        assert len(ex.responses) == 1, [r.status for r in ex.responses]
        assert_json_error(ex.responses[0], 400, "Bad Request")
    else:
        assert ex.data == b"", f"closed after sending something that is not a response: {ex.data[:300]!r}"


def _assert_route_still_works(proxy, origin, expected_before: int):
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/ok"))
        resp = conn.read_response()
    assert resp.status == 200
    assert origin.request_count == expected_before + 1
    assert origin.paths()[-1] == "/ok"


@pytest.mark.parametrize("request_bytes_", [r for _, r in MALFORMED_HEADS], ids=[i for i, _ in MALFORMED_HEADS])
def test_malformed_head_is_rejected_and_never_forwarded(vortex, echo_origin, request_bytes_):
    proxy = vortex(simple_config(echo_origin.address))
    _assert_refused(exchange(proxy.port, request_bytes_, timeout=5))
    assert echo_origin.heads == 0, f"forwarded: {echo_origin.paths()}"
    _assert_route_still_works(proxy, echo_origin, 0)
    assert "/smuggled" not in echo_origin.paths()
    assert echo_origin.heads == 1


@pytest.mark.parametrize("body", [b for _, b in MALFORMED_CHUNKED_BODIES], ids=[i for i, _ in MALFORMED_CHUNKED_BODIES])
def test_malformed_chunked_body_is_rejected_and_never_completes_upstream(vortex, echo_origin, body):
    proxy = vortex(simple_config(echo_origin.address))
    ex = exchange(proxy.port, post(b"Transfer-Encoding: chunked\r\n", body), timeout=5)
    _assert_refused(ex)
    assert echo_origin.request_count == 0, f"forwarded: {echo_origin.paths()}"
    _assert_route_still_works(proxy, echo_origin, 0)
    assert "/smuggled" not in echo_origin.paths()

