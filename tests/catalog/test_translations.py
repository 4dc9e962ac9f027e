"""Every interface string has a Korean translation, and the compiled catalogue matches the .po file."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "registry" / "translations" / "ko" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _interface_msgids() -> set:
    method_map, options_map = parse_mapping_cfg((ROOT / "registry" / "translations" / "babel.cfg").open())
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(path: Path, reader) -> dict:
    with path.open("rb") as f:
        catalog = reader(f, locale="ko") if reader is read_po else reader(f)
    # Plural entries come back as tuples from .po files and as lists from .mo files.
    return {(m.id[0] if isinstance(m.id, (tuple, list)) else m.id):
            (tuple(m.string) if isinstance(m.string, (tuple, list)) else m.string) for m in catalog if m.id}


def test_every_interface_string_is_translated_to_korean():
    translations = _catalog(PO, read_po)
    untranslated = sorted(msgid for msgid in _interface_msgids()
                          if not (translations.get(msgid) if not isinstance(translations.get(msgid), tuple)
                                  else all(translations[msgid])))
    assert not untranslated, "run the pybabel steps in docs/catalog.md; untranslated:\n" + "\n".join(untranslated)


def test_compiled_catalogue_is_up_to_date():
    assert _catalog(PO.with_suffix(".mo"), read_mo) == _catalog(PO, read_po)


def test_korean_is_the_default_and_english_the_switch(client):
    assert "스마트시티 솔루션 레지스트리" in client.get("/").get_data(as_text=True)
    assert "Smart City Solution Registry" in client.get("/?lang=en").get_data(as_text=True)
