"""Migrations against data: 0009's CHECKs keep existing rows, refuse values outside the enums, and undo
cleanly; 0019 keeps every facet row through its new key; the migrated schema is what the models declare.
On SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from alembic import command
from sqlalchemy import CheckConstraint, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from registry import create_app
from registry.accounts.models import Membership, Organization, User
from registry.catalog.models import Adoption
from registry.db import db
from registry.events import EventOutbox
from registry.notifications.models import Notification, WebhookDelivery
from registry.releases.models import Artifact, Check, Release, Solution
from registry.review.models import Review
from registry.sbom.models import Component, Finding, LicensePolicyRule, Vulnerability
from registry.transparency.models import LogLeaf, MirrorLeaf
from tests.conftest import BACKENDS, empty_postgres_database

BEFORE = "0008"
ONE_OF = re.compile(r"^(\w+) IN \(")


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path, worker_id) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    return empty_postgres_database(f"migrations_{worker_id}")


@pytest.fixture
def migrations(empty_url, tmp_path):
    """An app on an empty database, and the Alembic configuration that migrates it (in its context)."""
    app = create_app({"DATABASE_URL": empty_url, "STORAGE_PATH": str(tmp_path / "blobs"), "SECRET_KEY": "x"})
    with app.app_context():
        yield app.extensions["migrate"].migrate.get_config(app.extensions["migrate"].directory)
        db.session.remove()
        db.engine.dispose()


def _rows_as_of_0008() -> None:
    """One row (or a few) in every table whose column 0009 constrains, with values the code writes."""
    now = datetime(2025, 11, 3, 9, 0, tzinfo=timezone.utc)
    # Organizations as the 0008 table has them: the model has columns of later migrations (province).
    orgs = Organization.__table__
    city_id, vendor_id = (db.session.execute(orgs.insert().values(slug=slug, name=name, kind=kind, created_at=now)
                                             .returning(orgs.c.id)).scalar_one()
                          for slug, name, kind in (("cheonan", "천안시", "municipality"), ("hanbit", "한빛소프트", "vendor")))
    reviewer = User(username="reviewer", email="reviewer@example.org", password_hash="!", site_role="reviewer")
    publisher = User(username="vendor", email="vendor@example.org", password_hash="!")
    solution = Solution(name="주차공유", normalized_name="주차공유", org_id=vendor_id, state="deprecated")
    first = Release(solution=solution, version="1.0.0", state="published", sha256="a" * 64, size=1)
    db.session.add_all([reviewer, publisher, solution, first,
                        Membership(user=publisher, org_id=vendor_id, role="owner"),
                        Membership(user=reviewer, org_id=city_id, role="member"),
                        Artifact(release=first, kind="archive", filename="a.tar.gz", media_type="application/gzip",
                                 sha256="a" * 64, size=1),
                        Check(release=first, name="provenance", status="warn", summary="서명 없음")])
    db.session.flush()
    review = Review(release_id=first.id, reviewer_id=reviewer.id, decision="request_changes", comment="설치 안내 보완")
    component = Component(release_id=first.id, name="requests", license_verdict="review")
    vulnerability = Vulnerability(id="GHSA-0000-0000-0000", modified=now, severity="high")
    db.session.add_all([review, component, vulnerability])
    db.session.flush()
    db.session.add_all([
        Release(solution=solution, version="1.0.1", state="pending_review", sha256="b" * 64, size=1,
                answers_review_id=review.id),
        Adoption(org_id=city_id, solution_id=solution.id, release_id=first.id, stage="piloting",
                 deployed_on=date(2025, 11, 3)),
        Notification(org_id=city_id, kind="adoption.yanked", message="운영 중인 릴리스가 회수되었습니다"),
        Notification(user_id=publisher.id, kind="review.request_changes", message="변경 요청"),
        Notification(kind="webhook.disabled", message="받는 사람 없는 알림"),  # nobody's inbox shows it
        Finding(release_id=first.id, component_id=component.id, vulnerability_id=vulnerability.id, severity="high"),
        LicensePolicyRule(kind="category", subject="unknown", action="review"),
        MirrorLeaf(origin="registry.example/log", index=0, kind="key.registered", data="{}", leaf_hash="c" * 64),
        LogLeaf(index=0, kind="release.published", data="{}", leaf_hash="d" * 64, release_id=first.id),
        EventOutbox(name="release.published", payload={"release_id": first.id}),
        WebhookDelivery(org_id=city_id, webhook_id="msg_1", event="release.yanked", body="{}", status="delivered"),
    ])
    db.session.commit()


def _migrate(step, config, revision: str) -> None:
    db.session.remove()  # on PostgreSQL an open read would hold locks that ALTER TABLE waits for
    step(config, revision)


def _counts(names=None) -> dict[str, int]:
    """Rows per table: of the tables `names`, or of every table the database has now (later migrations add some)."""
    names = set(names if names is not None else inspect(db.engine).get_table_names())
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables if table.name in names}


def _checks() -> dict[str, set[str]]:
    inspector = inspect(db.engine)
    return {table: {c["name"] for c in inspector.get_check_constraints(table)} for table in inspector.get_table_names()}


def _one_of_columns() -> list[tuple[str, str]]:
    """(table, column) of every CHECK that a column holds one of an enum's values."""
    return [(table.name, match.group(1)) for table in db.metadata.sorted_tables for constraint in table.constraints
            if isinstance(constraint, CheckConstraint) and (match := ONE_OF.match(str(constraint.sqltext)))]


