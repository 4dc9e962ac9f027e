"""A time budget for reading one SBOM, so that no document under the size cap holds a worker for long.

The budget is CPU time of the reading thread, not time on the clock: on a machine busy with other
work an ordinary SBOM must not be refused, while a document built to be slow still spends its
budget at the same rate however idle the machine is.

`time_budget(seconds)` opens the budget for the code inside it; `spend()` is called at points
that each document visits in proportion to its size (every formatted string in the schema gate,
every object in the reporting validator, every component read) and refuses the SBOM with 422
once the budget is spent. Outside a budget `spend()` does nothing.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from registry.spec.problems import SpecError

DEFAULT_TIME_BUDGET_S = 30
_deadline: ContextVar[tuple[float, float] | None] = ContextVar("sbom_deadline", default=None)


class TimeBudgetExceeded(SpecError):
    code = "sbom-time-budget"


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    token = _deadline.set((time.thread_time() + seconds, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def spend() -> None:
    budget = _deadline.get()
    if budget is not None and time.thread_time() > budget[0]:
        raise TimeBudgetExceeded(
            f"reading the SBOM took more than the {budget[1]:g} s of processor time the registry allows for one; "
            "it is refused (split it, or leave out what it need not describe)", field="sbom")
