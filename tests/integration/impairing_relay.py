"""ImpairingRelay: a UDP relay between one client and a server that drops and reorders datagrams
in both directions, what `tc qdisc ... netem loss reorder` would do in a network namespace. This
machine's kernel has no sch_netem module, so the impairment runs in user space; the datagrams
themselves are the real ones, untouched."""
from __future__ import annotations

import random
import select
import socket
import threading
import time


class ImpairingRelay:
    def __init__(self, server_port: int, *, loss: float, reorder: float, delay_s: float = 0.015, seed: int = 7):
        self.loss, self.reorder, self.delay_s = loss, reorder, delay_s
        self.rng = random.Random(seed)  # a fixed seed: a failure replays the same impairment
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(("127.0.0.1", server_port))
        self.client: tuple[str, int] | None = None
        self.held: list[tuple[float, socket.socket, bytes, tuple | None]] = []
        self.counts = {"passed": 0, "dropped": 0, "reordered": 0}
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def close(self):
        self.stopped = True
        self.thread.join(5)
        self.front.close()
        self.back.close()

    def _pass_on(self, out: socket.socket, data: bytes, to):
        roll = self.rng.random()
        if roll < self.loss:
            self.counts["dropped"] += 1
        elif roll < self.loss + self.reorder:
            # Held back while later datagrams overtake it.
            self.counts["reordered"] += 1
            self.held.append((time.monotonic() + self.delay_s, out, data, to))
        else:
            self.counts["passed"] += 1
            self._send(out, data, to)

    @staticmethod
    def _send(out: socket.socket, data: bytes, to):
        try:
            out.sendto(data, to) if to else out.send(data)
        except OSError:
            pass  # the server's port refused (ICMP): a lost datagram like any other

    def _run(self):
        while not self.stopped:
            now = time.monotonic()
            due = [h for h in self.held if h[0] <= now]
            self.held = [h for h in self.held if h[0] > now]
            for _, out, data, to in due:
                self._send(out, data, to)
            wait = min([h[0] for h in self.held], default=now + 0.05) - now
            ready, _, _ = select.select([self.front, self.back], [], [], max(wait, 0.001))
            for sock in ready:
                try:
                    data, sender = sock.recvfrom(65536)
                except OSError:
                    continue
                if sock is self.front:
                    self.client = sender
                    self._pass_on(self.back, data, None)
                elif self.client is not None:
                    self._pass_on(self.front, data, self.client)
