"""The test servers' ports: each pytest-xdist worker draws from its own slice, never one handed out already."""

from __future__ import annotations

import socket

from tests import ports


def test_workers_draw_from_slices_that_do_not_overlap(monkeypatch):
    drawn = {}
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        drawn[worker] = {ports.free_port() for _ in range(20)}
    assert len(drawn["gw0"]) == len(drawn["gw1"]) == 20  # never the same port twice
    assert max(drawn["gw0"]) < min(drawn["gw1"])
    ephemeral_low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    assert max(drawn["gw1"]) < ephemeral_low


def test_a_port_someone_listens_on_is_not_handed_out(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    monkeypatch.setattr(ports.random, "shuffle", lambda candidates: candidates.sort())  # lowest first
    lowest = ports.free_port()
    with socket.create_server(("127.0.0.1", lowest + 1)) as taken:  # the next one it would give
        assert ports.free_port() not in (lowest, taken.getsockname()[1])
