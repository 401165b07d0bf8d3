#!/usr/bin/python3
"""Writes the seed corpora of the HTTP/2 fuzz targets: tests/fuzz/corpus/h2_server/ (what a
client sends after its preface and first SETTINGS, which the target sends itself) and
tests/fuzz/corpus/h2_client/ (what a server sends to Vortex's upstream session, from its own
preface SETTINGS on). Frames are built with hyperframe and header blocks with hpack (Debian's
python3-hyperframe, python3-hpack): valid exchanges, the protocol errors nghttp2 must refuse,
and the floods the session's guards must stop.

Run it again after changing it: /usr/bin/python3 tests/fuzz/make_h2_seeds.py
"""

import os

from hpack import Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame,
                              PingFrame, PriorityFrame, PushPromiseFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)

HERE = os.path.dirname(os.path.abspath(__file__))

CANCEL, REFUSED_STREAM, NO_ERROR, PROTOCOL_ERROR = 0x8, 0x7, 0x0, 0x1


def request_fields(path="/", method="GET", extra=()):
    return [(":method", method), (":scheme", "https"), (":authority", "a.example"),
            (":path", path)] + list(extra)


class Conversation:
    """One peer's frames, with the HPACK encoder state a real peer would carry along."""

    def __init__(self):
        self.encoder = Encoder()
        self.frames = []

    def add(self, frame):
        self.frames.append(frame.serialize())
        return self

    def raw(self, data):
        self.frames.append(data)
        return self

    def headers(self, stream_id, fields, end_stream=False, flags=(), split=0):
        block = self.encoder.encode(fields)
        flags = set(flags) | ({"END_STREAM"} if end_stream else set())
        if split == 0:
            return self.add(HeadersFrame(stream_id, block, flags=flags | {"END_HEADERS"}))
        # The block in split + 1 pieces: HEADERS, then CONTINUATIONs.
        size = max(1, len(block) // (split + 1))
        pieces = [block[i:i + size] for i in range(0, len(block), size)] or [b""]
        self.add(HeadersFrame(stream_id, pieces[0], flags=flags))
        for i, piece in enumerate(pieces[1:], 1):
            last = i == len(pieces) - 1
            self.add(ContinuationFrame(stream_id, piece, flags={"END_HEADERS"} if last else set()))
        return self

    def data(self, stream_id, payload, end_stream=False, pad=0):
        frame = DataFrame(stream_id, payload, flags={"END_STREAM"} if end_stream else set())
        if pad:
            frame.flags.add("PADDED")
            frame.pad_length = pad
        return self.add(frame)

    def bytes(self):
        return b"".join(self.frames)


def settings(**values):
    names = {"header_table_size": SettingsFrame.HEADER_TABLE_SIZE,
             "enable_push": SettingsFrame.ENABLE_PUSH,
             "max_concurrent_streams": SettingsFrame.MAX_CONCURRENT_STREAMS,
             "initial_window_size": SettingsFrame.INITIAL_WINDOW_SIZE,
             "max_frame_size": SettingsFrame.MAX_FRAME_SIZE,
             "max_header_list_size": SettingsFrame.MAX_HEADER_LIST_SIZE}
    return SettingsFrame(0, settings={names[k]: v for k, v in values.items()})


def ack():
    return SettingsFrame(0, flags={"ACK"})


def server_seeds():
    """The client's side: requests to Vortex's downstream session."""
    s = {}
    c = Conversation().add(ack()).headers(1, request_fields(), end_stream=True)
    s["get"] = c.bytes()

    c = Conversation().add(ack()).headers(1, request_fields("/up", "POST",
                                                              [("content-length", "10")]))
    c.data(1, b"hello").data(1, b"world", end_stream=True)
    s["post_with_data"] = c.bytes()

    c = Conversation().add(ack()).headers(1, request_fields("/grpc", "POST",
                                                              [("te", "trailers"),
                                                               ("content-type", "application/grpc")]))
    c.data(1, b"\x00\x00\x00\x00\x02hi").headers(1, [("grpc-timeout", "1S")], end_stream=True)
    s["post_with_trailers"] = c.bytes()

    c = Conversation().add(ack())
    for sid in (1, 3, 5, 7, 9):
        c.headers(sid, request_fields(f"/s{sid}"), end_stream=sid != 5)
    c.data(5, b"body of five", end_stream=True)
    s["many_streams"] = c.bytes()

    c = Conversation().add(ack()).headers(1, request_fields("/c", extra=[("x-long", "v" * 300)]),
                                          end_stream=True, split=3)
    s["continuation"] = c.bytes()

    c = Conversation().add(ack())
    h = HeadersFrame(1, c.encoder.encode(request_fields("/p", "PUT")),
                     flags={"END_HEADERS", "PADDED", "PRIORITY"})
    h.pad_length, h.depends_on, h.stream_weight, h.exclusive = 7, 0, 200, True
    c.add(h).data(1, b"padded", end_stream=True, pad=20)
    s["padded_and_priority"] = c.bytes()

    c = Conversation().add(settings(initial_window_size=1, max_frame_size=16384,
                                    header_table_size=0, max_concurrent_streams=2))
    c.add(ack()).add(PingFrame(0, b"12345678")).add(WindowUpdateFrame(0, 1 << 20))
    c.headers(1, request_fields("/w"), end_stream=True).add(WindowUpdateFrame(1, 100))
    c.add(PingFrame(0, b"87654321", flags={"ACK"}))
    s["settings_window_ping"] = c.bytes()

    # Past the tight settings' 1024-byte stream window (the target's other half has 64 KiB).
    c = Conversation().add(ack()).headers(1, request_fields("/big", "POST"))
    for _ in range(3):
        c.data(1, b"x" * 1000)
    c.data(1, b"", end_stream=True)
    s["upload_past_the_window"] = c.bytes()

    c = Conversation().add(ack()).headers(1, request_fields("/r", "POST"))
    c.add(RstStreamFrame(1, CANCEL)).data(1, b"after reset")
    s["reset_then_data"] = c.bytes()

    c = Conversation().add(ack()).headers(1, request_fields(), end_stream=True)
    c.add(GoAwayFrame(0, last_stream_id=1, error_code=NO_ERROR, additional_data=b"bye"))
    s["goaway"] = c.bytes()

    c = Conversation().add(ack())
    c.headers(1, [(":method", "GET"), (":path", "/"), ("Upper", "x"), ("connection", "close"),
                  ("te", "gzip"), (":scheme", "https")], end_stream=True)
    c.headers(3, [(":method", "GET"), (":scheme", "https")], end_stream=True)  # no :path
    c.headers(2, request_fields(), end_stream=True)  # an even stream: the server's
    s["malformed_requests"] = c.bytes()

    c = Conversation().add(ack()).headers(1, request_fields(), end_stream=True)
    c.headers(1, request_fields(), end_stream=True)  # HEADERS again on a closed stream
    c.data(7, b"idle stream")
    c.add(WindowUpdateFrame(0, 0x7fffffff)).add(WindowUpdateFrame(0, 0x7fffffff))
    s["stream_errors"] = c.bytes()

    c = Conversation().add(ack()).headers(1, request_fields("/e", "POST",
                                                              [("expect", "100-continue"),
                                                               ("content-length", "4")]))
    c.data(1, b"data", end_stream=True)
    s["expect_continue"] = c.bytes()

    c = Conversation().add(ack())
    c.headers(1, request_fields(extra=[(f"x-field-{i}", str(i)) for i in range(120)]),
              end_stream=True)
    s["too_many_fields"] = c.bytes()

    # An HPACK bomb: one big field enters the dynamic table, then small frames repeat it.
    c = Conversation().add(ack())
    c.headers(1, request_fields(extra=[("x-bomb", "b" * 3000)]), end_stream=True)
    block = c.encoder.encode(request_fields(extra=[("x-bomb", "b" * 3000)] * 40))
    c.add(HeadersFrame(3, block, flags={"END_HEADERS", "END_STREAM"}))
    s["hpack_bomb"] = c.bytes()

    c = Conversation().add(ack())
    c.raw(PushPromiseFrame(1, promised_stream_id=2, data=b"\x82").serialize())
    s["push_promise_from_client"] = c.bytes()

    c = Conversation().add(ack()).raw(b"\x00\x00\x03\xfa\x00\x00\x00\x00\x00abc")  # unknown type
    c.headers(1, request_fields(), end_stream=True)
    s["unknown_frame_type"] = c.bytes()

    # Floods (SPEC: the guards answer GOAWAY ENHANCE_YOUR_CALM).
    c = Conversation().add(ack())
    for i in range(150):
        sid = 2 * i + 1
        c.headers(sid, request_fields()).add(RstStreamFrame(sid, CANCEL))
    s["flood_rapid_reset"] = c.bytes()

    c = Conversation().add(ack())
    for _ in range(250):
        c.add(settings(max_concurrent_streams=100))
    s["flood_settings"] = c.bytes()

    c = Conversation().add(ack())
    for i in range(250):
        c.add(PingFrame(0, i.to_bytes(8, "big")))
    s["flood_ping"] = c.bytes()

    c = Conversation().add(ack()).headers(1, request_fields("/e", "POST"))
    for _ in range(150):
        c.data(1, b"")
    s["flood_empty_data"] = c.bytes()

    c = Conversation().add(ack())
    for i in range(1100):
        c.add(PriorityFrame(2 * i + 1, depends_on=0, stream_weight=16))
    s["flood_priority"] = c.bytes()

    c = Conversation().add(ack()).add(HeadersFrame(1, b"", flags=set()))
    for _ in range(20):
        c.add(ContinuationFrame(1, b""))
    s["flood_continuation"] = c.bytes()
    return s


def response_fields(status="200", extra=()):
    return [(":status", status)] + list(extra)


def client_seeds():
    """The server's side: responses to Vortex's upstream session, which has sent requests on
    streams 1, 3 and 5 (h2_client_fuzz.cc)."""
    s = {}

    def start(**values):
        return Conversation().add(settings(**values)).add(ack())

    c = start(max_concurrent_streams=100).headers(1, response_fields(extra=[("content-type", "text/plain")]))
    c.data(1, b"hello", end_stream=True)
    s["response"] = c.bytes()

    c = start().headers(1, response_fields(extra=[("content-type", "application/grpc")]))
    c.data(1, b"\x00\x00\x00\x00\x02ok").headers(1, [("grpc-status", "0"), ("grpc-message", "")],
                                                 end_stream=True)
    s["response_with_trailers"] = c.bytes()

    c = start().headers(1, response_fields("100")).headers(1, response_fields("103", [("link", "</a>")]))
    c.headers(1, response_fields("204"), end_stream=True)
    s["interim_then_final"] = c.bytes()

    c = start()
    for sid in (1, 3, 5):
        c.headers(sid, response_fields(extra=[("content-length", "3")]))
    for sid in (5, 1, 3):
        c.data(sid, b"abc", end_stream=True)
    s["three_streams_interleaved"] = c.bytes()

    c = start().headers(1, response_fields(extra=[("x-long", "v" * 500)]), split=2)
    c.data(1, b"x" * 1000, pad=100).data(1, b"", end_stream=True)
    s["continuation_and_padding"] = c.bytes()

    c = start(initial_window_size=0, max_frame_size=16384, header_table_size=0)
    c.add(WindowUpdateFrame(0, 1000)).add(WindowUpdateFrame(1, 10)).add(PingFrame(0, b"pingpong"))
    c.headers(1, response_fields(), end_stream=True)
    s["settings_window_ping"] = c.bytes()

    c = start().headers(1, response_fields()).add(RstStreamFrame(1, REFUSED_STREAM))
    s["reset_refused"] = c.bytes()

    c = start().add(GoAwayFrame(0, last_stream_id=1, error_code=NO_ERROR))
    c.headers(1, response_fields(), end_stream=True).headers(3, response_fields(), end_stream=True)
    s["goaway_then_answers"] = c.bytes()

    c = start().add(GoAwayFrame(0, last_stream_id=0, error_code=PROTOCOL_ERROR, additional_data=b"no"))
    s["goaway_refusing_all"] = c.bytes()

    c = start()
    c.raw(PushPromiseFrame(1, promised_stream_id=2, data=c.encoder.encode(
        [(":method", "GET"), (":scheme", "https"), (":authority", "a"), (":path", "/pushed")])).serialize())
    s["push_promise_refused"] = c.bytes()

    c = start().data(1, b"data before any head").headers(3, response_fields(extra=[("content-length", "10")]))
    c.data(3, b"short", end_stream=True)
    c.headers(5, [("content-type", "x")], end_stream=True)  # no :status
    s["malformed_responses"] = c.bytes()

    c = start().headers(2, response_fields(), end_stream=True)  # a stream it never opened
    c.headers(1, [(":status", "2000")], end_stream=True)
    s["wrong_streams_and_status"] = c.bytes()

    c = start().headers(1, response_fields())  # past the tight settings' stream window
    for _ in range(3):
        c.data(1, b"y" * 1000)
    s["body_past_the_window"] = c.bytes()

    c = Conversation().add(ack())  # no SETTINGS first: not an HTTP/2 server
    c.headers(1, response_fields(), end_stream=True)
    s["no_preface"] = c.bytes()
    s["http1_answer"] = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"

    c = start()
    for i in range(150):
        c.add(RstStreamFrame(2 * i + 1, CANCEL))
    s["flood_resets"] = c.bytes()

    c = start()
    for i in range(250):
        c.add(PingFrame(0, i.to_bytes(8, "big")))
    s["flood_ping"] = c.bytes()
    return s


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("h2_server", server_seeds())
    write("h2_client", client_seeds())
