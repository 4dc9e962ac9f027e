"""The WSGI entry point behind deploy/nginx.conf: the registry, seeing the client's address.

nginx sets X-Forwarded-For to the address it accepted the connection from (it does not append
to what the client sent) and X-Forwarded-Proto to its scheme, and gunicorn listens on 127.0.0.1
only, so exactly one proxy hop is trusted (REGISTRY_PROXY_FIX, unless the environment says
otherwise). Without it every request would come from 127.0.0.1: one stranger's failed sign-ins
would throttle everyone, the audit log would name no one, and HSTS would never be sent.
"""

import logging
import os

from registry import create_app
from registry.ops.rehearsal import rehearse_upload
from registry.ops.warmup import warm_up

os.environ.setdefault("REGISTRY_PROXY_FIX", "1")
application = create_app()
# In gunicorn's master (preload_app): the workers are forked warm (registry/ops/warmup.py), with the
# upload path's SQL compiled by a rehearsal that writes nothing (registry/ops/rehearsal.py; a warning
# and no more if it cannot run, e.g. before `flask db upgrade`).
logging.getLogger("registry").info("warmed up in %.1f s", warm_up())
rehearse_upload(application)
