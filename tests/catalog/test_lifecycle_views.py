"""A solution's lifecycle on its page: the owning organization's form, the confirm step, the banner
readers see, and careless or hostile posts refused in the reader's language with nothing written."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.catalog.adoption import record_adoption
from registry.db import db
from registry.notifications.models import Notification
from registry.releases.service import get_solution, set_solution_state
from tests.helpers import csrf_token, login

PAGE = "/solutions/parking-share"


@pytest.fixture
def solutions(publish, municipality):
    """hanbit's parking-share 1.0.0, run by cheonan, and parking-hub 1.0.0, a possible successor."""
    parking = publish("parking-share", "1.0.0")
    publish("parking-hub", "1.0.0")
    cheonan = db.session.scalar(select(User).where(User.username == "cheonan"))
    record_adoption(cheonan, municipality, parking, "production", date(2024, 5, 1))
    db.session.commit()
    return parking


def post_state(client, *, token: str | None = None, confirmed: str = "", **fields):
    data = {f"state-{key}": value for key, value in fields.items()} | {"state-confirmed": confirmed}
    if token is not None:
        data["state-csrf_token"] = token
    return client.post(f"{PAGE}/state", data=data)


def nothing_written() -> bool:
    db.session.expire_all()
    return (get_solution("parking-share").state == "active"
            and db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "solution.state")) == 0
            and db.session.scalar(select(func.count(Notification.id)).where(
                Notification.kind.in_(["adoption.deprecated", "adoption.archived"]))) == 0)


def test_only_the_owning_organization_sees_the_form(client, solutions):
    assert 'id="lifecycle"' not in client.get(PAGE).get_data(as_text=True)
    login(client, "cheonan")
    assert 'id="lifecycle"' not in client.get(PAGE).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, PAGE)})
    login(client, "hanbit-owner")
    page = client.get(PAGE + "?lang=en").get_data(as_text=True)
    form = page[page.index('id="lifecycle"'):page.index('id="adopters"')]
    assert 'value="deprecated"' in form and 'value="archived"' in form and 'value="active"' not in form
    assert '<option value="parking-hub">Smart Parking Sharing (parking-hub)</option>' in form
    assert '<option value="parking-share">' not in form  # never its own successor


def test_deprecating_is_confirmed_first_then_shown_and_told(client, solutions):
    login(client, "hanbit-owner")
    token = csrf_token(client, PAGE)
    confirm = post_state(client, token=token, state="deprecated", successor="parking-hub", reason="허브로 통합합니다")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "상태 변경 확인" in text and "천안시" in text and 'name="state-confirmed" type="hidden" value="yes"' in text
    assert nothing_written()

    done = post_state(client, token=token, confirmed="yes", state="deprecated", successor="parking-hub",
                      reason="허브로 통합합니다")
    assert done.status_code == 302 and done.headers["Location"].endswith(PAGE)
    page = client.get(PAGE).get_data(as_text=True)
    assert "사용 중단을 권고했습니다" in page  # the flash
    banner = page[page.index('id="solution-state"'):]
    banner = banner[:banner.index("</p>")]
    assert "사용 중단 권고" in banner and 'href="/solutions/parking-hub"' in banner and "사유: 허브로 통합합니다" in banner
    [note] = db.session.scalars(select(Notification).where(Notification.kind == "adoption.deprecated"))
    assert "parking-hub" in note.message and "허브로 통합합니다" in note.message
    english = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "Deprecated" in english and "Successor:" in english


@pytest.mark.parametrize("fields, status, korean", [
    ({"state": "deprecated", "successor": "parking-share"}, 400, "자기 자신의 후속 솔루션"),
    ({"state": "deprecated", "successor": "no-such-thing"}, 404, "no-such-thing(이)라는 솔루션이 없습니다"),
    ({"state": "archived", "successor": "parking-hub"}, 400, "사용 중단을 권고할 때만"),
    ({"state": "active"}, 409, "지금 상태에서는"),
    ({"state": "deprecated", "reason": "한 줄\n두 줄"}, 400, "한 줄로 적어 주세요"),
])
def test_refusals_show_on_the_form_in_korean_and_write_nothing(client, solutions, fields, status, korean):
    login(client, "hanbit-owner")
    token = csrf_token(client, PAGE)
    for confirmed in ("", "yes"):
        response = post_state(client, token=token, confirmed=confirmed, **fields)
        assert response.status_code == status
        text = response.get_data(as_text=True)
        form = text[text.index('id="lifecycle"'):text.index('id="adopters"')]
        assert korean in form
        assert nothing_written()


def test_a_non_member_gets_the_error_page(client, solutions):
    login(client, "cheonan")
    response = post_state(client, token=csrf_token(client, PAGE), confirmed="yes", state="archived")
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert 'id="lifecycle"' not in response.get_data(as_text=True)
    assert nothing_written()


def test_without_the_csrf_token_nothing_changes(client, solutions):
    login(client, "hanbit-owner")
    assert post_state(client, confirmed="yes", state="archived").status_code == 400
    assert nothing_written()


def test_a_mirrored_solution_has_no_form_and_refuses_a_post(client, solutions):
    get_solution("parking-share").mirrored_from = "solreg.other/log"
    db.session.commit()
    login(client, "hanbit-owner")
    token = csrf_token(client, PAGE)
    assert 'id="lifecycle"' not in client.get(PAGE).get_data(as_text=True)
    assert post_state(client, token=token, confirmed="yes", state="archived").status_code == 409
    db.session.expire_all()
    assert get_solution("parking-share").state == "active"


def test_an_archived_solution_says_so_and_may_be_reactivated(client, solutions):
    owner = db.session.scalar(select(User).where(User.username == "hanbit-owner"))
    set_solution_state(owner, get_solution("parking-share"), "archived")
    db.session.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert "보관됨" in page and "새 버전을 더 받지 않습니다" in page
    login(client, "hanbit-owner")
    page = client.get(PAGE + "?lang=en").get_data(as_text=True)
    form = page[page.index('id="lifecycle"'):page.index('id="adopters"')]
    assert 'value="active"' in form and 'value="deprecated"' not in form
    token = csrf_token(client, PAGE)
    assert post_state(client, token=token, confirmed="yes", state="active").status_code == 302
    db.session.expire_all()
    assert get_solution("parking-share").state == "active"
