"""The compiled RFC 3987 patterns agree with the reference parser (rfc3987-syntax) on real and hostile URLs."""

from __future__ import annotations

import gzip
import json

import pytest
from rfc3987_syntax import is_valid_syntax

from registry.spec.sbom.formats import is_iri, is_iri_reference
from tests.spec.sbom.realsbom import SBOMS

HOSTILE = [
    "", "#", "?", "//", "///", "a:", "1a:b", "-a:b", ":no-scheme", "a:b:c", "a@b", "@", "a/:", "a:/b", "/abs",
    "../relative/path", "./x", "a/b/c", "%41", "%4", "a%20b", "?a=b", "#a/b",
    "${project.url}", "${project.scm.url}/tree/main", "${project.organization.url}", "${env.HOME}",
    "https://example.org/a b", "http://a b/", "http://a/<b>", 'http://a/"', "http://a/{x}", "http://a/|", "http://a/\\",
    "http://a/^", "http://a/`", "C:\\Windows", "c:/windows",
    "javascript:alert(1)", "javascript:alert(document.cookie)//", "data:text/plain,hi", "file:///etc/passwd",
    "http://x/\x00", "http://x/\n", "http://x/\r\n", "http://x/\t", "http://a/\x7f", "http://a/\u009f", "\x1b[31mred",
    "https://例え.テスト/パス", "http://주차.한국/경로?질의=값#조각", "http://a/\u00a0", "http://a/\ufdd0", "http://a/\ufffe",
    "http://a/\ufeff", "http://a/\ue000", "http://a/?\ue000", "http://a/#\ue000", "https://a/\ud800",
    "http://user:pa%20ss@host:8080/p", "http://host:port/", "http://host:/", "http://%zz/", "http://a%2", "http://a/%",
    "http://a/%C3%A9", "http://a/b?c#d#e", "http://a/b?c?d#f?g", "http://a:80:80/", "http://a@b@c/", "HTTP://A/",
    "http://1.2.3.4/", "http://999.2.3.4/", "http://[1.2.3.4]/", "http://[1:2:3:4:5:6:7:8]/", "http://[1:2:3:4:5:6:1.2.3.4]/",
    "http://[1:2:3:4:5:6:7:8:9]/", "http://[1::2::3]/", "http://[zz::1]/", "http://[::1", "http://[v1.fe]/", "http://[v.x]/",
    "http://[vF.x:y]/", "http://[1:2:3:4:5:6:7::]/", "http://[::2:3:4:5:6:7:8]/",
    "mailto:someone@example.org", "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", "scm:git:https://github.com/x/y.git",
    "git+ssh://git@github.com/foo/bar.git", "git+https://github.com/expressjs/express.git", "git://github.com/x/y",
    "ssh://git@github.com:22/x/y.git", "git@github.com:x/y.git",
    "pkg:npm/%40babel/core@7.24.0", "pkg:maven/org.apache.commons/commons-lang3@3.12.0?type=jar",
    "pkg:pypi/requests@2.32.3", "pkg:golang/github.com/x/y@v1.0.0#sub/dir",
    "https://a/" + "x" * 400, "http://" + "a" * 300 + "@" * 2, "x" * 400, "http://a/" + "%41" * 100 + "%",
]

# Where rfc3987-syntax departs from RFC 3987, we follow the RFC: its grammar has no
# supplementary-plane characters in ucschar and only some of the shortened IPv6 forms.
RFC_NOT_REFERENCE = [
    "http://[::1]/", "http://[::1]:8080/", "http://[::]/", "http://[1::2:3]/", "http://[2001:db8::7]/c=GB",
    "http://[::ffff:192.0.2.1]/", "http://a/\U0001f600", "https://a/주차\U00020000",
]


def generator_urls() -> list[str]:
    """Every externalReferences url in the real npm fixture (one per distinct shape of URL)."""
    document = json.loads(gzip.decompress((SBOMS / "real" / "cyclonedx-npm-1.4.cdx.json.gz").read_bytes()))
    urls: set[str] = set()
    stack = list(document["components"])
    while stack:
        component = stack.pop()
        stack.extend(component.get("components") or [])
        urls.update(reference["url"] for reference in component.get("externalReferences") or [])
    by_shape = {}
    for url in sorted(urls):
        by_shape.setdefault((url.split(":", 1)[0], url.count("/"), "#" in url, "?" in url), url)
    return sorted(by_shape.values())


@pytest.mark.parametrize("value", generator_urls() + HOSTILE)
def test_agrees_with_the_reference_parser(value):
    assert is_iri_reference(value) == is_valid_syntax("iri_reference", value)
    assert is_iri(value) == is_valid_syntax("iri", value)


@pytest.mark.parametrize("value", RFC_NOT_REFERENCE)
def test_follows_the_rfc_where_the_reference_parser_does_not(value):
    assert is_iri_reference(value) and is_iri(value)
    assert not is_valid_syntax("iri_reference", value)


def test_the_corpus_covers_both_verdicts():
    verdicts = [is_iri_reference(value) for value in HOSTILE]
    assert 20 < sum(verdicts) < len(verdicts) - 20


@pytest.mark.parametrize(("value", "valid"), [
    ("https://a/" + "x" * 1_000_000, True), ("http://" + "a" * 200_000 + "@" * 2, False),
    ("http://" + ":" * 200_000 + "x", False), ("a" * 500_000 + ":", True),
    ("http://[" + "1:" * 100_000 + "]/", False), ("#" + "%41" * 200_000 + "%4", False),
])
def test_very_long_values(value, valid):
    # Too long for the reference parser (minutes each); a backtracking pattern would not finish either.
    assert is_iri_reference(value) is valid


def test_non_strings_pass_as_jsonschema_formats_do():
    assert is_iri_reference(42) and is_iri(None)
