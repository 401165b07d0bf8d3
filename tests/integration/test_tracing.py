"""Distributed tracing (issue 17; SPEC.md §2 tracing, §4 traceparent/tracestate, §6
vortex_tracing_spans_dropped_total): W3C trace context continued or started, one SERVER span
per request and one CLIENT span per upstream attempt exported over OTLP/HTTP protobuf to a
collector stand-in that decodes the real messages (otlp_collector.py), and a collector that is
slow, failing or absent never costs a request anything."""

from __future__ import annotations

import json
import re
import signal
import socket
import textwrap
import time

import httpx
import pytest

from otlp_collector import CLIENT, SERVER, STATUS_ERROR, OtlpCollector, StalledCollector, closed_port_endpoint
from test_metrics import scrape, value
from vortex_harness import simple_config

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$")
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def collector():
    c = OtlpCollector()
    yield c
    c.stop()


def tracing(endpoint: str, ratio: float = 1.0, queue_size: int | None = None) -> str:
    queue = f", queue_size: {queue_size}" if queue_size else ""
    return f'tracing: {{ otlp_endpoint: "{endpoint}", sample_ratio: {ratio}, service_name: edge{queue} }}\n'


def origin_header(response: httpx.Response, name: str) -> list[str]:
    return [v for k, v in response.json()["headers"] if k.lower() == name]


def origin_traceparent(response: httpx.Response) -> tuple[str, str, str]:
    values = origin_header(response, "traceparent")
    assert len(values) == 1, values
    m = TRACEPARENT.match(values[0])
    assert m, values[0]
    return m.group(1), m.group(2), m.group(3)


def get(proxy, path: str = "/", headers: dict | None = None, client: httpx.Client | None = None) -> httpx.Response:
    c = client or httpx
    r = c.get(f"http://127.0.0.1:{proxy.port}{path}", headers=headers or {}, timeout=10)
    return r


def kinds(spans, kind):
    return [s for s in spans if s.kind == kind]


def test_new_trace_parent_and_child_ids_line_up_with_what_the_origin_received(vortex, echo_origin, collector, tmp_path):
    log = tmp_path / "access.log"
    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint) + f'access_log: {{ path: "{log}" }}\n')
    r = get(proxy, "/users/7?x=1", {"user-agent": "trace-test/1"})
    assert r.status_code == 200
    trace_id, client_span_id, flags = origin_traceparent(r)
    assert flags == "01"
    assert origin_header(r, "tracestate") == []

    spans = collector.wait_for(lambda s: len([x for x in s if x.trace_id == trace_id]) >= 2)
    mine = [s for s in spans if s.trace_id == trace_id]
    (server,) = kinds(mine, SERVER)
    (client,) = kinds(mine, CLIENT)
    assert server.parent_span_id == ""  # a new trace: Vortex's span is the root
    assert client.span_id == client_span_id  # the origin's parent is the CLIENT span
    assert client.parent_span_id == server.span_id
    assert server.pb.start_time_unix_nano <= client.pb.start_time_unix_nano <= client.pb.end_time_unix_nano <= server.pb.end_time_unix_nano
    assert abs(server.pb.start_time_unix_nano / 1e9 - time.time()) < 60

    assert server.name == "GET /*"
    a = server.attributes
    assert a["http.request.method"] == "GET"
    assert a["http.response.status_code"] == 200
    assert a["url.path"] == "/users/7"
    assert a["http.route"] == "/*"
    assert a["network.protocol.version"] == "1.1"
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == proxy.port
    assert a["client.address"] == "127.0.0.1"
    assert a["user_agent.original"] == "trace-test/1"
    assert a["vortex.route"] == "r"
    assert a["vortex.cluster"] == "c"
    assert a["vortex.endpoint"] == echo_origin.address
    assert a["vortex.upstream.attempts"] == 1
    assert server.status_code == 0

    c = client.attributes
    assert client.name == "GET"
    assert c["http.response.status_code"] == 200
    host, port = echo_origin.address.rsplit(":", 1)
    assert c["server.address"] == host and c["server.port"] == int(port)
    assert c["vortex.cluster"] == "c"

    assert server.resource["service.name"] == "edge"
    assert server.resource["host.name"] == socket.gethostname()
    assert re.match(r"^\d+\.\d+\.\d+", server.resource["service.version"])
    assert collector.requests[0]["path"] == "/v1/traces"
    assert collector.requests[0]["content_type"] == "application/x-protobuf"

    proxy.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["trace_id"] for line in lines] == [trace_id]


