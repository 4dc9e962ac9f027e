"""Browser hardening: security headers on every response, and the reverse-proxy trust setting.

Pages may load scripts, styles and images from the registry itself only, and no inline script,
inline style or eval runs, so markup that slips into a page cannot act. Every other response
(JSON, downloads, raw text) is sandboxed with nothing allowed, so a package file opened in the
browser can never run in the registry's origin.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

PAGE_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
))
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"


def register_security(app: Flask) -> None:
    proxies = int(app.config["PROXY_FIX"])
    if proxies:
        # Only the headers every proxy sets are trusted (not X-Forwarded-Host: a proxy passing a
        # client's one through would let the client choose the URLs the registry writes).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        # Each header unless the response set its own. One pass over the headers there are: a miss of
        # Headers.setdefault costs an exception, and on most responses every one of these misses.
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        if "content-security-policy" not in present:
            headers.add("Content-Security-Policy", PAGE_POLICY if response.mimetype == "text/html" else OTHER_POLICY)
        for name, value in HEADERS.items():
            if name.lower() not in present:
                headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", HSTS)
        return response
