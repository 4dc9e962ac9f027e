"""Catalog search: reading a query, matching it natively on each engine, facets, sorting, pages.

Matching is substring matching over the normalised text of `search_documents` (NFKC,
casefolded), which is how people search Korean: 주차 finds 주차장, and a particle typed
on the end (주차장을) is also tried without it. Every term must match (AND); a term
matches when any of its forms does.

* SQLite: forms of 3+ characters go through the FTS5 trigram index (`search_fts`, each
  form quoted as a phrase so FTS operators in the input are plain text); shorter forms
  fall back to `LIKE` over the normalised column.
* PostgreSQL: `LIKE '%form%'` over the same column, served by the pg_trgm GIN index.

Facet counts are "live": each facet is counted for the current query with every *other*
facet filter applied, so choosing a value never hides the alternatives of that facet.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.dialects import postgresql

from registry.accounts.models import Organization
from registry.catalog.models import SearchDocument, SearchFacet
from registry.db import db
from registry.errors import InvalidInput
from registry.spec.deploy import DEPLOY_KIND_NAMES
from registry.spec.vocabulary import CATEGORIES, DEVELOPMENT_STATUSES, MAINTENANCE_TYPES, PROGRAMMES

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_FACET_VALUE = 200
MAX_VALUES_PER_FACET = 20
PAGE_SIZE = 20
MAX_PAGE = 1000
SORTS = ("relevance", "newest", "adopted")

# Facet name (also the URL parameter) -> the controlled vocabulary, or None for free values.
FACETS: dict[str, tuple[str, ...] | None] = {
    "category": CATEGORIES,
    "programme": PROGRAMMES,
    "year": None,
    "entity_type": None,
    "deploy": DEPLOY_KIND_NAMES,
    "license": None,
    "status": DEVELOPMENT_STATUSES,
    "maintenance": MAINTENANCE_TYPES,
    "municipality": None,
}

# Korean particles people type after a noun; longest first so 에서 wins over 서-less forms.
PARTICLES = ("에서", "으로", "을", "를", "이", "가", "은", "는", "에", "로", "의", "와", "과", "도", "만")
_HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
_WORD = re.compile(r"[^\W_]+")

docs = SearchDocument.__table__
facet_rows = SearchFacet.__table__
fts = table("search_fts", column("rowid"))
grams_index = table("search_grams", column("rowid"))


def normalize(text: str | None) -> str:
    """The one normal form of searchable text and of queries: NFKC, casefolded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def bigrams(text: str) -> str:
    """Every two-character piece of every word of normalised text, as space-separated words."""
    pieces = {word[i:i + 2] for word in _WORD.findall(text) for i in range(len(word) - 1)}
    return " ".join(sorted(pieces))


@dataclass(frozen=True)
class Term:
    text: str
    forms: tuple[str, ...]  # the term itself first, then the term without a trailing particle


def strip_particle(token: str) -> str | None:
    """The noun without its trailing particle, when at least two syllables remain (버스를 -> 버스)."""
    for particle in PARTICLES:
        stem = token[: -len(particle)]
        if token.endswith(particle) and len(stem) >= 2 and _HANGUL_SYLLABLE.fullmatch(stem[-1]):
            return stem
    return None


def parse_query(raw: str | None) -> tuple[list[Term], bool]:
    """Terms of a query, and whether the input had to be shortened."""
    raw = raw or ""
    shortened = len(raw) > MAX_QUERY_CHARS
    terms: list[Term] = []
    for token in normalize(raw[:MAX_QUERY_CHARS]).split(" "):
        token = _EDGE_PUNCTUATION.sub("", token)
        if not token or any(t.text == token for t in terms):
            continue
        stem = strip_particle(token)
        terms.append(Term(token, (token, stem) if stem else (token,)))
    if len(terms) > MAX_TERMS:
        terms, shortened = terms[:MAX_TERMS], True
    return terms, shortened


