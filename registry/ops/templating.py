"""Helpers every template can use."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import Flask

from registry.ops import wording
from registry.spec.deploy import DEPLOY_KINDS
from registry.spec.vocabulary import localized
from registry.web import localized_for_reader, reader_locale

# One way to write times everywhere, in both languages: ISO-like and in Korean time, since the
# registry serves Korean cities (the database stores UTC).
DISPLAY_ZONE = ZoneInfo("Asia/Seoul")


def format_day(value: date | datetime | None) -> str:
    """2026-12-01"""
    if isinstance(value, datetime):
        value = _local(value)
    return value.strftime("%Y-%m-%d") if value else ""


def format_moment(value: datetime | None) -> str:
    """2026-12-01 14:05 (KST)"""
    return _local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def deploy_kind_label(kind: str) -> str:
    """The deployment kind's name in the reader's language (an unknown kind shows as written)."""
    known = DEPLOY_KINDS.get(kind)
    return localized(known.label, reader_locale()) if known else kind


def _local(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(DISPLAY_ZONE)


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(format_moment, "datetime")
    app.add_template_filter(format_day, "day")
    app.add_template_filter(wording.check_summary, "check_summary")
    app.add_template_filter(wording.event_sentence, "event_sentence")
    app.add_template_filter(wording.verdict_label, "verdict")
    app.add_template_filter(wording.people_message, "for_people")
    app.add_template_filter(wording.detail_rows, "detail_rows")
    app.add_template_filter(wording.check_name, "check_name")
    app.add_template_filter(wording.json_text, "tojson_text")

    app.add_template_filter(localized_for_reader, "localized")
    app.add_template_filter(deploy_kind_label, "deploy_kind")

    @app.context_processor
    def _globals():
        from flask_login import current_user

        from registry.accounts.service import allowed_scopes
        from registry.notifications.service import unread_count

        signed_in = current_user.is_authenticated
        unread = unread_count(current_user) if signed_in else 0
        # "My releases" only for people whose organisation may publish (vendors, the agency).
        publishes = signed_in and any("publish" in allowed_scopes(current_user, m.org) for m in current_user.memberships)
        return {"current_locale": reader_locale(), "unread_notifications": unread,
                "can_publish": publishes}
