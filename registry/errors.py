"""The server's one exception tree. Services raise these; views and the API turn them into answers.

Each error carries its HTTP status, a machine code, a human detail, the field it concerns and,
where the detail alone does not say what to do, a hint. Plain Python (no Flask), so that
`registry.spec`, shared with the CLI, builds its own errors on it (`registry.spec.problems.SpecError`).
"""

from __future__ import annotations


class RegistryError(Exception):
    status = 400
    code = "bad-request"
    hint: str | None = None  # what to do about it, when the detail does not say

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None, hint: str | None = None,
                 errors: list | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code
        if hint:
            self.hint = hint
        self.extra_errors = errors or []

    def to_errors(self) -> list[dict]:
        first = {"code": self.code, "detail": self.detail, "field": self.field}
        if self.hint:
            first["hint"] = self.hint
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


class Damaged(RegistryError):
    """The registry's own records fail their check (rows edited, a signature that does not verify)."""

    status = 500
    code = "damaged"
    hint = "the stored records were changed outside the registry: compare them with a backup before serving more"


class ServiceUnavailable(RegistryError):
    """Something the registry depends on is down or full; the request may succeed later."""

    status = 503
    code = "unavailable"