@dataclass
class SearchQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    fits_hub: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> SearchQuery:
        """Read GET parameters (a werkzeug MultiDict or a plain dict); raise InvalidInput with the reason."""
        def values(key: str) -> list[str]:
            got = args.getlist(key) if hasattr(args, "getlist") else args.get(key, [])
            got = [got] if isinstance(got, str) else list(got or [])
            return [v.strip() for v in got if isinstance(v, str) and v.strip()]

        filters: dict[str, list[str]] = {}
        for facet, vocabulary in FACETS.items():
            chosen = list(dict.fromkeys(values(facet)))
            for value in chosen:
                if len(value) > MAX_FACET_VALUE:
                    raise InvalidInput(f"{facet} values are at most {MAX_FACET_VALUE} characters", field=facet)
                if vocabulary is not None and value not in vocabulary:
                    raise InvalidInput(f"unknown {facet} {value!r}; choose from {', '.join(vocabulary)}", field=facet)
                if facet == "year" and not value.isdigit():
                    raise InvalidInput(f"year must be a number like 2023, not {value!r}", field="year")
            if chosen:
                filters[facet] = chosen[:MAX_VALUES_PER_FACET]
        sort = (values("sort") or ["relevance"])[0]
        if sort not in SORTS:
            raise InvalidInput(f"unknown sort {sort!r}; choose from {', '.join(SORTS)}", field="sort")
        return cls(text=(values("q") or [""])[0], filters=filters, sort=sort, page=_page_number(values("page")),
                   fits_hub=(values("fits_hub") or [""])[0].lower() in ("1", "true", "yes", "on"))

    def to_args(self, **changes: Any) -> list[tuple[str, str]]:
        """GET parameters of this search (with changes), page 1 unless a page is given: shareable URLs."""
        query = SearchQuery(self.text, {k: list(v) for k, v in self.filters.items()}, self.sort, 1, self.fits_hub)
        for key, value in changes.items():
            setattr(query, key, value)
        args = [("q", query.text)] if query.text else []
        args += [(facet, value) for facet in FACETS for value in query.filters.get(facet, [])]
        if query.fits_hub:
            args.append(("fits_hub", "1"))
        if query.sort != "relevance":
            args.append(("sort", query.sort))
        if query.page > 1:
            args.append(("page", str(query.page)))
        return args

    def toggled(self, facet: str, value: str) -> list[tuple[str, str]]:
        """Parameters with `value` of `facet` switched on or off."""
        filters = {k: list(v) for k, v in self.filters.items()}
        chosen = filters.setdefault(facet, [])
        if value in chosen:
            chosen.remove(value)
        else:
            chosen.append(value)
        return self.to_args(filters={k: v for k, v in filters.items() if v})


def _page_number(raw: list[str]) -> int:
    # A bad page number in a shared link is not worth an error page: show the first page.
    if not raw or not raw[0].isdigit():
        return 1
    return min(max(int(raw[0]), 1), MAX_PAGE)


@dataclass
class Hit:
    solution_id: int
    name: str
    version: str
    org_slug: str
    org_name: str
    display: dict
    adoption_count: int
    published_at: datetime | None


@dataclass
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass
class SearchResult:
    query: SearchQuery
    terms: list[Term]
    hits: list[Hit]
    total: int
    page: int
    pages: int
    facets: dict[str, list[FacetValue]]
    fits_hub_count: int | None  # None when the reader has no data-hub profile
    shortened: bool


def _contains(form: str) -> str:
    escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(form: str) -> str:
    # A quoted FTS5 string is literal text: AND/OR/NEAR, *, ^ and : lose their meaning.
    return '"' + form.replace('"', '""') + '"'


def contains(column, form: str, dialect: str) -> ColumnElement[bool]:
    """`form` occurs in `column` (both normalised, so this is case-insensitive)."""
    if dialect == "sqlite":
        # instr() is a plain substring test: nothing to escape, and far faster than LIKE on Korean text.
        return func.instr(column, form) > 0
    return column.like(_contains(form), escape="\\")  # pg_trgm serves LIKE '%…%' from its GIN index


def _fts_match(index, name: str, forms: list[str]) -> ColumnElement[bool]:
    match = " OR ".join(_fts_phrase(f) for f in forms)
    return docs.c.solution_id.in_(select(index.c.rowid).where(literal_column(name).op("MATCH")(match)))


def _has_bigram(form: str) -> ColumnElement[bool]:
    # search_pieces(grams) is the expression of the GIN index made in migration 0003.
    return func.search_pieces(docs.c.grams).op("@>")(cast(postgresql.array([form]), postgresql.ARRAY(Text)))


