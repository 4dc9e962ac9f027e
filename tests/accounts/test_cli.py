import pytest
from sqlalchemy import func, select

from registry.accounts.models import Membership, Organization, User
from registry.db import db
from registry.errors import InvalidInput


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_create_user_org_membership_and_token(runner):
    result = runner.invoke(args=["users", "create", "kim", "--email", "kim@example.org", "--role", "reviewer"],
                           input="a-good-password\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.username == "kim")).site_role == "reviewer"
    result = runner.invoke(args=["orgs", "create", "cheonan", "--kind", "municipality", "--name", "천안시"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["orgs", "add-member", "cheonan", "kim", "--role", "owner"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Membership)).role == "owner"
    result = runner.invoke(args=["tokens", "create", "kim", "--org", "cheonan", "--scope", "adopt", "--scope", "read",
                                 "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("solreg_")


def test_failures_exit_non_zero_with_one_line_and_change_nothing(runner):
    runner.invoke(args=["users", "create", "kim", "--email", "kim@example.org"], input="a-good-password\n")
    result = runner.invoke(args=["users", "create", "kim", "--email", "other@example.org"], input="a-good-password\n")
    assert result.exit_code == 1 and "taken" in result.output
    result = runner.invoke(args=["users", "create", "lee", "--email", "lee@example.org", "--role", "king"], input="pw\n")
    assert result.exit_code == 2 and "king" in result.output
    result = runner.invoke(args=["users", "create", "lee", "--email", "lee@example.org"], input="short\n")
    assert result.exit_code == 1 and "at least" in result.output
    result = runner.invoke(args=["orgs", "add-member", "nowhere", "kim"])
    assert result.exit_code == 1 and "no organization" in result.output
    result = runner.invoke(args=["orgs", "create", "x y", "--kind", "vendor", "--name", "X"])
    assert result.exit_code == 1
    result = runner.invoke(args=["tokens", "create", "kim", "--org", "nowhere", "--scope", "publish"])
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count(User.id))) == 1
    assert db.session.scalar(select(func.count(Organization.id))) == 0


def test_every_command_has_help(runner):
    for args in (["users", "create"], ["orgs", "create"], ["orgs", "add-member"], ["tokens", "create"],
                 ["demo"], ["storage", "verify"], ["storage", "gc"], ["audit", "verify"]):
        result = runner.invoke(args=[*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_demo_tells_its_stories_and_is_idempotent(runner):
    """After `demo`: a vulnerable release and the alert to its adopters, a failing check in the review
    queue, 천안시's data-hub profile, notifications, and a deprecated solution with its successor.
    Running it again adds nothing."""
    from registry.accounts.service import get_org
    from registry.catalog.fit import get_profile
    from registry.catalog.models import Adoption, DataHubProfile
    from registry.notifications.models import Notification
    from registry.releases.models import Release
    from registry.releases.service import get_release, get_solution
    from registry.review.service import QueueFilters, queue
    from registry.sbom.models import Finding, Vulnerability

    def counts():
        return [db.session.scalar(select(func.count(model.id))) for model in (
            User, Organization, Release, Adoption, Notification, Finding, DataHubProfile, Vulnerability)]

    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    after_first = counts()
    states = sorted(db.session.scalars(select(Release.state)))
    assert states.count("pending_review") == 2 and states.count("published") == 8  # every sample, some pending
    assert after_first[3] > 0
    cheonan, gwangmyeong = get_org("cheonan"), get_org("gwangmyeong")

    vulnerable = get_release("parking-share", "1.1.0")
    assert db.session.scalar(select(Finding).where(Finding.release_id == vulnerable.id,
                                                   Finding.vulnerability_id == "GHSA-9wx4-h78v-vm56"))
    told = {n.org_id for n in db.session.scalars(select(Notification).where(
        Notification.kind == "adoption.vulnerability", Notification.message.contains("parking-share 1.1.0")))}
    assert told == {cheonan.id, gwangmyeong.id}

    [failing] = queue(QueueFilters(checks="fail")).entries
    assert (failing.release.solution.name, failing.release.version) == ("drt-ageing-town", "1.1.0")
    check = next(c for c in failing.release.checks if c.name == "vulnerabilities")
    assert check.status == "fail" and check.details["findings"][0]["id"] == "GHSA-8q59-q68h-6hv4"

    profile = get_profile(cheonan.id)
    assert profile.spec_version == "1.8.1" and "OffStreetParking" in {e["type"] for e in profile.entity_types}

    deprecated = get_solution("bus-route-optimizer")
    assert (deprecated.state, deprecated.successor.name) == ("deprecated", "drt-ageing-town")
    [note] = db.session.scalars(select(Notification).where(Notification.kind == "adoption.deprecated"))
    assert note.org_id == cheonan.id and "후속 솔루션은 drt-ageing-town입니다" in note.message

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert counts() == after_first  # no second alert, profile or advisory either
    assert "천안시" in {o.name for o in db.session.scalars(select(Organization))}


def test_an_organisation_records_its_province_or_none(runner):
    result = runner.invoke(args=["orgs", "create", "cheonan", "--kind", "municipality", "--name", "천안시",
                                 "--province", "south-chungcheong"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created municipality organization cheonan (천안시, 충청남도)"
    assert runner.invoke(args=["orgs", "create", "gyeongsan", "--kind", "municipality", "--name", "경산시"]).exit_code == 0
    provinces = dict(db.session.execute(select(Organization.slug, Organization.province)).all())
    assert provinces == {"cheonan": "south-chungcheong", "gyeongsan": None}
    refused = runner.invoke(args=["orgs", "create", "seoul", "--kind", "municipality", "--name", "서울특별시",
                                  "--province", "서울"])
    assert refused.exit_code == 2 and "south-chungcheong" in refused.output


def test_the_database_refuses_a_province_outside_the_list(app):
    from sqlalchemy.exc import IntegrityError

    from registry.accounts import service

    with pytest.raises(InvalidInput):
        service.create_org("seoul", "서울특별시", "municipality", "seoul-city")
    db.session.add(Organization(slug="seoul", name="서울특별시", kind="municipality", province="seoul-city"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
