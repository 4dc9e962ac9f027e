"""Benchmark publishing: upload and download of large releases, side by side with pypiserver and the raw disk.

    python bench/bench_publishing.py              # archives of 10, 100 and 500 MB
    python bench/bench_publishing.py 10 100       # quicker
    python bench/bench_publishing.py 10 --runs 5  # more repetitions

For every size the same archive (a valid solution package plus an incompressible
``data/payload.bin``) is uploaded to and downloaded from

* our registry under gunicorn (1 sync worker), set up with the real operator commands;
* pypiserver (auth disabled, gunicorn too), the way twine uploads;
* the raw disk: ``cp`` + ``sha256sum`` as the upload baseline, ``cat > /dev/null`` for download;
* a bare ``sendfile()`` server, to show what loopback and the client allow for downloads.

Both servers get the same client: a streaming multipart body with a precomputed
Content-Length sent through ``http.client``, so the client never holds an archive in
memory and favours neither server. Peak RSS (``VmHWM``) of each server's worker is read
after a warm-up upload and after each size. Each run uploads once and downloads
three times (downloads are cheap, loopback throughput is noisy); medians are reported.
MB means 2**20 bytes throughout.
Needs pypiserver (``pip install pypiserver``) and Linux (``/proc``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import io
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from common import markdown_table, write_report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "publishing"))
from packages import package_files  # noqa: E402  (test helper module, not a package)

T = TypeVar("T")
NAME = "bench-solution"
MB = 1024 * 1024
CHUNK = MB
DEFAULT_SIZES = (10, 100, 500)
FULL_RUNS_UP_TO_MB = 100  # larger archives are measured once unless --runs says otherwise
DOWNLOADS_PER_RUN = 3  # downloads are cheap and loopback throughput is noisy, so each run repeats them
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 900.0

# ours/pypiserver upload throughput, at least: 2x for small archives, 2.5x from 100 MB (issue #17)
TARGET_UPLOAD_RATIO = {10: 2.0, 100: 2.5}
TARGET_FLOOR_SHARE = 0.8  # ours/(cp+sha256sum) upload throughput from 500 MB, at least


def upload_target(size_mb: int) -> float:
    return TARGET_UPLOAD_RATIO[10] if size_mb < 100 else TARGET_UPLOAD_RATIO[100]


TARGET_DOWNLOAD_RATIO = 2.0  # raw read/ours download throughput, at most
TARGET_RSS_GROWTH_MB = 64.0


# --- the package ------------------------------------------------------------------------

class RandomReader:
    """An incompressible file of ``size`` bytes, generated as it is read."""

    def __init__(self, size: int):
        self.remaining = size

    def read(self, n: int = CHUNK) -> bytes:
        n = min(n if n >= 0 else self.remaining, self.remaining)
        self.remaining -= n
        return os.urandom(n)


class HashingWriter:
    """Passes writes through to a file and hashes them, so the archive's digest costs no second pass."""

    def __init__(self, target: BinaryIO):
        self.target = target
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


