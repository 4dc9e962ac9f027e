"""gunicorn settings for production: sync workers behind the buffering nginx in deploy/nginx.conf.

    gunicorn -c deploy/gunicorn.conf.py            # as deploy/registry.service runs it

Sync workers are safe only because nginx reads whole requests (headers and body) before it
passes them on, so a worker never waits on a slow client; never expose this port directly.
Command-line options win over this file (e.g. `--bind`, `--workers`).
"""

import ctypes
import ctypes.util
import gc
import multiprocessing
import os

# Only nginx on this host may reach the workers: X-Forwarded-For is trusted from it (deploy/wsgi.py).
bind = "127.0.0.1:8000"
wsgi_app = "wsgi:application"
pythonpath = os.path.dirname(os.path.abspath(__file__))

worker_class = "sync"
workers = multiprocessing.cpu_count() * 2 + 1
# A 512 MB upload is hashed, unpacked and validated in a few seconds; a worker silent for this
# long is stuck and is replaced. nginx's proxy_read_timeout is a little longer.
timeout = 120
graceful_timeout = 30
# Load the app (and warm it up, deploy/wsgi.py) once in the master: workers are forked with the
# compiled schemas and the licence index built (bench/results/first_upload.md), and share those pages.
preload_app = True


def _release_free_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim; elsewhere nothing)."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def pre_fork(server, worker):
    """In the master, before each worker is forked: trim the heap (about 2 ms). Building the app,
    the warm-up and the upload rehearsal leave about 17 MB of the C heap freed but still resident
    (mostly the generated source and syntax trees of the compiled CycloneDX schemas); a worker forked
    without the trim maps those pages too, 110 MB idle RSS instead of 92 (bench/results/first_upload.md).
    A gc.collect() and gc.freeze() here as well were measured and changed nothing (USS, PSS, RSS, idle
    or after uploads): post_worker_init freezes before the worker's first collection could walk the heap."""
    _release_free_heap()


def post_fork(server, worker):
    """The master made the database engines: a forked worker must not reuse their pooled connections."""
    from wsgi import application

    from registry.db import db

    with application.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200

# Headers nginx passes on are already bounded by it; these match gunicorn's defaults and say so.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# No runtime control socket (gunicorn ≥ 25): nothing here uses it, and one less way in.
control_socket_disable = True

accesslog = None  # the registry logs every request itself (REGISTRY_LOG_LEVEL)
errorlog = "-"


def post_worker_init(worker):
    """Once the worker has imported the registry and made the app: set those objects apart from the
    garbage collector (they live as long as the worker), so a full collection walks only what requests
    made. Without it, one of every few requests that allocate much (the first look at a large diff)
    waits for a walk of the whole heap: half a second on a busy machine (bench/results/review.md)."""
    gc.freeze()
