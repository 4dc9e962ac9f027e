"""Shared bits for benchmarks: timing statistics and the markdown report."""

from __future__ import annotations

import platform
import statistics
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def summarize(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"min": ordered[0], "median": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(name: str, title: str, body: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(f"# {title}\n\nMeasured {stamp} on {platform.machine()}, Python {platform.python_version()}, "
                    f"{_cpu_count()} cores. Shared machine: compare ratios within one run, not absolute numbers across runs.\n\n{body}\n")
    print(body)
    print(f"\nwritten {path.relative_to(RESULTS.parent.parent)}")
    return path


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1