def _id_in(ids: set[int], dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":  # one array parameter instead of thousands of placeholders
        return docs.c.solution_id == func.any(bindparam("ids", sorted(ids), type_=postgresql.ARRAY(Integer)))
    return docs.c.solution_id.in_(sorted(ids))


def text_condition(terms: list[Term], dialect: str) -> ColumnElement[bool]:
    conditions = []
    for term in terms:
        if dialect != "sqlite":
            conditions.append(or_(*(_has_bigram(f) if len(f) == 2 and _WORD.fullmatch(f)
                                    else contains(docs.c.body, f, dialect) for f in term.forms)))
            continue
        trigram = [f for f in term.forms if len(f) >= 3]
        bigram = [f for f in term.forms if len(f) == 2 and _WORD.fullmatch(f)]
        rest = [f for f in term.forms if f not in trigram and f not in bigram]  # one character: scan
        options = [_fts_match(fts, "search_fts", trigram)] if trigram else []
        options += [_fts_match(grams_index, "search_grams", bigram)] if bigram else []
        options += [contains(docs.c.body, f, dialect) for f in rest]
        conditions.append(or_(*options))
    return and_(true(), *conditions)


def relevance(terms: list[Term], dialect: str) -> ColumnElement:
    """Per term: exact name 40, in name/title/keywords 10 (8 without particle), elsewhere 3 (2)."""
    score: ColumnElement = literal(0)
    for term in terms:
        whens = [(docs.c.name == term.text, 40)]
        whens += [(contains(docs.c.head, f, dialect), 10 if i == 0 else 8) for i, f in enumerate(term.forms)]
        whens += [(contains(docs.c.body, f, dialect), 3 if i == 0 else 2) for i, f in enumerate(term.forms)]
        score = score + case(*whens, else_=1)
    return score


def facet_condition(facet: str, values: Iterable[str]) -> ColumnElement[bool]:
    return docs.c.solution_id.in_(
        select(facet_rows.c.solution_id).where(facet_rows.c.facet == facet, facet_rows.c.value.in_(list(values))))


def _order(query: SearchQuery, terms: list[Term], dialect: str) -> list:
    newest = [docs.c.published_at.desc(), docs.c.name]
    adopted = [docs.c.adoption_count.desc(), *newest]
    if query.sort == "newest":
        return newest
    if query.sort == "adopted" or not terms:
        return adopted
    return [relevance(terms, dialect).desc(), *adopted]


@dataclass
class FacetIndex:
    """The facet rows of the whole index, held per process for one index state.

    Facet filters and live counts then cost set operations in memory instead of one grouped
    query per facet. It is read with one grouped query (one row per facet value, its solutions
    aggregated by the database), so building it at 50,000 solutions is a fraction of a second.
    """

    everything: frozenset[int]
    by_value: dict[tuple[str, str], frozenset[int]]


@dataclass
class _IndexVersion:
    """What the caches of one app know about the index: its state as last read, and when."""

    state: tuple | None = None
    generation: int = -1
    read_at: float = -math.inf


# Bumped by whatever rewrites the index in this process (reindex_solution): its caches read the index
# state again at the next search. Other processes, and a search racing the writer's commit, see the
# change within SEARCH_STATE_TTL seconds.
_generation = 0


def index_changed() -> None:
    global _generation
    _generation += 1


def _caches() -> dict[str, Any]:
    """This app's search caches (each app its own: a test's fresh app starts empty)."""
    caches = current_app.extensions.get("search_caches")
    if caches is None:
        caches = current_app.extensions["search_caches"] = {
            "version": _IndexVersion(), "facets": {}, "results": OrderedDict(), "rendered": OrderedDict()}
    return caches


def index_state() -> tuple:
    """The key of the in-process caches: changes with every write to the index.

    A write in this process bumps the generation; the index's own state (row count and latest
    indexed_at, one query) is read again only after SEARCH_STATE_TTL seconds, so a cached search
    costs no query at all and a write made by another process shows within that time.
    """
    version: _IndexVersion = _caches()["version"]
    now = time.monotonic()
    if version.generation != _generation or now - version.read_at >= current_app.config["SEARCH_STATE_TTL"]:
        # Two scalar subqueries: each is answered from an index alone (combined, they scan the table).
        count, last = db.session.execute(select(select(func.count()).select_from(docs).scalar_subquery(),
                                                select(func.max(docs.c.indexed_at)).scalar_subquery())).one()
        version.state, version.generation, version.read_at = (_generation, count, last), _generation, now
    return version.state


def rendered_cache() -> OrderedDict:
    """This app's encoded search answers, for the API to fill (an LRU: see remember())."""
    return _caches()["rendered"]


def reset_caches() -> None:
    """Forget everything cached for this app (the benchmark measures cold searches with it)."""
    current_app.extensions.pop("search_caches", None)


def facet_index(state: tuple | None = None) -> FacetIndex:
    key = state or index_state()
    facets: dict[tuple, FacetIndex] = _caches()["facets"]
    cached = facets.get(key)
    if cached is None:
        everything = frozenset(db.session.scalars(select(docs.c.solution_id)))
        if db.session.get_bind().dialect.name == "postgresql":
            members = func.array_agg(facet_rows.c.solution_id)
        else:
            members = func.group_concat(facet_rows.c.solution_id)
        rows = db.session.execute(select(facet_rows.c.facet, facet_rows.c.value, members)
                                  .group_by(facet_rows.c.facet, facet_rows.c.value))
        by_value = {}
        for facet, value, ids in rows:
            ids = frozenset(map(int, ids.split(","))) if isinstance(ids, str) else frozenset(ids)
            by_value[(facet, value)] = ids if ids <= everything else ids & everything
        cached = FacetIndex(everything, by_value)
        facets.clear()  # one state is enough; older states are never asked for again
        facets[key] = cached
    return cached


# Up to this many matches, the page query selects them by id instead of matching the text again.
PAGE_BY_ID_LIMIT = 2000


def remember(cache: OrderedDict, key: Any, value: Any) -> None:
    """Put `value` in an LRU cache bounded by SEARCH_CACHE_SIZE entries."""
    cache[key] = value
    while len(cache) > current_app.config["SEARCH_CACHE_SIZE"]:
        cache.popitem(last=False)


def cached_search(query: SearchQuery, fit_ids: frozenset[int] | None = None) -> SearchResult:
    """search(), remembered per index state: a repeated search costs one small query until the index changes."""
    state = index_state()
    key = (state, tuple(query.to_args(page=query.page)), fit_ids)
    results: OrderedDict = _caches()["results"]
    result = results.get(key)
    if result is None:
        result = search(query, fit_ids, state=state)
        remember(results, key, result)
    else:
        results.move_to_end(key)
    return result


def search(query: SearchQuery, fit_ids: set[int] | frozenset[int] | None = None, *,
           state: tuple | None = None) -> SearchResult:
    """Run a search. `fit_ids`: solutions the reader's data hub can run (None: reader has no profile)."""
    terms, shortened = parse_query(query.text)
    dialect = db.session.get_bind().dialect.name
    index = facet_index(state)
    text_match = text_condition(terms, dialect)
    # 1. The text, matched once, natively; 2. facet filters as set operations in memory.
    found = set(db.session.scalars(select(docs.c.solution_id).where(text_match))) if terms else set(index.everything)
    if query.fits_hub and fit_ids is not None:
        found &= fit_ids
    chosen = {facet: frozenset().union(*(index.by_value.get((facet, v), frozenset()) for v in values))
              for facet, values in query.filters.items()}
    matched = found.intersection(*chosen.values()) if chosen else found

    total = len(matched)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    hits = _page(query, terms, dialect, matched, text_match, fit_ids) if matched else []
    facets = _facet_counts(query, index, found, chosen)
    fits_hub_count = None
    if fit_ids is not None:
        fits_hub_count = total if query.fits_hub else len(matched & fit_ids)
    return SearchResult(query, terms, hits, total, query.page, pages, facets, fits_hub_count, shortened)


def _page(query: SearchQuery, terms: list[Term], dialect: str, matched: set[int], text_match, fit_ids) -> list[Hit]:
    if len(matched) <= PAGE_BY_ID_LIMIT:
        where = [_id_in(matched, dialect)]
    else:  # a broad search: let the database apply the same conditions than bind thousands of ids
        where = [text_match, *(facet_condition(f, v) for f, v in query.filters.items())]
        if query.fits_hub and fit_ids is not None:
            where.append(_id_in(fit_ids, dialect))
    page_ids = db.session.scalars(select(docs.c.solution_id).where(*where).order_by(*_order(query, terms, dialect))
                                  .limit(PAGE_SIZE).offset((query.page - 1) * PAGE_SIZE)).all()
    if not page_ids:
        return []
    rows = db.session.execute(
        select(docs.c.solution_id, docs.c.name, docs.c.version, Organization.slug, Organization.name,
               docs.c.display, docs.c.adoption_count, docs.c.published_at)
        .join(Organization, Organization.id == docs.c.org_id).where(docs.c.solution_id.in_(page_ids))).all()
    by_id = {row[0]: Hit(*row) for row in rows}
    return [by_id[sid] for sid in page_ids if sid in by_id]


def _facet_counts(query: SearchQuery, index: FacetIndex, found: set[int],
                  chosen: dict[str, frozenset[int]]) -> dict[str, list[FacetValue]]:
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}

    everything = len(index.everything)

    def tally(ids: set[int], wanted: set[str]) -> None:
        # One C-level set intersection per facet value, not a Python loop per matched solution.
        for (facet, value), members in index.by_value.items():
            if facet in wanted:
                n = len(members) if len(ids) == everything else len(members & ids)
                if n:
                    counts[facet][value] = n

    # Facets nobody filters on are counted over the full match; each filtered facet without its own filter.
    unfiltered = {f for f in FACETS if f not in chosen}
    if unfiltered:
        tally(found.intersection(*chosen.values()) if chosen else found, unfiltered)
    for facet in chosen:
        others = [ids for f, ids in chosen.items() if f != facet]
        tally(found.intersection(*others) if others else found, {facet})

    result: dict[str, list[FacetValue]] = {}
    for facet, values in counts.items():
        selected = query.filters.get(facet, [])
        for value in selected:
            values.setdefault(value, 0)  # a chosen value stays visible (and can be switched off) at 0
        if facet == "year":
            ordered = sorted(values.items(), key=lambda kv: kv[0], reverse=True)
        else:
            ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        result[facet] = [FacetValue(v, n, v in selected) for v, n in ordered]
    return result