def test_incoming_traceparent_is_continued_and_tracestate_kept(vortex, echo_origin, collector):
    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint, ratio=0.0))
    state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    r = get(proxy, "/", {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01", "tracestate": state})
    trace_id, parent, flags = origin_traceparent(r)
    assert trace_id == CALLER_TRACE  # the same trace
    assert parent != CALLER_SPAN  # Vortex's own span in between
    assert flags == "01"  # the caller's decision, though sample_ratio is 0
    assert origin_header(r, "tracestate") == [state]

    spans = collector.wait_for(lambda s: len(s) >= 2)
    (server,) = kinds(spans, SERVER)
    (client,) = kinds(spans, CLIENT)
    assert server.trace_id == client.trace_id == CALLER_TRACE
    assert server.parent_span_id == CALLER_SPAN
    assert client.parent_span_id == server.span_id and client.span_id == parent


@pytest.mark.parametrize(
    "bad",
    [
        f"00-{CALLER_TRACE.upper()}-{CALLER_SPAN}-01",  # upper case
        f"00-{'0' * 32}-{CALLER_SPAN}-01",  # zero trace id
        f"00-{CALLER_TRACE}-{'0' * 16}-01",  # zero parent id
        f"ff-{CALLER_TRACE}-{CALLER_SPAN}-01",  # version ff
        f"00-{CALLER_TRACE}-{CALLER_SPAN}-01-extra",  # version 00 is exactly 55 characters
        "garbage",
    ],
)
def test_invalid_traceparent_is_replaced_by_a_new_trace(vortex, echo_origin, collector, bad):
    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint))
    r = get(proxy, "/", {"traceparent": bad, "tracestate": "rojo=1"})
    trace_id, parent, flags = origin_traceparent(r)
    assert trace_id != CALLER_TRACE and parent != CALLER_SPAN
    assert origin_header(r, "tracestate") == []  # no valid parent: the caller's state goes too
    spans = collector.wait_for(lambda s: len(s) >= 2)
    (server,) = kinds(spans, SERVER)
    assert server.trace_id == trace_id and server.parent_span_id == ""


def test_a_later_traceparent_version_is_continued(vortex, echo_origin, collector):
    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint))
    r = get(proxy, "/", {"traceparent": f"01-{CALLER_TRACE}-{CALLER_SPAN}-01-future"})
    trace_id, _, _ = origin_traceparent(r)
    assert trace_id == CALLER_TRACE
    assert origin_header(r, "traceparent")[0].startswith("00-")  # sent on as the version it speaks


def test_unsampled_caller_is_propagated_but_not_exported(vortex, echo_origin, collector):
    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint, ratio=1.0))
    r = get(proxy, "/", {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-00"})
    trace_id, parent, flags = origin_traceparent(r)
    assert (trace_id, flags) == (CALLER_TRACE, "00")
    assert parent != CALLER_SPAN
    # A sampled request after it: once its spans are in, the unsampled one's would be too.
    marker, _, _ = origin_traceparent(get(proxy, "/marker"))
    collector.wait_for(lambda s: len([x for x in s if x.trace_id == marker]) == 2)
    assert collector.trace(CALLER_TRACE) == []


def test_sampling_ratio_holds_and_matches_what_was_propagated(vortex, echo_origin, collector):
    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint, ratio=0.25))
    n = 800
    sampled = set()
    with httpx.Client(trust_env=False) as client:
        for _ in range(n):
            trace_id, _, flags = origin_traceparent(get(proxy, "/", client=client))
            if flags == "01":
                sampled.add(trace_id)
    # Binomial(800, 0.25): mean 200, sd 12.2; +-6 sd cannot flake.
    assert 127 <= len(sampled) <= 273, len(sampled)
    spans = collector.wait_for(lambda s: len(s) >= 2 * len(sampled))
    time.sleep(0.7)  # a batch more, if any, would be a wrong one
    spans = collector.snapshot()
    assert {s.trace_id for s in kinds(spans, SERVER)} == sampled
    assert len(kinds(spans, SERVER)) == len(sampled) and len(kinds(spans, CLIENT)) == len(sampled)


