"""What every domain's web views and API endpoints share: the API blueprint, JSON request helpers,
CSV downloads, the interface languages and a form widget. Depends on nothing of the domains."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from babel import Locale
from flask import Blueprint, Response, current_app, has_request_context, request
from flask_babel import get_locale
from werkzeug.http import http_date
from wtforms import SelectMultipleField, widgets

from registry.errors import InvalidInput
from registry.spec.vocabulary import localized

LOCALES = ("ko", "en")
# Parsed once: the locale selector answers with these, so flask-babel has nothing left to parse, and
# reader_locale() knows their codes without formatting them again.
PARSED_LOCALES = {code: Locale.parse(code) for code in LOCALES}
_CODES = {id(locale): code for code, locale in PARSED_LOCALES.items()}
PRIVATE = "private, no-store"
MAX_JSON_DEPTH = 20

# JSON API v1: each domain's api.py adds its routes; registry/ops/openapi describes every one.
api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@api_bp.after_request
def _private_unless_said_otherwise(response: Response) -> Response:
    """API answers depend on who asks (pending releases, reviews, an org's data): no cache may keep
    one unless its route chose otherwise, as downloads of published releases do."""
    response.headers.setdefault("Cache-Control", PRIVATE)
    return response


def reader_locale() -> str:
    """The language this request is answered in (ko outside a request)."""
    locale = get_locale()
    if locale is None:
        return "ko"
    return _CODES.get(id(locale)) or str(locale)


# The request headers that can make an answer conditional (304, 412) or partial (206).
_CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE",
                        "HTTP_IF_RANGE", "HTTP_RANGE")


def conditional(response: Response) -> Response:
    """`response.make_conditional(request)`: a 304 for a matching If-None-Match, and so on.

    A request sending none of those headers gets what make_conditional would give it (a Date header
    added to a GET or HEAD answer, nothing else) without the parsing of absent headers it does first."""
    environ = request.environ
    if any(name in environ for name in _CONDITIONAL_HEADERS):
        return response.make_conditional(request)
    if environ["REQUEST_METHOD"] in ("GET", "HEAD") and "date" not in response.headers:
        response.headers["Date"] = http_date()
    return response


def localized_for_reader(texts: object) -> str:
    """A manifest text block in the reader's language, else the other one."""
    return localized(texts, reader_locale())


def json_body() -> dict:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise InvalidInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object body with Content-Type: application/json")
    if _depth(body) > MAX_JSON_DEPTH:
        raise InvalidInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return body


def int_arg(name: str, *, default: int | None = None, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole-number query argument of the API; a missing one takes `default`, a bad one is a 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise InvalidInput(f"give {name} as a whole number", field=name)
        return default
    if not raw.isdigit() or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise InvalidInput(f"{name} must be a whole number {bounds}, not {raw[:40]!r}", field=name)
    return int(raw)


def _depth(value, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def iso(dt) -> str | None:
    return dt.isoformat() if dt else None


def csv_cell(value: object) -> str:
    text = str(value)
    # Spreadsheets run cells starting with these as formulas; a quote keeps them text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document (a header, then the rows; CRLF as RFC 4180 says) whose cells cannot become formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes (a fieldset), not a multi-select box."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def absolute(path: str) -> str:
    """A link for mail: the request's own address, or REGISTRY_PUBLIC_URL in the worker."""
    if path.startswith(("http://", "https://")):
        return path
    base = request.host_url if has_request_context() else current_app.config.get("PUBLIC_URL") or ""
    return base.rstrip("/") + path
