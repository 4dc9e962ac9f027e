"""Problems found in a solution manifest and the report that collects them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from registry.errors import RegistryError

Severity = Literal["error", "warning"]


class SpecError(RegistryError):
    """Base class of every error raised by ``registry.spec``.

    A RegistryError (422 unless a subclass says otherwise), so the server answers one that
    reaches a request with its code and detail; the CLI turns those it expects into its own errors.
    """

    status = 422
    code = "unprocessable"


@dataclass(frozen=True)
class Problem:
    """One finding about a manifest.

    ``code`` is stable (kebab-case) so tools and tests can rely on it; ``path`` is
    the field path (``dataHub.entities[0].access[1]``, ``""`` for the document);
    ``line``/``column`` are 1-based and point at the offending YAML node or its
    nearest existing parent.
    """

    severity: Severity
    code: str
    path: str
    message: str
    hint: str = ""
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sort_key(self) -> tuple[int, int, str, str]:
        # Problems without a position (rare) go last, in path order.
        return (
            self.line if self.line is not None else 1 << 30,
            self.column if self.column is not None else 0,
            self.path,
            self.code,
        )

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}" if self.line is not None else "-"
        text = f"{where} {self.severity} [{self.code}] {self.path or '<document>'}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


@dataclass
class Report:
    """The outcome of validating one manifest."""

    problems: list[Problem] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
            "manifest": self.manifest,
        }


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice (a case-only difference first), for "did you mean" hints."""
    choices = list(choices)
    folded = {c.casefold(): c for c in choices}
    if word.casefold() in folded:
        return folded[word.casefold()]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None
