"""Helpers every template can use."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_datetime, get_locale


def register_template_helpers(app: Flask) -> None:
    @app.template_filter("datetime")
    def _datetime(value, fmt: str = "medium"):
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("localized")
    def _localized(texts) -> str:
        """Pick the manifest text in the reader's language, else the other one."""
        if not isinstance(texts, dict):
            return texts or ""
        lang = str(get_locale() or "ko")
        other = "en" if lang == "ko" else "ko"
        return texts.get(lang) or texts.get(other) or next(iter(texts.values()), "")

    @app.context_processor
    def _globals():
        from flask_login import current_user

        from registry.notifications.service import unread_count

        unread = unread_count(current_user) if current_user.is_authenticated else 0
        return {"current_locale": str(get_locale() or "ko"), "unread_notifications": unread}
