"""Catalog search: reading a query, matching it natively on each engine, facets, sorting, pages.

Matching is substring matching over the normalised text of `search_documents` (NFKC,
casefolded), which is how people search Korean: 주차 finds 주차장, and a particle typed
on the end (주차장을) is also tried without it. Every term must match (AND); a term
matches when any of its forms does.

* SQLite: forms of 3+ characters go through the FTS5 trigram index (`search_fts`, each
  form quoted as a phrase so FTS operators in the input are plain text); one- and
  two-character words through the index of word pieces (`search_grams`, see word_pieces()).
* PostgreSQL: `LIKE '%form%'` over the same column, served by the pg_trgm GIN index; one- and
  two-character words through the GIN index over the word pieces.

Facet counts are "live": each facet is counted for the current query with every *other*
facet filter applied, so choosing a value never hides the alternatives of that facet.
"""

from __future__ import annotations

import json
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
    tuple_,
)
from sqlalchemy.dialects import postgresql

from registry.accounts.models import Organization
from registry.catalog.models import SearchDocument, SearchFacet, SearchFacetValue
from registry.db import db, reading_replica
from registry.errors import InvalidInput
from registry.spec.deploy import DEPLOY_KIND_NAMES
from registry.spec.vocabulary import CATEGORIES, DEVELOPMENT_STATUSES, MAINTENANCE_TYPES, PROGRAMMES

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_FACET_VALUE = 200
MAX_VALUES_PER_FACET = 20
PAGE_SIZE = 20
MAX_PAGE = 1000
# Up to this many matches, totals and facet counts are exact and relevance ranks the whole match;
# beyond it they are lower bounds over this many candidates (see search()).
COUNT_CAP = 2000
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
facet_values = SearchFacetValue.__table__
fts = table("search_fts", column("rowid"))
grams_index = table("search_grams", column("rowid"))


