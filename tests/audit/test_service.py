from sqlalchemy import select, text

from registry.audit import service as audit
from registry.audit.models import AuditEvent
from registry.db import db


def _three_events():
    for i in range(3):
        audit.record("test.event", details={"n": i, "텍스트": "한글"})
    db.session.commit()


def test_chain_verifies_when_untouched(app):
    _three_events()
    count, problems = audit.verify_chain()
    assert count == 3 and problems == []
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert events[0].prev_hash == audit.GENESIS
    assert events[1].prev_hash == events[0].hash


def test_edited_row_is_detected(app):
    _three_events()
    second = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()[1]
    db.session.execute(text("UPDATE audit_events SET action = 'forged' WHERE id = :id"), {"id": second.id})
    db.session.commit()
    _, problems = audit.verify_chain()
    assert [p.event_id for p in problems] == [second.id]


def test_deleted_row_is_detected(app):
    _three_events()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    db.session.commit()
    _, problems = audit.verify_chain()
    assert [p.event_id for p in problems] == [events[2].id]


def test_admin_sees_the_log_others_do_not(app, client, make_user):
    from tests.helpers import login

    make_user("boss", role="admin")
    make_user("kim")
    login(client, "kim")
    assert client.get("/admin/audit/").status_code == 403
    other = app.test_client()
    login(other, "boss")
    page = other.get("/admin/audit/?action=user.create")
    assert page.status_code == 200
    assert "user.create" in page.get_data(as_text=True) and "kim" in page.get_data(as_text=True)
