"""Health check, request logging and error answers (HTML for people, JSON for API clients)."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from flask import Blueprint, Flask, current_app, g, render_template, request, send_file
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from registry.db import db
from registry.errors import RegistryError
from registry.storage import StorageError, storage

bp = Blueprint("ops", __name__)
log = logging.getLogger("registry.requests")


@bp.get("/healthz")
def healthz():
    failing = {}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the database is down for us
        db.session.rollback()
        failing["database"] = type(exc).__name__
    try:
        storage().check()
    except StorageError as exc:
        failing["storage"] = str(exc)
    from registry.jobs import queue_state

    try:
        queue = queue_state()
    except Exception as exc:  # Redis or the queue file away: say so, as for the database
        queue, failing["queue"] = None, type(exc).__name__
    if failing:
        return {"status": "unavailable", "failing": failing}, 503
    from registry.jobs.runs import last_runs

    # A missing worker does not make the web unavailable: work waits in the queue, shown by its depth.
    # Neither does failed scheduled work: its status says so, for the operator's alerting.
    return {"status": "ok", "database": "ok", "storage": "ok", "queue": queue, "scheduled": last_runs()}


@bp.get("/schema/solution/v1.json")
def manifest_schema():
    """The JSON Schema of solution.yaml v1, straight from registry/spec."""
    schema = Path(__file__).resolve().parents[1] / "spec" / "solution-v1.schema.json"
    response = send_file(schema, mimetype="application/schema+json", max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path.startswith("/schema/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, code: str, detail: str, field: str | None = None, errors: list | None = None,
                   request_id: str | None = None):
    if wants_json():
        body = {"errors": errors or [{"code": code, "detail": detail, "field": field}]}
        return (body | {"request_id": request_id} if request_id else body), status
    return render_template("errors/error.html", status=status, code=code, detail=detail,
                           request_id=request_id), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(RegistryError)
    def registry_error(exc: RegistryError):
        db.session.rollback()
        if exc.status >= 500:  # the registry's own trouble (storage down, records damaged): operators must see it
            current_app.logger.error("%s on %s %s: %s", exc.code, request.method, request.path, exc.detail)
        return error_response(exc.status, exc.code, exc.detail, exc.field, exc.to_errors())

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
                405: "method-not-allowed", 409: "conflict", 413: "too-large", 429: "rate-limited"}.get(exc.code, "error")
        detail = exc.description or exc.name
        if exc.code == 413:
            detail = f"request body too large; the limit is {current_app.config['MAX_UPLOAD_MB']} MB"
        return error_response(exc.code or 500, code, detail)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        """A bug: 500, and a request id that finds its traceback in the log."""
        db.session.rollback()
        request_id = uuid.uuid4().hex[:12]
        current_app.logger.exception("unhandled error %s on %s %s", request_id, request.method, request.path)
        body, status = error_response(500, "internal", f"internal error; it has been logged as request {request_id}",
                                      request_id=request_id)
        return body, status, {"X-Request-Id": request_id}


def register_request_logging(app: Flask) -> None:
    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response):
        if not log.isEnabledFor(logging.INFO):  # the line's parts (the full path above all) cost more than nothing
            return response
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        log.info("%s %s %s %d %.1fms", request.remote_addr, request.method, request.full_path.rstrip("?"),
                 response.status_code, elapsed)
        return response
