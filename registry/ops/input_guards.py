"""Input the database cannot take, refused once for every route: ids beyond its integers in paths, and
control characters in parameters (PostgreSQL rejects a NUL in text, XML feeds cannot carry one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from registry.errors import InvalidInput

# Every id column is an INTEGER, 32 bits on PostgreSQL.
MAX_DATABASE_INT = 2**31 - 1
# C0 controls except tab, newline and carriage return (browsers send form text with CRLF line breaks).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` that does not match a number larger than any id the database can hold: a 404, not a 500."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_DATABASE_INT,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    """(field, text) for every string in a JSON value, keys included; a loop, as bodies may nest deeply."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        field, item = stack.pop()
        if isinstance(item, str):
            yield field, item
        elif isinstance(item, dict):
            for key, child in item.items():
                path = f"{field}.{key}" if field else str(key)
                yield path, str(key)
                stack.append((path, child))
        elif isinstance(item, list):
            stack.extend((field, child) for child in item)


def _has_body() -> bool:
    """Whether the request may carry a body (form or JSON) to read: a length, or a chunked stream."""
    return bool(request.content_length) or "Transfer-Encoding" in request.headers


def _submitted(has_body: bool) -> Iterator[tuple[str, str]]:
    for key, value in request.args.items(multi=True):
        yield key, key
        yield key, value
    if not has_body:  # a GET's parameters are all in its query string
        return
    # API uploads are multipart and authenticated before their body is read; only web forms are read here
    # (Flask-WTF reads them before the view anyway).
    if request.blueprint != "api" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            yield key, key
            yield key, value
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # too deep to read: the view refuses it with its own reason
            return
        yield from _strings(body)


def refuse_control_characters() -> None:
    has_body = _has_body()
    if not request.query_string and not has_body:
        return  # nothing submitted
    for field, text in _submitted(has_body):
        found = CONTROL.search(text)
        if found:
            raise InvalidInput(_("%(field)s contains the control character U+%(code)04X; send plain text.",
                                 field=field, code=ord(found.group())), field=field)


def register_input_guards(app: Flask) -> None:
    """Call before blueprints are registered: their rules pick the int converter up when they are added."""
    app.url_map.converters["int"] = DatabaseIntConverter
    app.before_request(refuse_control_characters)
