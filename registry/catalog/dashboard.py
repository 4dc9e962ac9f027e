"""The reuse dashboard: is publicly funded code reused by cities other than the one that built it?

Queries that return dataclasses; the page (/reuse), its CSV tables (/reuse.csv) and the JSON twin
(/api/v1/reuse) only render them. What is counted:

- A solution: one in the catalogue, that is with a published release (a search_documents row). Its
  programme, funding year, categories and origin municipality are those of its latest published
  release, as search shows them.
- An adoption: a municipality running a solution, any version, counted once per municipality and
  solution, from its first deployment. Retired deployments do not count, as in the search index's
  adoption_count; a municipality whose every deployment of a solution is retired is counted apart.
- Reuse: an adoption by a municipality other than the solution's origin: the municipality its
  manifest's funding.municipality names, matched to an organisation by name or slug (and its publisher,
  a vendor or agency, which adopts nothing). A name no organisation has matches no one, so every
  adoption of that solution counts as reuse. A solution is reused when one such adoption exists.
- A province (시·도): an adopting municipality's own; a solution's is its origin municipality's. None
  recorded, or no origin matched, counts as unknown.

A solution in several categories counts in each, and so do its adoptions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from registry.accounts.models import Organization
from registry.catalog.models import Adoption, SearchDocument
from registry.db import db
from registry.spec.vocabulary import (
    CATEGORIES,
    CATEGORY_LABELS,
    PROGRAMME_LABELS,
    PROGRAMMES,
    PROVINCE_LABELS,
    PROVINCES,
    label,
)

UNKNOWN = "unknown"
BREAKDOWNS = ("by_programme", "by_year", "by_category", "by_province")
TABLES = (*BREAKDOWNS, "over_time")
BREAKDOWN_COLUMNS = ("key", "label", "solutions", "reused", "adoptions", "municipalities")
TIME_COLUMNS = ("month", "adoptions", "cumulative")
_LABELS = {"by_programme": PROGRAMME_LABELS, "by_category": CATEGORY_LABELS, "by_province": PROVINCE_LABELS}


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: a programme, funding year, category or province (or "unknown")."""

    key: str
    solutions: int  # in the catalogue (for a province: whose origin municipality is there)
    reused: int  # of those, adopted by at least one city other than their origin
    adoptions: int  # municipality-and-solution pairs (for a province: by municipalities there)
    municipalities: int  # distinct municipalities among those adoptions


@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM
    adoptions: int  # first deployments that month
    cumulative: int


@dataclass(frozen=True)
class Summary:
    solutions: int
    reused: int
    adoptions: int
    reuse_adoptions: int  # adoptions by a city other than the solution's origin
    municipalities: int
    retired: int  # municipality-and-solution pairs whose every deployment is retired: not counted above

    @property
    def reuse_share(self) -> float | None:
        return self.reused / self.solutions if self.solutions else None


@dataclass(frozen=True)
class Dashboard:
    summary: Summary
    by_programme: list[Row]
    by_year: list[Row]
    by_category: list[Row]
    by_province: list[Row]  # the 17 시·도 always, in their usual order; "unknown" last when it has any
    over_time: list[MonthRow]  # every month from the first adoption to the last


@dataclass(frozen=True)
class _Solution:
    id: int
    programme: str
    year: str
    categories: tuple[str, ...]
    origins: frozenset[int]  # the organisations that built it
    province: str


@dataclass(frozen=True)
class _Adoption:
    org_id: int
    solution: _Solution
    since: date
    province: str

    @property
    def is_reuse(self) -> bool:
        return self.org_id not in self.solution.origins


