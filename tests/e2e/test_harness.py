"""The end-to-end harness itself: a server that cannot start is reported with its output and stopped."""

from __future__ import annotations

import socket

import pytest

from tests.e2e.conftest import Registry


def test_a_server_that_cannot_start_is_reported_at_once_and_leaves_no_process(tmp_path):
    server = Registry(tmp_path / "registry", "sqlite:///" + str(tmp_path / "registry.db"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", server.port))
        taken.listen()
        with pytest.raises(RuntimeError, match="(?s)registry did not start.*in use"):
            server.start()
    assert server.process.poll() is not None
