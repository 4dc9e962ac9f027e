"""Loopback ports for the servers the tests start, one range per pytest-xdist worker.

A port taken from the kernel with bind(("127.0.0.1", 0)) and closed again is free only for a moment:
another worker's server may be given the same one before ours binds it, and a health check then
answers from the other test's server (a token "unknown" to it, a page of someone else's data).
Ports here come from below the kernel's ephemeral range, which bind(0) and outgoing connections draw
from, in a slice of their own for each worker, so two workers never hand out the same port.
"""

from __future__ import annotations

import os
import random
import socket

_FIRST, _SLICE, _SLICES = 20_000, 2_000, 6  # 20000–31999: below Linux's default ephemeral range (32768–)
_given: set[int] = set()


def _worker_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # gw0, gw1, ...; unset when run without -n
    return int(name[2:]) % _SLICES if name[2:].isdigit() else 0


def free_port() -> int:
    """A port nobody listens on now, not handed out before in this process, in this worker's slice."""
    start = _FIRST + _worker_index() * _SLICE
    candidates = [port for port in range(start, start + _SLICE) if port not in _given]
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {start}–{start + _SLICE - 1}")