def normalize(text: str | None) -> str:
    """The one normal form of searchable text and of queries: NFKC, casefolded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def word_pieces(text: str) -> str:
    """Every one- and two-character piece of every word of normalised text, as space-separated words.

    The index of the queries a trigram index cannot serve: 주차 and 버스, and single syllables (차),
    which would otherwise scan every body.
    """
    pieces = {word[i:i + n] for word in _WORD.findall(text) for n in (1, 2) for i in range(len(word) - n + 1)}
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
            if facet not in args:  # most searches name no facet or one: nothing to read for the others
                continue
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
    # More than COUNT_CAP solutions match: `total` (and `pages`) are lower bounds, not the count.
    total_is_estimate: bool = False
    # Facets (and "fits_hub") counted over a capped candidate set: their counts are lower bounds.
    estimated_facets: frozenset[str] = frozenset()
    has_next: bool = False


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


def member_key(dialect: str) -> ColumnElement:
    """The solution id as membership tests (`IN (subquery)`) should name it.

    On SQLite the bare rowid would make the planner look every member up in the wide table and
    sort them all; `solution_id + 0` is not indexable, so it walks the sort's narrow index instead
    and stops at the LIMIT, testing each id against the (materialised) subquery.
    """
    return docs.c.solution_id + 0 if dialect == "sqlite" else docs.c.solution_id


def _fts_match(index, name: str, forms: list[str]) -> ColumnElement[bool]:
    match = " OR ".join(_fts_phrase(f) for f in forms)
    return member_key("sqlite").in_(select(index.c.rowid).where(literal_column(name).op("MATCH")(match)))


def _is_piece(form: str) -> bool:
    """A form word_pieces() indexes: a one- or two-character word."""
    return len(form) <= 2 and bool(_WORD.fullmatch(form))


def _has_piece(form: str) -> ColumnElement[bool]:
    # search_pieces(grams) is the expression of the GIN index made in migration 0003.
    return func.search_pieces(docs.c.grams).op("@>")(cast(postgresql.array([form]), postgresql.ARRAY(Text)))


def id_in(id_column, ids: Iterable[int], dialect: str) -> ColumnElement[bool]:
    """`id_column` is one of `ids`, bound as one parameter whatever their number."""
    ids = sorted(ids)
    if dialect == "postgresql":  # one array parameter instead of thousands of placeholders
        return id_column == func.any(bindparam("ids", ids, type_=postgresql.ARRAY(Integer), unique=True))
    members = func.json_each(bindparam("ids", json.dumps(ids), unique=True)).table_valued("value")
    return id_column.in_(select(members.c.value))


def text_condition(terms: list[Term], dialect: str) -> ColumnElement[bool]:
    conditions = []
    for term in terms:
        if dialect != "sqlite":
            conditions.append(or_(*(_has_piece(f) if _is_piece(f) else contains(docs.c.body, f, dialect)
                                    for f in term.forms)))
            continue
        trigram = [f for f in term.forms if len(f) >= 3]
        pieces = [f for f in term.forms if _is_piece(f)]
        rest = [f for f in term.forms if f not in trigram and f not in pieces]  # short, not a word: scan
        options = [_fts_match(fts, "search_fts", trigram)] if trigram else []
        options += [_fts_match(grams_index, "search_grams", pieces)] if pieces else []
        options += [contains(docs.c.body, f, dialect) for f in rest]
        conditions.append(or_(*options))
    return and_(true(), *conditions)


def relevance(terms: list[Term], dialect: str) -> ColumnElement:
    """Per term: exact name 40, in name/title/keywords 10 (8 without particle), elsewhere 3 (2).

    Only ever computed for matching documents, whose body holds every term in one of its forms:
    so the long body is read only to tell a particle term's full form (3) from its stem (2).
    """
    score: ColumnElement = literal(0)
    for term in terms:
        whens = [(docs.c.name == term.text, 40)]
        whens += [(contains(docs.c.head, f, dialect), 10 if i == 0 else 8) for i, f in enumerate(term.forms)]
        if len(term.forms) > 1:
            whens.append((contains(docs.c.body, term.forms[0], dialect), 3))
        score = score + case(*whens, else_=3 if len(term.forms) == 1 else 2)
    return score


def value_ids(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The id of each (facet, value) the index has held (search_facet_values); the others are left out."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    rows = db.session.execute(select(facet_values.c.facet, facet_values.c.value, facet_values.c.id)
                              .where(tuple_(facet_values.c.facet, facet_values.c.value).in_(pairs)))
    return {(facet, value): id_ for facet, value, id_ in rows}


def chosen_value_ids(filters: Mapping[str, list[str]]) -> dict[str, list[int]]:
    """The ids of the chosen values of each facet (none for a value the index has never held), read first
    so that the planner sees which values a filter names: PostgreSQL estimates each from its statistics."""
    ids: dict[str, list[int]] = {facet: [] for facet in filters}
    for (facet, _), id_ in value_ids((facet, value) for facet, values in filters.items() for value in values).items():
        ids[facet].append(id_)
    return ids


def facet_members(ids: list[int]):
    """The solutions with any of these facet values (ids, see chosen_value_ids()).

    OFFSET 0 keeps them a subquery that PostgreSQL plans apart from the text match: for a very common
    term with a facet (스마트 + category at 50k) it then reads the facet's solutions and checks the text
    of each, 67 ms, where joining them into the match had it recheck the text of all 23,000 matches,
    87 ms (bench/results/search.md). SQLite plans it the same either way."""
    return select(facet_rows.c.solution_id).where(facet_rows.c.value_id.in_(ids)).offset(0)


def facet_condition(ids: list[int], dialect: str = "sqlite") -> ColumnElement[bool]:
    return member_key(dialect).in_(facet_members(ids))


def _named_counts(counted) -> list[tuple[str, str, int]]:
    """(facet, value, count) of a grouped read of (value_id, n): the few groups are named after counting."""
    counted = counted.subquery("counted")
    return db.session.execute(select(facet_values.c.facet, facet_values.c.value, counted.c.n)
                              .join(counted, counted.c.value_id == facet_values.c.id)).all()


# Ties go to the solution registered last. Every key descending, so each order is one index read
# backwards, without touching the (wide) rows: ix_search_documents_newest / _adopted (migration 0015).
NEWEST_ORDER = [docs.c.published_at.desc(), docs.c.solution_id.desc()]
ADOPTED_ORDER = [docs.c.adoption_count.desc(), *NEWEST_ORDER]


def _order(query: SearchQuery) -> list:
    """The order candidates are read in: relevance ranks them afterwards, among the most adopted first."""
    return NEWEST_ORDER if query.sort == "newest" else ADOPTED_ORDER


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
    """This app's search caches (each app its own: a test's fresh app starts empty), one set per database
    read: the replica may be a little behind the primary."""
    name = "search_caches:replica" if reading_replica() else "search_caches"
    caches = current_app.extensions.get(name)
    if caches is None:
        caches = current_app.extensions[name] = {
            "version": _IndexVersion(), "results": OrderedDict(), "rendered": OrderedDict()}
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
    current_app.extensions.pop("search_caches:replica", None)


def remember(cache: OrderedDict, key: Any, value: Any) -> None:
    """Put `value` in an LRU cache bounded by SEARCH_CACHE_SIZE entries."""
    cache[key] = value
    while len(cache) > current_app.config["SEARCH_CACHE_SIZE"]:
        cache.popitem(last=False)


def index_facet_counts(wanted: tuple[str, ...]) -> dict[str, list[FacetValue]]:
    """Exact counts of these facets over the whole index (the home page's categories and programmes).

    One grouped read of the facet index per index state, remembered with the search results: it is
    not read ahead, and it is bounded by the facets asked for, not by the size of a match.
    """
    state = index_state()
    results: OrderedDict = _caches()["results"]
    key = (state, "index_facet_counts", wanted)
    counted = results.get(key)
    if counted is None:
        counted = {facet: [] for facet in wanted}
        values = select(facet_values.c.id).where(facet_values.c.facet.in_(wanted))
        rows = _named_counts(select(facet_rows.c.value_id, func.count().label("n"))
                             .where(facet_rows.c.value_id.in_(values)).group_by(facet_rows.c.value_id))
        for facet, value, n in sorted(rows, key=lambda row: (-row[2], row[1])):
            counted[facet].append(FacetValue(value, n, False))
        remember(results, key, counted)
    return counted


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
    """Run a search. `fit_ids`: solutions the reader's data hub can run (None: reader has no profile).

    Everything is computed by the database over a bounded candidate set: at most COUNT_CAP + 1 ids of
    the match, in the order of the sort (for relevance: the most adopted, then newest, first). Up to
    COUNT_CAP matches, the total, the facet counts and the ranking are exact; beyond it the total and
    the counts are lower bounds (`total_is_estimate`, `estimated_facets`) and relevance ranks the
    COUNT_CAP candidates. `state` is accepted for the callers that key caches by it.
    """
    terms, shortened = parse_query(query.text)
    dialect = db.session.get_bind().dialect.name
    base = [text_condition(terms, dialect)] if terms else []
    if query.fits_hub and fit_ids is not None:
        base.append(id_in(member_key(dialect), fit_ids, dialect))
    chosen_ids = chosen_value_ids(query.filters)
    chosen = {facet: facet_condition(ids, dialect) for facet, ids in chosen_ids.items()}
    where = base + list(chosen.values())
    ranked = query.sort == "relevance" and bool(terms)
    order = _order(query)
    score = relevance(terms, dialect) if ranked else None

    others: dict[str, list[int]] = {}
    if base and len(chosen) >= 2:  # every chosen facet's "others" set (and the search's) from one text match
        ids, others = _candidate_sets(base, chosen_ids)
        if order is ADOPTED_ORDER:
            scores = _scores(ids, score, dialect)
        else:
            ids, scores = _candidates(where, order)
    else:
        ids, scores = _candidates(where, order, score)
    estimate = cut = len(ids) > COUNT_CAP
    ids, scores = ids[:COUNT_CAP], scores[:COUNT_CAP]
    total = len(ids)
    if estimate and not where:  # the whole index: its size is one cheap count
        total, estimate = db.session.scalar(select(func.count()).select_from(docs)), False

    offset = (query.page - 1) * PAGE_SIZE
    if ranked:  # the candidates come most adopted first: a stable sort by score keeps that order among equals
        by_score = sorted(zip(ids, scores), key=lambda candidate: -candidate[1])
        page_ids = [solution_id for solution_id, _ in by_score[offset:offset + PAGE_SIZE + 1]]
    elif offset + PAGE_SIZE < len(ids) or not cut:
        page_ids = ids[offset:offset + PAGE_SIZE + 1]  # the candidates are already in the sort's order
    else:  # past the candidates of a newest/adopted listing: the database pages on
        page_ids = db.session.scalars(select(docs.c.solution_id).where(*where).order_by(*order)
                                      .limit(PAGE_SIZE + 1).offset(offset)).all()
    has_next = len(page_ids) > PAGE_SIZE
    hits = _hits(page_ids[:PAGE_SIZE])
    pages = max(1, math.ceil(total / PAGE_SIZE))

    facets, estimated = _facet_counts(query, dialect, base, chosen, ids, cut, others)
    fits_hub_count = None
    if fit_ids is not None:
        fits_hub_count = total if query.fits_hub else len(fit_ids.intersection(ids))
        if cut and not (query.fits_hub and not estimate):
            estimated.add("fits_hub")
    return SearchResult(query, terms, hits, total, query.page, pages, facets, fits_hub_count, shortened,
                        total_is_estimate=estimate, estimated_facets=frozenset(estimated), has_next=has_next)


def _candidates(where: list, order: list, score: ColumnElement | None = None) -> tuple[list[int], list[int]]:
    """Up to COUNT_CAP + 1 matching ids in `order` (one more than the cap tells that there are more), and
    each one's relevance `score` read with it (zeros without one)."""
    rows = db.session.execute(select(docs.c.solution_id, literal(0) if score is None else score)
                              .where(*where).order_by(*order).limit(COUNT_CAP + 1)).all()
    return [row[0] for row in rows], [row[1] for row in rows]


def _scores(ids: list[int], score: ColumnElement | None, dialect: str) -> list[int]:
    """The `score` of each of `ids`, in their order (zeros without one)."""
    if score is None or not ids:
        return [0] * len(ids)
    points = dict(db.session.execute(select(docs.c.solution_id, score).where(id_in(docs.c.solution_id, ids, dialect)))
                  .all())
    return [points[solution_id] for solution_id in ids]


def _candidate_sets(base: list, filters: dict[str, list[int]]) -> tuple[list[int], dict[str, list[int]]]:
    """The candidates of the search and of each chosen facet's "others" search, from one read of the match.
    `filters`: the ids of each facet's chosen values (chosen_value_ids()).

    What _candidates(..., ADOPTED_ORDER) gives for `base` with every filter (the search itself) and for
    `base` with every filter but one facet's (so that facet's alternatives stay visible): up to
    COUNT_CAP + 1 ids each, so counts stay exact up to the cap and are marked estimated beyond it.
    The text match is read once, as a materialised CTE (on PostgreSQL the planner can no longer probe it
    row by row under a facet's index, hundreds of ms); each filter is one hashed membership flag, and a
    running count per set keeps only the rows within some set's first COUNT_CAP + 1.
    """
    matched = select(docs.c.solution_id, docs.c.adoption_count, docs.c.published_at).where(*base) \
        .cte("matched").prefix_with("MATERIALIZED")
    facets = list(filters)
    flagged = select(matched, *(case((matched.c.solution_id.in_(facet_members(ids)), 1), else_=0)
                                .label(f"m{i}") for i, ids in enumerate(filters.values()))) \
        .cte("flagged").prefix_with("MATERIALIZED")  # each flag computed once, however often it is named
    hits = [flagged.c[f"m{i}"] for i in range(len(facets))]
    found = sum(hits[1:], hits[0])
    # The sets: the search itself (every filter holds), then each facet's others (every other filter holds).
    members = [found == len(facets)] + [found - hit == len(facets) - 1 for hit in hits]
    window = [flagged.c.adoption_count.desc(), flagged.c.published_at.desc(), flagged.c.solution_id.desc()]
    counted = select(flagged, *(func.sum(case((member, 1), else_=0)).over(order_by=window, rows=(None, 0))
                                .label(f"n{j}") for j, member in enumerate(members))) \
        .where(found >= len(facets) - 1).subquery("counted")
    c_hits = [counted.c[f"m{i}"] for i in range(len(facets))]
    c_found = sum(c_hits[1:], c_hits[0])
    c_members = [c_found == len(facets)] + [c_found - hit == len(facets) - 1 for hit in c_hits]
    keep = or_(*(and_(member, counted.c[f"n{j}"] <= COUNT_CAP + 1) for j, member in enumerate(c_members)))
    rows = db.session.execute(select(counted.c.solution_id, *c_hits).where(keep).order_by(
        counted.c.adoption_count.desc(), counted.c.published_at.desc(), counted.c.solution_id.desc())).all()
    main: list[int] = []
    others: dict[str, list[int]] = {facet: [] for facet in facets}
    for solution_id, *flags in rows:
        missing = len(facets) - sum(flags)
        if missing == 0:
            main.append(solution_id)
        for facet, flag in zip(facets, flags):
            if missing == 0 or (missing == 1 and not flag):
                others[facet].append(solution_id)
    cap = COUNT_CAP + 1
    return main[:cap], {facet: ids[:cap] for facet, ids in others.items()}


def _hits(page_ids: list[int]) -> list[Hit]:
    if not page_ids:
        return []
    rows = db.session.execute(
        select(docs.c.solution_id, docs.c.name, docs.c.version, Organization.slug, Organization.name,
               docs.c.display, docs.c.adoption_count, docs.c.published_at)
        .join(Organization, Organization.id == docs.c.org_id).where(docs.c.solution_id.in_(page_ids))).all()
    by_id = {row[0]: Hit(*row) for row in rows}
    return [by_id[sid] for sid in page_ids if sid in by_id]


def _facet_counts(query: SearchQuery, dialect: str, base: list, chosen: dict[str, ColumnElement],
                  ids: list[int], estimate: bool, candidates: Mapping[str, list[int]] | None = None,
                  ) -> tuple[dict[str, list[FacetValue]], set[str]]:
    """Live facet counts, grouped by the database over bounded candidate sets.

    Facets nobody filters on are counted over the candidates of the search itself; a filtered facet
    over the candidates of the search without its own filter (so its alternatives stay visible): those of
    `candidates` when given (see _candidate_sets()), otherwise read here.
    A facet counted over a capped set is named in the returned set: its counts are lower bounds.
    """
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    estimated: set[str] = set()

    def tally(members: list[int], wanted: list[str]) -> None:
        if not members:
            return
        where = [id_in(facet_rows.c.solution_id, members, dialect)]
        if len(wanted) < len(FACETS):  # the key's prefix: only these facets' rows of each member are read
            where.append(facet_rows.c.facet.in_(wanted))
        for facet, value, n in _named_counts(select(facet_rows.c.value_id, func.count().label("n"))
                                             .where(*where).group_by(facet_rows.c.value_id)):
            counts[facet][value] = n

    unfiltered = [f for f in FACETS if f not in chosen]
    if unfiltered:
        tally(ids, unfiltered)
        if estimate:
            estimated.update(unfiltered)
    for facet in chosen:
        others = (candidates or {}).get(facet)
        if others is None:
            others, _ = _candidates(base + [c for f, c in chosen.items() if f != facet], ADOPTED_ORDER)
        if len(others) > COUNT_CAP:
            estimated.add(facet)
        tally(others[:COUNT_CAP], [facet])

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
    return result, estimated
