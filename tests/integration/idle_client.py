"""The line protocol of the idle-connection clients (bench/macro/idle_conns.py for TCP kinds,
tests/h3client -idle for HTTP/3): a process that opens N connections, prints "HELD <ok>
<failed>", then answers one line per command ("verify", "latency K", "close")."""

from __future__ import annotations

import subprocess
import time


class IdleClient:
    def __init__(self, argv: list[str]):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def answer(self) -> list[str]:
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the idle client ended: {self.proc.stderr.read()[-2000:]}")
        return line.split()

    def command(self, text: str) -> list[str]:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.answer()

    def close(self):
        if self.proc.poll() is None:
            self.command("close")
        self.proc.wait(30)


def settled_rss(proc, seconds: float = 1.0) -> int:
    """RSS after the allocator has had a moment (its purging runs in the background)."""
    time.sleep(seconds)
    return proc.rss()


def held_rss(proc, before: int, count: int, budget: int, seconds: float = 8.0) -> int:
    """RSS once `count` idle connections have settled: the lowest reading within `seconds`,
    looked at until one is within `budget` per connection. Settling takes a while: a connection
    parks 1-2 s after its last answer, and the allocator's background thread returns what it
    freed over the next second or two (jemalloc's dirty_decay_ms, then its thread's wake-up)."""
    deadline = time.monotonic() + seconds
    held = proc.rss()
    while (held - before) / count > budget and time.monotonic() < deadline:
        held = min(held, settled_rss(proc, 0.25))
    return held


def assert_rss_returns(proc, before: int, held: int, what: str):
    """Within 15 s of closing the connections RSS is back near `before` (the slack is what the
    allocator's thread caches and the worker's buffer pools may keep)."""
    slack = max((held - before) * 0.25, 4 * 1024 * 1024)
    deadline = time.monotonic() + 15
    after = proc.rss()
    while after - before > slack and time.monotonic() < deadline:
        after = settled_rss(proc, 0.5)
    assert after - before <= slack, (
        f"{what}: RSS {before / 2**20:.1f} MiB before, {held / 2**20:.1f} MiB held, "
        f"{after / 2**20:.1f} MiB 15 s after closing")