def test_retries_are_separate_client_spans(vortex, echo_origin, collector):
    dead = closed_port_endpoint().removeprefix("http://")
    text = f"""
        routes:
          - {{ name: r, match: {{ path_prefix: "/" }}, cluster: c, retries: {{ attempts: 1, on: [connect_failure] }} }}
        clusters:
          - name: c
            lb: round_robin
            endpoints: [{{ address: "{dead}" }}, {{ address: "{echo_origin.address}" }}]
    """
    proxy = vortex(textwrap.dedent(text) + tracing(collector.endpoint))
    retried = None
    for _ in range(4):
        r = get(proxy, "/")
        assert r.status_code == 200
        trace_id, parent, _ = origin_traceparent(r)
        spans = collector.wait_for(lambda s: len([x for x in s if x.trace_id == trace_id and x.kind == SERVER]) == 1)
        clients = [s for s in spans if s.trace_id == trace_id and s.kind == CLIENT]
        if len(clients) == 2:
            retried = (trace_id, parent, clients, [s for s in spans if s.trace_id == trace_id and s.kind == SERVER][0])
            break
    assert retried, "round robin never put the dead endpoint first"
    trace_id, parent, clients, server = retried
    first, second = sorted(clients, key=lambda s: s.pb.start_time_unix_nano)
    assert first.span_id != second.span_id
    assert first.parent_span_id == second.parent_span_id == server.span_id
    assert first.status_code == STATUS_ERROR and first.attributes["vortex.endpoint"] == dead
    assert "http.request.resend_count" not in first.attributes
    assert second.attributes["http.request.resend_count"] == 1
    assert second.attributes["http.response.status_code"] == 200
    assert second.span_id == parent  # the origin saw the attempt that reached it
    assert server.attributes["vortex.upstream.attempts"] == 2


def test_upstream_failure_and_no_endpoint_mark_errors(vortex, collector):
    dead = closed_port_endpoint().removeprefix("http://")
    text = f"""
        routes:
          - {{ name: r, match: {{ path_prefix: "/" }}, cluster: c, retries: {{ attempts: 0 }} }}
        clusters:
          - name: c
            endpoints: [{{ address: "{dead}" }}]
            circuit_breaker: {{ consecutive_failures: 1, open_ms: 60000 }}
    """
    proxy = vortex(textwrap.dedent(text) + tracing(collector.endpoint))
    assert get(proxy, "/").status_code == 502
    assert get(proxy, "/").status_code == 503  # the breaker opened
    spans = collector.wait_for(lambda s: len(kinds(s, SERVER)) == 2)
    by_status = {s.attributes["http.response.status_code"]: s for s in kinds(spans, SERVER)}
    assert by_status[502].status_code == STATUS_ERROR
    (client,) = [s for s in kinds(spans, CLIENT) if s.trace_id == by_status[502].trace_id]
    assert client.status_code == STATUS_ERROR and "http.response.status_code" not in client.attributes
    assert by_status[503].status_code == STATUS_ERROR
    assert "vortex.no_endpoint_available" in by_status[503].events
    assert [s for s in kinds(spans, CLIENT) if s.trace_id == by_status[503].trace_id] == []


def test_rate_limited_request_has_an_event_and_no_client_span(vortex, echo_origin, collector):
    text = simple_config(
        echo_origin.address,
        route="rate_limit: p",
        extra="""
            rate_limits:
              policies:
                - { name: p, key: route, rate: 1, period_ms: 60000, burst: 0 }
        """,
    )
    proxy = vortex(text + tracing(collector.endpoint))
    assert get(proxy, "/").status_code == 200
    assert get(proxy, "/").status_code == 429
    spans = collector.wait_for(lambda s: len(kinds(s, SERVER)) == 2)
    limited = [s for s in kinds(spans, SERVER) if s.attributes["http.response.status_code"] == 429][0]
    assert "vortex.rate_limited" in limited.events
    assert limited.attributes["vortex.rate_limit"] == "limited"
    assert limited.status_code == 0  # a 4xx is the client's, not an error of the server
    assert [s for s in spans if s.trace_id == limited.trace_id and s.kind == CLIENT] == []
    allowed = [s for s in kinds(spans, SERVER) if s.attributes["http.response.status_code"] == 200][0]
    assert allowed.attributes["vortex.rate_limit"] == "allowed"


def _requests_all_fast_and_ok(proxy, n: int) -> float:
    worst = 0.0
    with httpx.Client(trust_env=False) as client:
        for _ in range(n):
            start = time.monotonic()
            r = get(proxy, "/", client=client)
            worst = max(worst, time.monotonic() - start)
            assert r.status_code == 200
            origin_traceparent(r)
    return worst


