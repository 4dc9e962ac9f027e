"""What municipalities record: their data hub, what they deployed, what they follow."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.accounts.models import Organization
from registry.db import db, one_of, utcnow
from registry.releases.models import Release, Solution


class AdoptionStage(StrEnum):
    PILOTING = "piloting"
    PRODUCTION = "production"
    RETIRED = "retired"  # no longer deployed: no alerts, listed last


class Adoption(db.Model):
    __tablename__ = "adoptions"
    __table_args__ = (UniqueConstraint("org_id", "release_id"), one_of("stage", AdoptionStage))

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    deployed_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Organization] = relationship()
    solution: Mapped[Solution] = relationship()
    release: Mapped[Release] = relationship()


class DataHubProfile(db.Model):
    __tablename__ = "datahub_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    spec_version: Mapped[str | None] = mapped_column(String(32))
    # [{"type", "typeUri", "attributes": [...], "access": [...]}]
    entity_types: Mapped[list] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    org: Mapped[Organization] = relationship()


class Subscription(db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchDocument(db.Model):
    """One row per solution with a published release: what search matches, sorts and shows.

    Written only by registry.catalog.service.reindex_solution (kept in sync by ORM events).
    The text columns are normalised (NFKC, casefolded); the engine-native index over them
    (SQLite FTS5 trigram table `search_fts`, PostgreSQL pg_trgm GIN) is made in migration 0003.
    """

    __tablename__ = "search_documents"
    # The orders of the sorts "newest" and "adopted" (and of relevance's candidates), read backwards.
    __table_args__ = (Index("ix_search_documents_newest", "published_at", "solution_id"),
                      Index("ix_search_documents_adopted", "adoption_count", "published_at", "solution_id"))

    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(128))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    # Titles, summaries and facet values as shown in result lists, so a page of hits is one query.
    display: Mapped[dict] = mapped_column(default=dict)
    # Name, titles and keywords: matches here rank higher.
    head: Mapped[str] = mapped_column(Text, default="")
    # Everything searchable, head included.
    body: Mapped[str] = mapped_column(Text, default="")
    # Every one- and two-character piece of every word of body, space-separated (word_pieces()): indexes
    # one- and two-syllable queries (차, 주차, 버스), which a trigram index cannot serve.
    grams: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[list] = mapped_column(default=list)  # manifest dataHub.entities, for fit
    spec_range: Mapped[str | None] = mapped_column(String(200))
    adoption_count: Mapped[int] = mapped_column(default=0, index=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    # Indexed: max(indexed_at) with count(*) is the index state that in-process caches are keyed by.
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SearchFacetValue(db.Model):
    """Each facet value the index has held, named once: facet rows and their counts work on its small id.

    Rows are only ever added (reindex_solution), so an id names the same value for good; a value no
    solution has any more is simply counted by nobody."""

    __tablename__ = "search_facet_values"
    __table_args__ = (UniqueConstraint("facet", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facet: Mapped[str] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(String(200))


class SearchFacet(db.Model):
    """One row per (solution, facet value): facet filters and live counts are plain indexed SQL.

    Counting groups by the integer `value_id`, half the work of grouping by two strings; `facet` is
    repeated from the value so that counting one facet reads only that facet's rows of each solution (the
    key's prefix). No index starts with `facet`: SQLite would walk all of a facet's rows for such a count."""

    __tablename__ = "search_facets"
    __table_args__ = (Index("ix_search_facets_value", "value_id", "solution_id"),)

    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True)
    facet: Mapped[str] = mapped_column(String(24), primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("search_facet_values.id"), primary_key=True)
