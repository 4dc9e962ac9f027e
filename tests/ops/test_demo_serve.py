"""The README's first command ends in `flask --app registry demo --serve`: it must really serve."""

import os
import subprocess
import sys
import time

import requests

from tests.ports import free_port


def test_demo_serves_the_registry_on_loopback(tmp_path):
    port = free_port()
    env = {**os.environ, "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
           "REGISTRY_STORAGE_PATH": str(tmp_path / "blobs"), "REGISTRY_SECRET_KEY": "demo-test"}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "registry", "demo", "--serve", "--port", str(port)],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/api/v1/solutions", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            raise AssertionError(f"demo never served: {process.stdout.read() if process.poll() is not None else ''}")
        assert response.status_code == 200
        assert response.json()["total"] == 8  # the samples with a published release; two releases wait for review
    finally:
        process.terminate()
        process.wait(timeout=20)