def test_absent_collector_costs_requests_nothing(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address) + tracing(closed_port_endpoint()))
    worst = _requests_all_fast_and_ok(proxy, 300)
    # The exporter's connect attempts and retries happen on its own thread: no request waits
    # on them (the exporter's connect timeout is 1 s).
    assert worst < 0.5, worst


def test_stalled_collector_costs_requests_nothing_and_drops_are_counted(vortex, echo_origin):
    stalled = StalledCollector()
    try:
        proxy = vortex(simple_config(echo_origin.address) + tracing(stalled.endpoint, queue_size=4))
        n = 400
        start = time.monotonic()
        worst = _requests_all_fast_and_ok(proxy, n)
        assert worst < 0.5, worst
        # The exporter takes at most one batch (512 spans) before it posts and hangs on the
        # stalled collector for its 5 s timeout; the 4-span queue then overflows.
        dropped = value(scrape(proxy), "vortex_tracing_spans_dropped_total")
        if time.monotonic() - start < 5:
            assert dropped >= 2 * n - 512 - 8, dropped
        else:
            assert dropped > 0
    finally:
        stalled.stop()


def test_spans_dropped_counter_is_zero_when_the_collector_keeps_up(vortex, echo_origin, collector):
    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint))
    _requests_all_fast_and_ok(proxy, 50)
    collector.wait_for(lambda s: len(s) == 100)
    assert value(scrape(proxy), "vortex_tracing_spans_dropped_total") == 0


def test_export_retries_after_503_honouring_retry_after(vortex, echo_origin):
    collector = OtlpCollector(statuses=[503], retry_after=1)
    try:
        proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint))
        trace_id, _, _ = origin_traceparent(get(proxy, "/"))
        spans = collector.wait_for(lambda s: len(s) == 2)
        assert {s.trace_id for s in spans} == {trace_id}
        first, second = collector.requests[:2]
        assert first["status"] == 503 and second["status"] == 200
        assert second["at"] - first["at"] >= 0.9  # Retry-After: 1
        time.sleep(0.5)
        assert len(collector.snapshot()) == 2  # sent again once, not twice
    finally:
        collector.stop()


def test_queued_spans_are_flushed_on_graceful_shutdown(vortex, echo_origin, collector):
    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint))
    traces = {origin_traceparent(get(proxy, f"/{i}"))[0] for i in range(3)}
    proxy.signal(signal.SIGTERM)  # before the batch's 500 ms are up
    assert proxy.wait_exit(15) == 0
    proxy.stopped = True
    spans = collector.snapshot()
    assert {s.trace_id for s in spans} == traces and len(spans) == 6


def test_tracing_off_leaves_trace_headers_alone(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    r = get(proxy, "/")
    assert origin_header(r, "traceparent") == []
    sent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    r = get(proxy, "/", {"traceparent": sent, "tracestate": "a=1"})
    assert origin_header(r, "traceparent") == [sent] and origin_header(r, "tracestate") == ["a=1"]


def test_reload_turns_tracing_on_and_changes_the_ratio(vortex, echo_origin, collector):
    from test_admin import ctl

    proxy = vortex(simple_config(echo_origin.address))
    assert origin_header(get(proxy, "/"), "traceparent") == []
    proxy.config_path.write_text(proxy.config_text + tracing(collector.endpoint, ratio=1.0))
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stdout + out.stderr
    trace_id, _, flags = origin_traceparent(get(proxy, "/"))
    assert flags == "01"
    collector.wait_for(lambda s: len([x for x in s if x.trace_id == trace_id]) == 2)
    proxy.config_path.write_text(proxy.config_text + tracing(collector.endpoint, ratio=0.0))
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stdout + out.stderr
    _, _, flags = origin_traceparent(get(proxy, "/"))
    assert flags == "00"


def test_http2_request_is_traced_with_its_protocol_version(vortex, echo_origin, collector):
    import subprocess

    proxy = vortex(simple_config(echo_origin.address) + tracing(collector.endpoint))
    out = subprocess.run(
        ["curl", "-s", "--http2-prior-knowledge", f"http://127.0.0.1:{proxy.port}/h2"], capture_output=True, text=True, timeout=15
    )
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    (tp,) = [v for k, v in body["headers"] if k.lower() == "traceparent"]
    trace_id = TRACEPARENT.match(tp).group(1)
    spans = collector.wait_for(lambda s: len([x for x in s if x.trace_id == trace_id]) == 2)
    (server,) = kinds([s for s in spans if s.trace_id == trace_id], SERVER)
    assert server.attributes["network.protocol.version"] == "2"
    assert server.attributes["user_agent.original"].startswith("curl/")
