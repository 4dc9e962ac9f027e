"""Vocabularies and the docs: every list has labels, every problem code is
documented, and every documented code is exercised by a fixture or a named test."""

from __future__ import annotations

import re
from pathlib import Path

from registry.spec import vocabulary as vocab
from tests.spec.spec_support import INVALID

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "manifest.md").read_text(encoding="utf-8")
SOURCES = ["validator.py", "deploy.py", "sbomfile.py", "yamlload.py"]
# Codes whose input cannot be a committed fixture (huge or needing an empty
# directory) and the test that covers each.
TESTED_ELSEWHERE = {
    "yaml-too-large": "test_yamlload.py::test_fifty_megabytes_is_refused_without_parsing",
    "yaml-binary": "test_yamlload.py::test_binary_junk",
    "yaml-not-utf8": "test_yamlload.py::test_non_utf8_points_at_the_first_bad_byte",
    "yaml-empty": "test_yamlload.py::test_empty_file_and_comment_only_file",
    "yaml-too-deep": "test_yamlload.py::test_ten_thousand_deep_nesting",
    "yaml-too-many-documents": "test_yamlload.py::test_too_many_documents",
    "manifest-missing": "test_validator.py::test_directory_without_manifest",
    "file-too-large": "test_deploy.py::test_missing_path_and_large_file",
    "vm-path-empty": "test_deploy.py::test_empty_vm_directory",
    "sbom-too-large": "test_sbomfile.py::test_missing_and_too_large",
}


def emitted_codes() -> set[str]:
    package = ROOT / "registry" / "spec"
    text = "\n".join((package / name).read_text(encoding="utf-8") for name in SOURCES)
    codes = set(re.findall(r'"([a-z0-9]+(?:-[a-z0-9]+)+)"', text))
    return {c for c in codes if c != "utf-8"}


def documented_codes() -> set[str]:
    return set(re.findall(r"^\| `([a-z0-9-]+)` \| (?:error|warning) \|", DOC, re.MULTILINE))


def test_every_emitted_code_is_documented() -> None:
    assert emitted_codes() - documented_codes() == set()
    assert documented_codes() - emitted_codes() == set()


def test_every_documented_code_is_exercised() -> None:
    fixtures = {p.stem for p in INVALID.glob("*.yaml")}
    missing = documented_codes() - fixtures - set(TESTED_ELSEWHERE)
    assert missing == set()
    for code, test in TESTED_ELSEWHERE.items():
        file_name, function = test.split("::")
        source = (Path(__file__).parent / file_name).read_text(encoding="utf-8")
        assert f"def {function}(" in source and code in source, test


def test_labels_cover_every_value_in_both_languages() -> None:
    for labels in (vocab.CATEGORY_LABELS, vocab.PROGRAMME_LABELS, vocab.DEVELOPMENT_STATUS_LABELS, vocab.MAINTENANCE_TYPE_LABELS):
        for key, names in labels.items():
            assert set(names) == set(vocab.LANGUAGES) and all(names.values()), key
    assert len(vocab.CATEGORIES) == 16
    assert vocab.PROGRAMME_LABELS["small-strong-population"] == {"ko": "강소형 스마트시티(지역소멸 대응)", "en": "Small-and-strong (local extinction)"}
    assert vocab.label(vocab.CATEGORY_LABELS, "parking") == "주차"
    assert vocab.label(vocab.CATEGORY_LABELS, "parking", "en") == "Parking"
    assert vocab.label(vocab.CATEGORY_LABELS, "unknown") == "unknown"


def test_vocabulary_tables_in_the_docs() -> None:
    for labels in (vocab.CATEGORY_LABELS, vocab.PROGRAMME_LABELS):
        for key, names in labels.items():
            assert f"| `{key}` | {names['ko']} | {names['en']} |" in DOC


def test_accepted_licences() -> None:
    assert {"Apache-2.0", "MIT", "EUPL-1.2", "GPL-3.0-or-later", "MPL-2.0"} <= vocab.ACCEPTED_LICENSES
    assert "EUPL-1.0" in vocab.ACCEPTED_LICENSES and "EUPL-1.0" not in vocab.OSI_APPROVED_LICENSES
    assert not {"CC-BY-NC-4.0", "CC-BY-4.0", "BUSL-1.1", "SSPL-1.0", "Elastic-2.0"} & vocab.ACCEPTED_LICENSES


def test_localized_prefers_the_language_then_the_other_then_any() -> None:
    both = {"ko": "주차 공유", "en": "Parking share"}
    assert vocab.localized(both, "ko") == "주차 공유"
    assert vocab.localized(both, "en") == "Parking share"
    assert vocab.localized({"ko": "주차 공유", "en": ""}, "en") == "주차 공유"
    assert vocab.localized({"ja": "駐車"}, "ko") == "駐車"
    assert vocab.localized("주차", "en") == "주차"
    assert vocab.localized(None, "ko") == "" and vocab.localized({}, "ko") == ""
