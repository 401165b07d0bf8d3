"""gRPC end to end through Vortex: a real grpcio server (generic handlers, bytes in and out)
behind a `protocol: h2c` cluster, and a grpcio client talking to Vortex over h2c prior
knowledge (insecure channel) and over TLS with ALPN h2 (secure channel trusting the test
certificate). Unary, server streaming, client streaming, ping-pong bidi streaming (needs the
full-duplex exchange), error status and message, and 1 MiB messages (flow control)."""

from __future__ import annotations

import threading
from concurrent import futures

import grpc
import pytest

from tls_certs import make_cert, tls_listener
from vortex_harness import free_port, simple_config

SERVICE = "vx.test.Echo"
BIG = 1 << 20


def _identity(b):
    return b


def _handlers():
    def unary(request, context):
        if request == b"fail":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "denied: caf\u00e9 & co")
        return b"echo:" + request

    def server_stream(request, context):
        n = int(request)
        for i in range(n):
            yield b"item-%d" % i

    def client_stream(request_iterator, context):
        total = 0
        count = 0
        for message in request_iterator:
            total += len(message)
            count += 1
        return b"%d/%d" % (count, total)

    def bidi(request_iterator, context):
        for message in request_iterator:
            yield b"pong:" + message

    def big(request, context):
        return bytes(reversed(request)) + b"!" * BIG

    return grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(unary, _identity, _identity),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, _identity, _identity),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, _identity, _identity),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi, _identity, _identity),
        "Big": grpc.unary_unary_rpc_method_handler(big, _identity, _identity),
    })


@pytest.fixture
def grpc_origin():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                         options=[("grpc.max_receive_message_length", 8 << 20),
                                  ("grpc.max_send_message_length", 8 << 20)])
    server.add_generic_rpc_handlers((_handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


@pytest.fixture(params=["h2c", "tls"])
def channel(request, vortex, grpc_origin, tmp_path):
    options = [("grpc.max_receive_message_length", 8 << 20), ("grpc.max_send_message_length", 8 << 20),
               ("grpc.enable_http_proxy", 0)]
    config = simple_config(grpc_origin, cluster="protocol: h2c", route="timeout_ms: 10000")
    if request.param == "h2c":
        proxy = vortex(config)
        ch = grpc.insecure_channel(f"127.0.0.1:{proxy.port}", options=options)
    else:
        cert, key = make_cert(tmp_path, "grpc", "localhost", ["localhost", "127.0.0.1"])
        port = free_port()
        proxy = vortex(tls_listener(port, [(cert, key, ["*"])], alpn="[h2]") + config, port=port)
        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        ch = grpc.secure_channel(f"127.0.0.1:{port}", creds,
                                 options=options + [("grpc.ssl_target_name_override", "localhost")])
    yield ch
    ch.close()


def _call(channel, kind, name):
    return getattr(channel, kind)(f"/{SERVICE}/{name}", request_serializer=_identity,
                                  response_deserializer=_identity)


def test_unary(channel):
    assert _call(channel, "unary_unary", "Unary")(b"hello", timeout=10) == b"echo:hello"


def test_server_streaming(channel):
    got = list(_call(channel, "unary_stream", "ServerStream")(b"25", timeout=10))
    assert got == [b"item-%d" % i for i in range(25)]


def test_client_streaming(channel):
    messages = [b"x" * (i * 1000) for i in range(1, 21)]
    assert _call(channel, "stream_unary", "ClientStream")(iter(messages), timeout=10) == \
        b"%d/%d" % (len(messages), sum(map(len, messages)))


def test_bidi_ping_pong(channel):
    """The client sends the next message only after the answer to the previous one: this
    deadlocks unless the request and the response flow at the same time."""
    outbox: list[bytes] = []
    ready = threading.Condition()
    done = object()

    def requests():
        for i in range(10):
            yield b"ping-%d" % i
            with ready:
                if not ready.wait_for(lambda: len(outbox) > i, timeout=10):
                    return  # the answer never came: the assertion below tells
    call = _call(channel, "stream_stream", "Bidi")(requests(), timeout=20)
    for answer in call:
        with ready:
            outbox.append(answer)
            ready.notify_all()
    assert outbox == [b"pong:ping-%d" % i for i in range(10)]
    assert done is not None


def test_error_status_and_message_arrive_intact(channel):
    with pytest.raises(grpc.RpcError) as err:
        _call(channel, "unary_unary", "Unary")(b"fail", timeout=10)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert err.value.details() == "denied: caf\u00e9 & co"


def test_one_mebibyte_messages_both_ways(channel):
    request = bytes(range(256)) * (BIG // 256)
    answer = _call(channel, "unary_unary", "Big")(request, timeout=20)
    assert answer == bytes(reversed(request)) + b"!" * BIG


def test_many_concurrent_calls(channel):
    unary = _call(channel, "unary_unary", "Unary")
    calls = [unary.future(b"m%d" % i, timeout=15) for i in range(100)]
    assert [c.result() for c in calls] == [b"echo:m%d" % i for i in range(100)]
