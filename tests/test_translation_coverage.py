"""No English in the Korean interface: template text, check summaries, audit events and the
service errors shown on web forms all come out in Korean, and every catalogue entry is translated."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment

from registry.ops import wording

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "registry" / "translations" / "ko" / "LC_MESSAGES" / "messages.po"
HANGUL = re.compile("[\uac00-\ud7a3]")
# Text that is the same in both languages: product and format names, file names, symbols.
NOT_WORDS = {"README", "JSON", "SBOM", "English", "NGSI-LD", "sha256:", "publiccode.yml", "TOTP", "API", "URL", "ID", "kube"}
ERROR_CLASSES = {"InvalidInput", "Unprocessable", "Unauthorized", "Forbidden", "NotFound", "Conflict"}
# Service modules whose errors reach web forms and pages (the rest answer API clients only).
WEB_ERROR_PRODUCERS = {
    "registry/catalog/fit.py": None, "registry/catalog/adoption.py": None, "registry/catalog/search.py": None,
    "registry/review/service.py": {"require_reviewer", "require_independent", "get_release", "claim", "unclaim",
                                   "_reason_snapshots", "decide"},
    "registry/review/checks.py": {"rerun"},
    "registry/releases/service.py": {"get_solution", "get_release", "refuse_mirrored", "authorise_state_change",
                                     "plan_solution_state"},
    "registry/releases/states.py": {"check_solution_transition", "one_line_reason"},
}


def _template_text(path: Path) -> list[str]:
    """English words of a template's own text: outside HTML tags, {{ }} (where `_()` translates) and {% %}."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    # Jinja code becomes a marker, so a tag with expressions inside is still one tag to strip.
    source = "".join(value if kind == "data" else "\x00" if kind in ("variable_begin", "block_begin") else ""
                     for _line, kind, value in env.lex(path.read_text(encoding="utf-8")))
    text = re.sub(r"<[^>]*>|&[a-z]+;|&#\d+;", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S))
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9.:-]*[A-Za-z0-9:]", text) if w not in NOT_WORDS]


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_untranslated_text(path):
    assert _template_text(path) == [], f"{path.relative_to(ROOT)}: wrap this text in _()"


def test_every_catalogue_entry_has_a_korean_translation():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="ko")
    empty = [m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert empty == []


def _raised_details(relative: str, functions: set[str] | None) -> list[str]:
    """Each `raise SomeError("…")` detail of the module, placeholders filled with 1 ('1' for !r)."""
    tree = ast.parse((ROOT / relative).read_text(encoding="utf-8"))
    scopes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and (functions is None or n.name in functions)]
    details = []
    for scope in scopes:
        for node in ast.walk(scope):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and \
                    getattr(node.exc.func, "id", None) in ERROR_CLASSES and node.exc.args:
                details.append(_sample(node.exc.args[0]))
    return details


def _sample(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    assert isinstance(node, ast.JoinedStr), ast.dump(node)
    return "".join(str(part.value) if isinstance(part, ast.Constant) else ("'1'" if part.conversion == ord("r") else "1")
                   for part in node.values)


@pytest.mark.parametrize("relative", sorted(WEB_ERROR_PRODUCERS))
def test_every_error_shown_on_the_web_reads_in_korean(app, relative):
    details = _raised_details(relative, WEB_ERROR_PRODUCERS[relative])
    assert details
    with app.test_request_context("/?lang=ko"):
        generic = {str(text) for text in wording.FALLBACK.values()}
        untranslated = [d for d in details if wording.people_message(d) in generic]
    assert untranslated == [], "add a sentence to registry/ops/wording.py MESSAGES for these"


def test_in_english_an_unknown_error_is_shown_as_it_is(app):
    with app.test_request_context("/?lang=en"):
        assert wording.people_message("cannot reject a release that is published", 409) == \
            "cannot reject a release that is published"


def test_in_korean_an_error_is_shown_in_korean(app):
    with app.test_request_context("/?lang=ko"):
        assert HANGUL.search(wording.people_message("cannot reject a release that is published", 409))
        assert wording.people_message("no solution named '주차'", 404) == "주차(이)라는 솔루션이 없습니다."


def test_every_audit_action_has_a_sentence():
    recorded = set()
    for path in (ROOT / "registry").rglob("*.py"):
        recorded |= set(re.findall(r"audit\.record\(\s*\"([a-z_.]+)\"", path.read_text(encoding="utf-8")))
    from registry.review.models import ReviewDecision

    recorded |= {f"review.{event}" for event in (*ReviewDecision, "first_approval")}
    assert recorded and recorded <= set(wording.EVENTS), sorted(recorded - set(wording.EVENTS))


def test_upload_checks_are_summarised_in_korean(app, client, upload, vendor_token):
    from registry.releases.service import get_release

    assert upload(vendor_token).status_code == 201
    checks = get_release("parking-share", "1.2.0").checks
    assert {c.name for c in checks} >= {"manifest", "archive", "datahub", "deploy", "provenance", "dependencies"}
    with app.test_request_context("/?lang=ko"):
        summaries = {c.name: wording.check_summary(c) for c in checks}
    assert all(HANGUL.search(s) for s in summaries.values()), summaries
    assert "solution.yaml" in summaries["manifest"]


def test_a_signed_provenance_check_reads_as_signed(app):
    from registry.releases.models import Check

    # A tag that does not name the version never gets this far: the upload is refused.
    check = Check(name="provenance", status="pass", details={
        "repository": "https://git.example.go.kr/parking-share", "tag": "v1.2.0", "commit": "a" * 40,
        "signed": True, "signer": "한빛개발자", "keyid": "k1"})
    with app.test_request_context("/?lang=en"):
        assert wording.check_summary(check) == f"Signed by 한빛개발자; built from v1.2.0 ({'a' * 12})"


def test_check_details_read_as_text_not_escaped_json():
    rows = wording.detail_rows({"unresolved": [{"name": "주차-허브", "version": ">=1.25.0", "published": []}],
                                "targets": [], "signed": False})
    assert rows == [("unresolved", ["name: 주차-허브, version: >=1.25.0"]), ("signed", ["False"])]
