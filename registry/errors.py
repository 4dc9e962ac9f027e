"""The server's one exception tree. Services raise these; views and the API turn them into answers.

Each error carries a machine code, a human detail that says how to fix it, and the field it concerns.
"""

from __future__ import annotations


class RegistryError(Exception):
    status = 400
    code = "bad-request"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None, errors: list | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code
        self.extra_errors = errors or []

    def to_errors(self) -> list[dict]:
        first = {"code": self.code, "detail": self.detail, "field": self.field}
        return [first, *self.extra_errors]


class InvalidInput(RegistryError):
    status = 400
    code = "invalid"


class Unprocessable(RegistryError):
    status = 422
    code = "unprocessable"


class Unauthorized(RegistryError):
    status = 401
    code = "unauthorized"


class Forbidden(RegistryError):
    status = 403
    code = "forbidden"


class NotFound(RegistryError):
    status = 404
    code = "not-found"


class Conflict(RegistryError):
    status = 409
    code = "conflict"


class PayloadTooLarge(RegistryError):
    status = 413
    code = "too-large"
