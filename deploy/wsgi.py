"""The WSGI entry point behind deploy/nginx.conf: the registry, seeing the client's address.

nginx sets X-Forwarded-For to the address it accepted the connection from (it does not append
to what the client sent), and gunicorn listens on 127.0.0.1 only, so exactly one proxy hop is
trusted. Without this, every request would come from 127.0.0.1: one stranger's failed sign-ins
would throttle everyone, and the audit log would name no one.
"""

from werkzeug.middleware.proxy_fix import ProxyFix

from registry import create_app

application = ProxyFix(create_app(), x_for=1)