def write_archive(path: Path, version: str, payload_mb: int) -> str:
    """Write a valid ``<name>-<version>/`` package with a ``payload_mb`` MB random payload; return its sha256."""
    root = f"{NAME}-{version}"
    files = package_files(NAME, version)
    with open(path, "wb") as raw:
        hashing = HashingWriter(raw)
        # Level 1: random data does not compress anyway, and building the archive is not what we measure.
        with gzip.GzipFile(fileobj=hashing, mode="wb", compresslevel=1, mtime=0) as packed, \
                tarfile.open(fileobj=packed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(files):
                tar.addfile(_member(f"{root}/{name}", len(files[name])), io.BytesIO(files[name]))
            payload_size = payload_mb * MB
            tar.addfile(_member(f"{root}/data/payload.bin", payload_size), RandomReader(payload_size))
    return hashing.hash.hexdigest()


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, int(time.time())
    return info


# --- the client -------------------------------------------------------------------------

@dataclass
class MultipartUpload:
    """A multipart/form-data body with text fields and one file, streamed from disk with a known length."""

    path: Path
    file_field: str
    filename: str
    fields: dict[str, str] = field(default_factory=dict)
    boundary: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self) -> bytes:
        parts = [f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                 for name, value in self.fields.items()]
        parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{self.file_field}"; '
                     f'filename="{self.filename}"\r\nContent-Type: application/gzip\r\n\r\n')
        return "".join(parts).encode()

    def _tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    def __len__(self) -> int:
        return len(self._head()) + self.path.stat().st_size + len(self._tail())

    def __iter__(self) -> Iterator[bytes]:
        yield self._head()
        with open(self.path, "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk
        yield self._tail()


def post(port: int, path: str, body: MultipartUpload, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        try:
            conn.request("POST", path, body=iter(body),
                         headers={**headers, "Content-Type": body.content_type, "Content-Length": str(len(body))})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading everything (an error); its answer says why
        try:
            response = conn.getresponse()
        except (http.client.HTTPException, OSError) as exc:
            raise RuntimeError(f"POST {path} on port {port}: the connection broke without an answer ({exc})") from None
        return response.status, response.read()
    finally:
        conn.close()


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, int, http.client.HTTPMessage]:
    """GET into a sink; return status, body length and headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        buffer, received = bytearray(CHUNK), 0
        while count := response.readinto(buffer):
            received += count
        return response.status, received, response.headers
    finally:
        conn.close()


def timed(action: Callable[..., T], *args: Any) -> tuple[float, T]:
    started = time.perf_counter()
    result = action(*args)
    return time.perf_counter() - started, result


# --- the servers ------------------------------------------------------------------------

@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log: Path

    worker: int = 0

    def worker_pid(self) -> int:
        """gunicorn serves from a forked worker; without one the process serves itself."""
        children = _children(self.process.pid)
        return children[0] if children else self.process.pid

    def peak_rss_mb(self) -> float:
        # A restarted worker (e.g. killed on timeout) starts a fresh peak, which would hide growth.
        if self.worker_pid() != self.worker:
            raise RuntimeError(f"the {self.name} worker was replaced during the run:\n{self.log_tail()}")
        status = Path(f"/proc/{self.worker}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return kib / 1024

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if get(self.port, path)[0] == 200 and _children(self.process.pid):
                    self.worker = self.worker_pid()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {path} within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # the process ended while we looked
                continue
            # The command name in parentheses may hold spaces; the parent pid is the second field after it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(name: str, command: list[str], env: dict[str, str], workdir: Path, ready_path: str, port: int) -> Server:
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, process, port, log)
    try:
        server.wait_ready(ready_path)
    except BaseException:
        server.stop()
        raise
    return server


def registry_env(workdir: Path) -> dict[str, str]:
    return {**os.environ,
            "REGISTRY_DATABASE_URL": f"sqlite:///{workdir / 'registry.db'}",
            "REGISTRY_STORAGE_PATH": str(workdir / "blobs"),
            "REGISTRY_SECRET_KEY": uuid.uuid4().hex,
            "REGISTRY_RATELIMIT_ENABLED": "false",
            "REGISTRY_MAX_UPLOAD_MB": "1024",
            "REGISTRY_LOG_LEVEL": "WARNING"}


def operator(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    command = [sys.executable, "-m", "flask", "--app", "registry", *args]
    done = subprocess.run(command, env=env, cwd=ROOT, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`flask {' '.join(args)}` failed ({done.returncode}):\n{done.stderr or done.stdout}")
    return done.stdout


def start_registry(workdir: Path) -> tuple[Server, str]:
    """Migrate, create a publisher with an org and a token, then serve; return the server and the token."""
    env = registry_env(workdir)
    operator(env, "db", "upgrade")
    operator(env, "users", "create", "bench", "--email", "bench@example.org", stdin="bench-password-not-secret\n")
    operator(env, "orgs", "create", "bench-city", "--kind", "vendor", "--name", "Bench City")
    operator(env, "orgs", "add-member", "bench-city", "bench", "--role", "owner")
    token = operator(env, "tokens", "create", "bench", "--org", "bench-city",
                     "--scope", "publish", "--scope", "read").strip().splitlines()[-1]
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "sync", "--timeout", "600",
               "--bind", f"127.0.0.1:{port}", "registry:create_app()"]
    return _spawn("registry", command, env, workdir, "/healthz", port), token


def start_pypiserver(workdir: Path) -> Server:
    packages = workdir / "pypi-packages"
    packages.mkdir()
    port = free_port()
    # pypiserver runs gunicorn in-process, which reads its settings from this variable.
    env = {**os.environ, "GUNICORN_CMD_ARGS": "--workers 1 --worker-class sync --timeout 600"}
    command = [sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", "127.0.0.1", "-a", ".", "-P", ".",
               "--server", "gunicorn", str(packages)]
    return _spawn("pypiserver", command, env, workdir, "/", port)


# --- one measurement of each kind ---------------------------------------------------------

@dataclass
class Archive:
    path: Path
    version: str
    sha256: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def pypi_filename(self) -> str:
        return f"{NAME.replace('-', '_')}-{self.version}.tar.gz"


def upload_ours(server: Server, token: str, archive: Archive) -> float:
    body = MultipartUpload(archive.path, "archive", archive.path.name, {"sha256": archive.sha256})
    seconds, (status, reply) = timed(post, server.port, f"/api/v1/solutions/{NAME}/releases", body,
                                     {"Authorization": f"Bearer {token}"})
    if status != 201:
        raise RuntimeError(f"registry upload of {archive.version} answered {status}: {reply[:500]!r}")
    release = json.loads(reply)["release"]
    if release["sha256"] != archive.sha256 or release["size"] != archive.size:
        raise RuntimeError(f"registry recorded {release['sha256']} ({release['size']} B) for {archive.version}, "
                           f"expected {archive.sha256} ({archive.size} B)")
    return seconds


def download_ours(server: Server, token: str, archive: Archive) -> float:
    seconds, (status, received, headers) = timed(get, server.port,
                                                 f"/api/v1/solutions/{NAME}/releases/{archive.version}/archive",
                                                 {"Authorization": f"Bearer {token}"})
    _check_download("registry", archive, status, received)
    if headers.get("ETag", "").strip('"') != archive.sha256:
        raise RuntimeError(f"registry served ETag {headers.get('ETag')} for {archive.version}, expected its sha256")
    return seconds


def upload_pypiserver(server: Server, archive: Archive) -> float:
    fields = {":action": "file_upload", "protocol_version": "1", "name": NAME, "version": archive.version,
              "sha256_digest": archive.sha256}
    body = MultipartUpload(archive.path, "content", archive.pypi_filename, fields)
    seconds, (status, reply) = timed(post, server.port, "/", body, {})
    if status != 200:
        raise RuntimeError(f"pypiserver upload of {archive.pypi_filename} answered {status}: {reply[:500]!r}")
    return seconds


def download_pypiserver(server: Server, archive: Archive) -> float:
    seconds, (status, received, _) = timed(get, server.port, f"/packages/{archive.pypi_filename}")
    _check_download("pypiserver", archive, status, received)
    return seconds


def _check_download(server: str, archive: Archive, status: int, received: int) -> None:
    if status != 200 or received != archive.size:
        raise RuntimeError(f"{server} download of {archive.version}: status {status}, {received} of {archive.size} B")


def copy_and_hash(archive: Archive, scratch: Path) -> float:
    """The least any upload must do: write the bytes once more and hash them."""
    copy = scratch / "copy.tar.gz"
    started = time.perf_counter()
    subprocess.run(["cp", str(archive.path), str(copy)], check=True)
    digest = subprocess.run(["sha256sum", str(copy)], check=True, capture_output=True, text=True).stdout.split()[0]
    seconds = time.perf_counter() - started
    copy.unlink()
    if digest != archive.sha256:
        raise RuntimeError(f"sha256sum says {digest} for {archive.path.name}, expected {archive.sha256}")
    return seconds


def read_file(archive: Archive) -> float:
    started = time.perf_counter()
    subprocess.run(["cat", str(archive.path)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


class BareSendfileServer:
    """A reference for downloads: no framework, just sendfile() over loopback, read by the same client.

    Downloads are bounded by loopback TCP and the client as much as by the server; this shows roughly where.
    It serves the files of one directory from a forked process, so it does not share the client's GIL.
    """

    def __init__(self, directory: Path) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._process = multiprocessing.get_context("fork").Process(
            target=_serve_files, args=(self._listener, directory), daemon=True)
        self._process.start()

    def download(self, archive: Archive) -> float:
        seconds, (status, received, _) = timed(get, self.port, f"/{archive.path.name}")
        _check_download("bare sendfile server", archive, status, received)
        return seconds

    def close(self) -> None:
        self._process.terminate()
        self._process.join()
        self._listener.close()


def _serve_files(listener: socket.socket, directory: Path) -> None:
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                request = b""
                while b"\r\n\r\n" not in request and (data := conn.recv(65536)):
                    request += data
                name = request.split(b" ", 2)[1].decode().lstrip("/")
                with open(directory / Path(name).name, "rb") as source:
                    size = os.fstat(source.fileno()).st_size
                    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
                    conn.sendfile(source)
            except (OSError, IndexError):  # a bad request or a vanished client: close, the client reports it
                pass


# --- the run ----------------------------------------------------------------------------

@dataclass
class SizeResult:
    size_mb: int
    runs: int
    archive_bytes: int = 0
    seconds: dict[str, list[float]] = field(default_factory=dict)
    rss_growth: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, seconds: float) -> None:
        self.seconds.setdefault(key, []).append(seconds)

    def mb_per_s(self, key: str) -> float:
        return self.archive_bytes / MB / statistics.median(self.seconds[key])


MEASURES = ("ours_up", "ours_down", "pypi_up", "pypi_down", "raw_up", "raw_down", "bare_down")


def measure_size(size_mb: int, runs: int, scratch: Path, ours: Server, token: str, pypi: Server,
                 bare: BareSendfileServer, baseline_rss: dict[str, float]) -> SizeResult:
    result = SizeResult(size_mb, runs)
    for run in range(runs):
        version = f"1.{run}.{size_mb}"  # a new version each run: re-sending the same bytes is a no-op by design
        path = scratch / f"{NAME}-{version}.tar.gz"
        archive = Archive(path, version, write_archive(path, version, size_mb))
        result.archive_bytes = archive.size  # the runs' archives differ by a few bytes at most
        result.add("ours_up", upload_ours(ours, token, archive))
        result.add("pypi_up", upload_pypiserver(pypi, archive))
        result.add("raw_up", copy_and_hash(archive, scratch))
        for _ in range(DOWNLOADS_PER_RUN):
            result.add("ours_down", download_ours(ours, token, archive))
            result.add("pypi_down", download_pypiserver(pypi, archive))
            result.add("raw_down", read_file(archive))
            result.add("bare_down", bare.download(archive))
        path.unlink()
        print(f"  {size_mb} MB run {run + 1}/{runs}: " + ", ".join(
            f"{key} {result.seconds[key][-1]:.2f} s" for key in MEASURES), flush=True)
    result.rss_growth = {"ours": ours.peak_rss_mb() - baseline_rss["ours"],
                         "pypi": pypi.peak_rss_mb() - baseline_rss["pypi"]}
    return result


def warm_up(scratch: Path, ours: Server, token: str, pypi: Server) -> dict[str, float]:
    """One small upload and download each, so imports and caches are not counted as growth; return peak RSS."""
    path = scratch / f"{NAME}-0.0.1.tar.gz"
    archive = Archive(path, "0.0.1", write_archive(path, "0.0.1", 0))
    upload_ours(ours, token, archive)
    download_ours(ours, token, archive)
    upload_pypiserver(pypi, archive)
    download_pypiserver(pypi, archive)
    path.unlink()
    return {"ours": ours.peak_rss_mb(), "pypi": pypi.peak_rss_mb()}


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(results: list[SizeResult], baseline_rss: dict[str, float]) -> str:
    headers = ["size (MB)", "runs", "ours upload MB/s", "pypiserver upload MB/s", "cp+sha256sum MB/s",
               "ours/pypiserver upload (≥ 2× below 100 MB, 2.5× from 100 MB)", "ours download MB/s",
               "pypiserver download MB/s", "raw read MB/s", f"raw/ours download (≤ {TARGET_DOWNLOAD_RATIO:g}×)",
               "bare sendfile server MB/s", f"ours RSS growth MB (< {TARGET_RSS_GROWTH_MB:g})", "pypiserver RSS growth MB"]
    rows, checks, context = [], [], []
    for r in results:
        rate = {key: r.mb_per_s(key) for key in MEASURES}
        up_ratio = rate["ours_up"] / rate["pypi_up"]
        down_ratio = rate["raw_down"] / rate["ours_down"]
        rows.append([r.size_mb, r.runs, f"{rate['ours_up']:.0f}", f"{rate['pypi_up']:.0f}", f"{rate['raw_up']:.0f}",
                     f"{up_ratio:.2f}×", f"{rate['ours_down']:.0f}", f"{rate['pypi_down']:.0f}",
                     f"{rate['raw_down']:.0f}", f"{down_ratio:.2f}×", f"{rate['bare_down']:.0f}",
                     f"{r.rss_growth['ours']:.1f}", f"{r.rss_growth['pypi']:.1f}"])
        floor_share = rate["ours_up"] / rate["raw_up"]
        floor = (f"{floor_share:.0%} of cp+sha256sum ({verdict(floor_share >= TARGET_FLOOR_SHARE)}: "
                 f"≥ {TARGET_FLOOR_SHARE:.0%}), " if r.size_mb >= 500 else "")
        checks.append(f"- {r.size_mb} MB: upload ratio {up_ratio:.2f}× ({verdict(up_ratio >= upload_target(r.size_mb))}: "
                      f"≥ {upload_target(r.size_mb):g}×), {floor}download ratio {down_ratio:.2f}× ({verdict(down_ratio <= TARGET_DOWNLOAD_RATIO)}), "
                      f"RSS growth {r.rss_growth['ours']:.1f} MB "
                      f"({verdict(r.rss_growth['ours'] < TARGET_RSS_GROWTH_MB)})")
        context.append(f"- {r.size_mb} MB: cp+sha256sum alone is {rate['raw_up'] / rate['pypi_up']:.2f}× pypiserver's "
                       f"upload, ours reaches {rate['ours_up'] / rate['raw_up']:.0%} of cp+sha256sum; "
                       f"ours downloads at {rate['ours_down'] / rate['bare_down']:.0%} of a bare sendfile server's speed, "
                       f"pypiserver at {rate['pypi_down'] / rate['bare_down']:.0%}")
    times = markdown_table(
        ["size (MB)", "archive bytes", *[f"{key} s" for key in MEASURES]],
        [[r.size_mb, r.archive_bytes, *[f"{statistics.median(r.seconds[key]):.3f}" for key in MEASURES]]
         for r in results])
    return "\n\n".join([
        f"Median of the runs per size; each run uploads once and downloads {DOWNLOADS_PER_RUN} times. Throughput is archive bytes / wall time of the whole request "
        "(upload: until the server's answer is read), MB = 2^20 bytes. "
        "Archive: a valid solution package plus an incompressible `data/payload.bin`. "
        "Both servers run under gunicorn with one sync worker on 127.0.0.1 and get the same streaming client.",
        markdown_table(headers, rows),
        "Targets:\n" + "\n".join(checks),
        "Context (what the targets are up against):\n" + "\n".join(context),
        f"Peak RSS (VmHWM) of the serving worker after the warm-up upload: ours {baseline_rss['ours']:.1f} MB, "
        f"pypiserver {baseline_rss['pypi']:.1f} MB; growth is measured from there, cumulatively across sizes.",
        "Median seconds:\n\n" + times,
        "What each side does: ours streams the multipart body to a temp file while hashing, decompresses and "
        "reads the whole archive once (limits, member hashes), validates solution.yaml, copies the blob into "
        "content-addressed storage with fsync, and commits the release; download is `send_file` "
        "(sendfile under gunicorn) after an authorised lookup and a download-count update. "
        "pypiserver spools the body, parses the form, and writes the file. Baselines: `cp` then `sha256sum` of "
        "the copy (upload), `cat file > /dev/null` (download), and a bare `sendfile()` server read by the same "
        "client (a reference for what loopback and the client allow).",
    ])


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(DEFAULT_SIZES),
                        help="archive payload sizes in MB (default: 10 100 500)")
    parser.add_argument("--runs", type=int, default=None,
                        help=f"runs per size (default: 3 up to {FULL_RUNS_UP_TO_MB} MB, 1 above)")
    args = parser.parse_args(argv)
    if any(size < 1 for size in args.sizes):
        parser.error("sizes are whole megabytes, at least 1")
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("this benchmark reads peak memory from /proc; run it on Linux", file=sys.stderr)
        return 2
    if shutil.which("sha256sum") is None:
        print("sha256sum (coreutils) is needed for the baseline", file=sys.stderr)
        return 2
    try:
        import pypiserver  # noqa: F401
    except ImportError:
        print("pypiserver is not installed: pip install pypiserver", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="bench-publishing-"))
    servers: list[Server] = []
    scratch = workdir / "scratch"
    scratch.mkdir()
    bare = BareSendfileServer(scratch)
    try:
        ours, token = start_registry(workdir)
        servers.append(ours)
        pypi = start_pypiserver(workdir)
        servers.append(pypi)
        baseline_rss = warm_up(scratch, ours, token, pypi)
        results = []
        for size in args.sizes:
            runs = args.runs or (3 if size <= FULL_RUNS_UP_TO_MB else 1)
            print(f"{size} MB x {runs}", flush=True)
            results.append(measure_size(size, runs, scratch, ours, token, pypi, bare, baseline_rss))
        write_report("publishing", "Publishing: upload and download", report(results, baseline_rss))
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        bare.close()
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
