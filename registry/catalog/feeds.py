"""Atom feeds (RFC 4287) of newly published releases: all of them, or one category's."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from registry.db import db, utcnow
from registry.releases.models import Release, ReleaseState
from registry.releases.service import release_link
from registry.spec.vocabulary import CATEGORY_LABELS, label, localized

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
# Category feeds filter recent releases in Python (categories live in the manifest); this bounds the scan.
SCAN_LIMIT = 2000


def recent_releases(category: str | None = None, limit: int = FEED_SIZE) -> list[Release]:
    rows = db.session.scalars(select(Release).where(Release.state == ReleaseState.PUBLISHED)
                              .order_by(Release.published_at.desc(), Release.id.desc()).limit(SCAN_LIMIT))
    chosen = []
    for release in rows:
        if category is None or category in ((release.manifest or {}).get("categories") or []):
            chosen.append(release)
            if len(chosen) == limit:
                break
    return chosen


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def _stamp(value: datetime | None) -> str:
    return (value or utcnow()).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(releases: list[Release], *, title: str, self_url: str, lang: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    _text(feed, "id", self_url)
    _text(feed, "title", title)
    _text(feed, "updated", _stamp(releases[0].published_at if releases else None))
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "type": "application/atom+xml", "href": self_url})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html",
                                            "href": url_for("catalog.home", _external=True)})
    _text(feed, "generator", "Smart City Solution Registry")
    for release in releases:
        manifest = release.manifest or {}
        name, version = release.solution.name, release.version
        page = release_link(release)
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", page)
        _text(entry, "title", f"{localized(manifest.get('title'), lang) or name} {version}")
        _text(entry, "updated", _stamp(release.published_at))
        _text(entry, "published", _stamp(release.published_at))
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": page})
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        _text(author, "name", release.solution.org.name)
        for category in manifest.get("categories") or []:
            ET.SubElement(entry, f"{{{ATOM}}}category",
                          {"term": category, "label": label(CATEGORY_LABELS, category, lang)})
        _text(entry, "summary", localized(manifest.get("summary"), lang))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def feed_title(category: str | None, lang: str) -> str:
    if category is None:
        return _("New releases · Smart City Solution Registry")
    return _("New releases in %(category)s · Smart City Solution Registry",
             category=label(CATEGORY_LABELS, category, lang))