def reuse_dashboard() -> Dashboard:
    orgs = {o.id: o for o in db.session.execute(
        select(Organization.id, Organization.slug, Organization.name, Organization.province))}
    solutions = {s.id: s for s in _catalogue(orgs)}
    active = [_Adoption(org_id, solutions[solution_id], since, orgs[org_id].province or UNKNOWN)
              for org_id, solution_id, since in db.session.execute(
                  select(Adoption.org_id, Adoption.solution_id, func.min(Adoption.deployed_on))
                  .where(Adoption.stage != "retired").group_by(Adoption.org_id, Adoption.solution_id))
              if solution_id in solutions]
    retired = {(org_id, solution_id) for org_id, solution_id in db.session.execute(
        select(Adoption.org_id, Adoption.solution_id).where(Adoption.stage == "retired").distinct())
        if solution_id in solutions} - {(a.org_id, a.solution.id) for a in active}
    reused = {a.solution.id for a in active if a.is_reuse}

    def breakdown(order: Iterable[str], solution_keys: Callable[[_Solution], Iterable[str]],
                  adoption_keys: Callable[[_Adoption], Iterable[str]], *, keep_empty: bool) -> list[Row]:
        return _breakdown(list(order), solutions.values(), active, reused, solution_keys, adoption_keys,
                          keep_empty=keep_empty)

    years = sorted({s.year for s in solutions.values()} - {UNKNOWN})
    summary = Summary(len(solutions), len(reused), len(active), sum(a.is_reuse for a in active),
                      len({a.org_id for a in active}), len(retired))
    return Dashboard(
        summary,
        by_programme=breakdown(PROGRAMMES, lambda s: [s.programme], lambda a: [a.solution.programme],
                               keep_empty=True),
        by_year=breakdown(years, lambda s: [s.year], lambda a: [a.solution.year], keep_empty=False),
        by_category=breakdown(CATEGORIES, lambda s: s.categories, lambda a: a.solution.categories,
                              keep_empty=False),
        by_province=breakdown(PROVINCES, lambda s: [s.province], lambda a: [a.province], keep_empty=True),
        over_time=_months(active),
    )


def _catalogue(orgs: dict) -> list[_Solution]:
    """The catalogue's solutions, each with the organisations that built it and its province."""
    by_name = {o.slug: o for o in orgs.values()} | {o.name: o for o in orgs.values()}
    solutions = []
    for solution_id, org_id, display in db.session.execute(
            select(SearchDocument.solution_id, SearchDocument.org_id, SearchDocument.display)):
        display = display or {}
        named = by_name.get(str(display.get("municipality") or "").strip())
        year = display.get("year")
        solutions.append(_Solution(
            solution_id, display.get("programme") or UNKNOWN, str(year) if year is not None else UNKNOWN,
            tuple(display.get("categories") or ()) or (UNKNOWN,),
            frozenset({org_id} | ({named.id} if named else set())),
            (named.province if named else None) or UNKNOWN))
    return solutions


def _breakdown(order: list[str], solutions: Iterable[_Solution], adoptions: list[_Adoption], reused: set[int],
               solution_keys: Callable[[_Solution], Iterable[str]],
               adoption_keys: Callable[[_Adoption], Iterable[str]], *, keep_empty: bool) -> list[Row]:
    grouped: dict[str, set[int]] = defaultdict(set)
    for solution in solutions:
        for key in solution_keys(solution):
            grouped[key].add(solution.id)
    adopted: dict[str, list[_Adoption]] = defaultdict(list)
    for adoption in adoptions:
        for key in adoption_keys(adoption):
            adopted[key].append(adoption)
    present = set(grouped) | set(adopted)
    # A value outside the vocabulary (from a manifest of an older spec) still counts, after the known ones.
    keys = [*order, *sorted(present - set(order) - {UNKNOWN}), UNKNOWN]
    rows = []
    for key in keys:
        ids, pairs = grouped.get(key, set()), adopted.get(key, [])
        if ids or pairs or (keep_empty and key != UNKNOWN):
            rows.append(Row(key, len(ids), len(ids & reused), len(pairs), len({a.org_id for a in pairs})))
    return rows


def _months(adoptions: list[_Adoption]) -> list[MonthRow]:
    if not adoptions:
        return []
    counts = Counter((a.since.year, a.since.month) for a in adoptions)
    (year, month), last = min(counts), max(counts)
    rows, total = [], 0
    while (year, month) <= last:
        total += counts[(year, month)]
        rows.append(MonthRow(f"{year:04d}-{month:02d}", counts[(year, month)], total))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return rows


# --- the tables as records: what the CSV and the JSON hold, in the reader's language ----------

def row_label(table: str, key: str) -> str:
    if key == UNKNOWN:
        return _("Unknown")
    labels = _LABELS.get(table)
    return label(labels, key, str(get_locale() or "ko")) if labels else key


def table_columns(table: str) -> tuple[str, ...]:
    return TIME_COLUMNS if table == "over_time" else BREAKDOWN_COLUMNS


def table_records(dashboard: Dashboard, table: str) -> list[dict]:
    rows = getattr(dashboard, table)
    if table == "over_time":
        return [asdict(row) for row in rows]
    return [{"key": row.key, "label": row_label(table, row.key), **asdict(row)} for row in rows]