def _refused(statement: str) -> bool:
    try:
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    except IntegrityError:
        return True
    return False


def test_existing_rows_survive_0009_and_the_database_refuses_values_outside_the_enums(migrations):
    command.upgrade(migrations, BEFORE)
    _rows_as_of_0008()
    before, checks_before = _counts(), _checks()

    _migrate(command.upgrade, migrations, "head")
    assert _counts(before) == {**before, "notifications": before["notifications"] - 1}
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "webhook.disabled")) == 0
    answered = db.session.scalar(select(Release).where(Release.version == "1.0.1"))
    assert answered.answers_review.decision == "request_changes" and answered.solution.state == "deprecated"
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on after the batch copies

    # 0009 made 19 such CHECKs; later migrations add theirs, on tables this test may leave empty.
    counts = _counts()
    constrained = [(table, column) for table, column in _one_of_columns() if counts[table]]
    assert len(constrained) >= 19
    refused = [(table, column) for table, column in constrained
               if _refused(f"UPDATE {table} SET {column} = '아무거나'")]
    assert refused == constrained
    assert _refused("UPDATE notifications SET org_id = NULL, user_id = NULL")

    _migrate(command.downgrade, migrations, BEFORE)
    assert _checks() == checks_before
    assert _counts() == {**before, "notifications": before["notifications"] - 1}
    assert not _refused("UPDATE releases SET state = 'draft'")


def test_0009_stops_without_changing_anything_when_rows_hold_unknown_values(migrations):
    command.upgrade(migrations, BEFORE)
    _rows_as_of_0008()
    db.session.execute(text("UPDATE organizations SET kind = 'company' WHERE slug = 'hanbit'"))
    db.session.commit()
    checks_before = _checks()

    with pytest.raises(RuntimeError, match=r"organizations\.kind: 'company'"):
        _migrate(command.upgrade, migrations, "head")
    assert _checks() == checks_before
    assert db.session.scalar(select(func.count(Notification.id))) == 3  # the one without recipient is still there


def test_the_migrated_schema_is_what_the_models_declare(migrations):
    command.upgrade(migrations, "head")
    command.check(migrations)  # autogenerate finds nothing to add, drop or change

    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        declared = {c.name: sorted(re.findall(r"'([^']*)'", str(c.sqltext)))
                    for c in table.constraints if isinstance(c, CheckConstraint)}
        migrated = {c["name"]: sorted(re.findall(r"'([^']*)'", c["sqltext"]))
                    for c in inspector.get_check_constraints(table.name)}
        assert migrated == declared, table.name


def test_0019_names_each_facet_value_once_and_keeps_every_row_both_ways(migrations):
    command.upgrade(migrations, "0018")
    vendor = Organization(slug="hanbit", name="한빛소프트", kind="vendor")
    solutions = [Solution(name=name, normalized_name=name, org=vendor) for name in ("주차공유", "스마트-횡단보도")]
    db.session.add_all(solutions)
    db.session.flush()
    rows = [(solutions[0].id, "category", "mobility"), (solutions[0].id, "municipality", "천안시"),
            (solutions[0].id, "year", "2023"), (solutions[1].id, "category", "mobility"),
            (solutions[1].id, "category", "safety"), (solutions[1].id, "municipality", "천안시")]
    for row in rows:
        db.session.execute(text("INSERT INTO search_facets (solution_id, facet, value) VALUES (:s, :f, :v)"),
                           dict(zip("sfv", row)))
    db.session.commit()

    _migrate(command.upgrade, migrations, "0019")
    named = db.session.execute(text("SELECT f.solution_id, f.facet, v.value FROM search_facets f "
                                    "JOIN search_facet_values v ON v.id = f.value_id AND v.facet = f.facet")).all()
    assert sorted(named) == sorted(rows)
    values = db.session.execute(text("SELECT facet, value FROM search_facet_values")).all()
    assert sorted(values) == [("category", "mobility"), ("category", "safety"), ("municipality", "천안시"),
                              ("year", "2023")]

    _migrate(command.downgrade, migrations, "0018")
    assert sorted(db.session.execute(text("SELECT solution_id, facet, value FROM search_facets")).all()) == sorted(rows)
    assert "search_facet_values" not in inspect(db.engine).get_table_names()
