"""The files of a release and the source diff between releases: what a reviewer (and, for
published releases, the public) reads, served from the stored archive, always escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.review.files import release_files, tree, view_file
from registry.review.sourcediff import file_diff, line_diff, source_diff
from registry.spec.members import classify, decode, is_generated
from tests.helpers import login
from tests.review.conftest import auth
from tests.review.samples import sample_files, sample_package

SCRIPT = "<script>alert(1)</script>"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4


@pytest.fixture
def signed_in(app):
    def _client(username: str):
        client = app.test_client()
        client.get("/lang/en")
        assert login(client, username).status_code == 302
        return client

    return _client


@pytest.fixture
def sample_release(upload, vendor_token):
    from registry.db import db
    from registry.releases.models import Release

    def _release(version: str, **changes):
        response = upload(vendor_token, sample_package(version, **changes))
        assert response.status_code == 201, response.json
        return db.session.get(Release, response.json["release"]["id"])

    return _release


def approve(client, token, release) -> None:
    response = client.post(f"/api/v1/reviews/{release.id}", json={"decision": "approve"}, headers=auth(token))
    assert response.status_code == 200, response.json
    assert release.state == "published"


@pytest.fixture
def two_versions(client, sample_release, reviewer_token):
    """0.1.0 published; 0.1.1 pending, which deletes LICENSE, commits the old tarball under dist/,
    changes one Python file and renames another."""
    base = sample_release("0.1.0")
    approve(client, reviewer_token, base)
    finder = sample_files()["parking_share/finder.py"].decode()
    changed = finder.replace("def ", "def _renamed_", 1) if "def " in finder else finder + "\n# 변경\n"
    moved = sample_files()["parking_share/ngsi.py"]
    update = sample_release("0.1.1", remove=("LICENSE", "parking_share/ngsi.py"), files={
        "dist/old.tar.gz": sample_package("0.1.0"), "parking_share/finder.py": changed.encode(),
        "parking_share/datahub.py": moved})
    return base, update, finder, changed


def text(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:400])
    return response.get_data(as_text=True)


# --- security -------------------------------------------------------------------------------

def test_package_html_is_shown_escaped_never_rendered(sample_release, reviewer, signed_in):
    name = f"{SCRIPT}.html"
    release = sample_release("0.1.0", files={name: f"<p>안녕</p>{SCRIPT}\n".encode()})
    for who in ("vendor", "reviewer"):
        client = signed_in(who)
        tree_html = text(client, f"/review/releases/{release.id}/files")
        # The "/" in the name makes a folder "<script>alert(1)<" holding "script>.html".
        assert SCRIPT not in tree_html and "&lt;script&gt;alert(1)&lt;/" in tree_html and "script&gt;.html" in tree_html
        view = client.get(f"/review/releases/{release.id}/files/{name}")
        body = view.get_data(as_text=True)
        assert view.status_code == 200 and view.mimetype == "text/html"
        assert SCRIPT not in body and "<p>안녕" not in body
        assert "&lt;script&gt;" in body and 'id="L1"' in body
        assert 'style="' not in body  # classes only: the CSP has no 'unsafe-inline' for styles


@pytest.mark.parametrize("path", ["../solution.yaml", "/etc/passwd", "%2e%2e/solution.yaml", "..%2fsolution.yaml",
                                  "parking_share/../solution.yaml", "./solution.yaml", "no-such-file.py"])
def test_paths_outside_the_archive_are_not_found(sample_release, signed_in, path):
    release = sample_release("0.1.0")
    client = signed_in("vendor")
    text(client, f"/review/releases/{release.id}/files/solution.yaml")
    # werkzeug merges the double slash of "files//etc" with a redirect; what is left is still no member.
    assert client.get(f"/review/releases/{release.id}/files/{path}", follow_redirects=True).status_code == 404


def test_pending_files_are_hidden_from_other_orgs_and_the_public(client, sample_release, make_user, reviewer,
                                                                signed_in):
    release = sample_release("0.1.0")
    make_user("rival", org="rival-soft")
    for who in (client, signed_in("rival")):
        for path in ("files", "files/solution.yaml", "diff"):
            assert who.get(f"/review/releases/{release.id}/{path}").status_code == 404
        assert who.get("/solutions/parking-share/compare/0.1.0...0.1.0").status_code == 404
    text(signed_in("vendor"), f"/review/releases/{release.id}/files")  # the owning org
    text(signed_in("reviewer"), f"/review/releases/{release.id}/files")


def test_binary_file_is_listed_not_rendered(sample_release, signed_in):
    release = sample_release("0.1.0", files={"bin/agent": ELF, "docs/logo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64})
    files = release_files(release)
    assert files.entry("bin/agent").kind == "binary" and files.entry("docs/logo.png").kind == "image"
    client = signed_in("vendor")
    tree_html = text(client, f"/review/releases/{release.id}/files")
    assert f'href="/review/releases/{release.id}/files/bin/agent"' in tree_html
    body = text(client, f"/review/releases/{release.id}/files/bin/agent")
    assert "not shown" in body and 'id="L1"' not in body and "ELF" not in body


def test_huge_text_file_is_cut_with_a_note(sample_release, signed_in):
    line = "주차면 = '빈자리'  # 한국어 주석이 있는 긴 줄\n"
    big = (line * (2 * 1024 * 1024 // len(line.encode()) + 10)).encode()
    release = sample_release("0.1.0", files={"data/big.py": big})
    view = view_file(release, "data/big.py")
    assert view.kind == "text" and view.cut and 0 < len(view.lines) < view.total_lines
    assert len(view.lines) * len(line.encode()) <= 1024 * 1024
    body = text(signed_in("vendor"), f"/review/releases/{release.id}/files/data/big.py")
    assert "Only the first" in body and f'id="L{len(view.lines)}"' in body and f'id="L{len(view.lines) + 1}"' not in body


# --- the file tree and viewer ----------------------------------------------------------------

def test_file_tree_lists_sizes_types_executable_bit_and_sha256(sample_release, reviewer, signed_in):
    release = sample_release("0.1.0", files={"run.sh": b"#!/bin/sh\necho \xec\xa3\xbc\xec\xb0\xa8\n"})
    files = release_files(release)
    readme = files.entry("README.md")
    assert readme.kind == "text" and not readme.executable and len(readme.sha256) == 64
    root = tree(files.entries)
    assert "parking_share" in root.directories and root.count == len(files.entries)
    html = text(signed_in("reviewer"), f"/review/releases/{release.id}/files")
    assert readme.sha256 in html and "parking_share" in html and "finder.py" in html


def test_korean_legacy_encoding_is_decoded():
    assert decode("주차 공유".encode("cp949")) == ("주차 공유", "cp949")
    assert decode("주차 공유".encode()) == ("주차 공유", "utf-8")
    assert decode(b"\x00\x01binary") is None
    assert classify("a.tar.gz", b"\x1f\x8b\x08") == "archive" and classify("x", ELF) == "binary"


def test_python_file_is_highlighted_with_line_anchors(sample_release, reviewer, signed_in):
    release = sample_release("0.1.0")
    view = view_file(release, "parking_share/finder.py")
    assert view.kind == "text" and not view.cut and view.total_lines == len(view.lines)
    body = text(signed_in("reviewer"), f"/review/releases/{release.id}/files/parking_share/finder.py?lang=ko")
    assert 'href="#L1"' in body and '<span class="k">' in body
    assert "줄" in body  # Korean page by default


def test_code_stylesheet_carries_the_pygments_classes():
    from pygments.formatters import HtmlFormatter

    css = (Path(__file__).resolve().parents[2] / "static" / "code.css").read_text()
    for rule in HtmlFormatter().get_style_defs(".hl").splitlines():
        if rule.startswith(".hl ."):
            assert rule in css, f"static/code.css is stale; regenerate it ({rule})"


def test_generated_paths():
    assert is_generated("dist/old.tar.gz") and is_generated("web/node_modules/x/index.js")
    assert is_generated("static/app.min.js") and is_generated("package-lock.json")
    assert not is_generated("parking_share/finder.py") and not is_generated("distance.py")


# --- the diff ---------------------------------------------------------------------------------

def test_diff_lists_removed_added_changed_and_renamed_files(two_versions):
    base, update, finder, changed = two_versions
    old, new = release_files(base), release_files(update)
    diff = source_diff(old, new)
    by_path = {c.path: c for c in diff.changes}
    assert by_path["LICENSE"].status == "removed"
    assert by_path["dist/old.tar.gz"].status == "added" and by_path["dist/old.tar.gz"].generated
    assert by_path["dist/old.tar.gz"].new.kind == "archive"
    assert by_path["parking_share/datahub.py"].status == "renamed"
    assert by_path["parking_share/datahub.py"].old.path == "parking_share/ngsi.py"
    assert by_path["parking_share/finder.py"].status == "changed"
    assert {c.path for c in diff.changes} >= {"solution.yaml", "sbom.cdx.json"}
    assert diff.generated == [by_path["dist/old.tar.gz"]]

    hunks = file_diff(by_path["parking_share/finder.py"], old, new).hunks
    removed = [r.text for h in hunks for r in h.rows if r.kind == "-"]
    added = [r.text for h in hunks for r in h.rows if r.kind == "+"]
    old_line = next(line for line in finder.splitlines() if line not in changed.splitlines())
    new_line = next(line for line in changed.splitlines() if line not in finder.splitlines())
    assert removed == [old_line] and added == [new_line]
    assert any(r.kind == "replace" and r.old_text == old_line and r.new_text == new_line for r in hunks[0].split)


def test_similar_rename_is_detected():
    from registry.spec.members import FileEntry, ReleaseFiles

    body = "".join(f"줄 {i}\n" for i in range(40)).encode()
    edited = body.replace("줄 7\n".encode(), "줄 일곱\n".encode())
    old = ReleaseFiles([FileEntry("a/old.py", len(body), "1" * 64, False, "text")], {"a/old.py": body})
    new = ReleaseFiles([FileEntry("b/new.py", len(edited), "2" * 64, False, "text")], {"b/new.py": edited})
    [change] = source_diff(old, new).changes
    assert change.status == "renamed" and change.old.path == "a/old.py" and 90 <= change.similarity < 100


def test_big_file_diff_is_capped():
    diff = line_diff([f"a{i}" for i in range(5000)], [f"b{i}" for i in range(5000)], max_rows=100)
    assert diff.cut and sum(len(h.rows) for h in diff.hunks) == 100


def test_diff_page_shows_the_change_and_collapses_generated(two_versions, signed_in):
    base, update, finder, changed = two_versions
    client = signed_in("reviewer")
    html = text(client, f"/review/releases/{update.id}/diff")
    assert "0.1.0" in html and "LICENSE" in html and "removed" in html
    generated = re.search(r'<details class="generated">(.*?)</details>', html, re.S)
    assert generated and "dist/old.tar.gz" in generated.group(1) and "1" in generated.group(0)
    new_line = next(line for line in changed.splitlines() if line not in finder.splitlines())
    assert new_line.split("(")[0].strip().replace("def ", "") in html
    one = text(client, f"/review/releases/{update.id}/diff?file=parking_share/finder.py&view=unified")
    assert 'class="row add"' in one and "LICENSE" not in one
    assert client.get(f"/review/releases/{update.id}/diff?file=nothing.py").status_code == 404
    # The release page links the files and the diff.
    page = text(client, f"/review/releases/{update.id}")
    assert f"/review/releases/{update.id}/files" in page and f"/review/releases/{update.id}/diff" in page


def test_diff_pages_the_file_list(two_versions, signed_in, monkeypatch):
    from registry.review import views

    monkeypatch.setattr(views, "FILES_PER_PAGE", 2)
    base, update, *_ = two_versions
    client = signed_in("reviewer")
    first = text(client, f"/review/releases/{update.id}/diff")
    assert f"/review/releases/{update.id}/diff?page=2" in first.replace("&amp;", "&")
    text(client, f"/review/releases/{update.id}/diff?page=2")
    assert client.get(f"/review/releases/{update.id}/diff?page=999").status_code == 404


def test_public_compare_of_published_versions(client, two_versions, reviewer_token):
    base, update, *_ = two_versions
    assert client.get("/solutions/parking-share/compare/0.1.0...0.1.1").status_code == 404  # 0.1.1 pending
    approve(client, reviewer_token, update)
    html = text(client, "/solutions/parking-share/compare/0.1.0...0.1.1")
    assert "LICENSE" in html and "버전 비교" in html
    assert 'href="/solutions/parking-share/compare/0.1.0...0.1.1"' in text(client, "/solutions/parking-share")
    assert client.get("/solutions/parking-share/compare/0.1.0...9.9.9").status_code == 404
    assert client.get("/solutions/parking-share/compare/0.1.0").status_code == 404
    assert "Compare versions" in text(client, "/solutions/parking-share/compare/0.1.0...0.1.1?lang=en")


def test_archive_cache_is_bounded_by_bytes():
    from registry.review.files import _ArchiveCache
    from registry.spec.members import FileEntry, ReleaseFiles

    def files(size: int) -> ReleaseFiles:
        return ReleaseFiles([FileEntry("a.py", size, "0" * 64, False, "text")], {"a.py": b"x" * size})

    cache = _ArchiveCache(budget=3000)
    cache.put(("a",), files(1000))
    cache.put(("b",), files(1000))
    assert cache.get(("a",)) is not None  # now the most recently used
    cache.put(("c",), files(1000))
    assert cache.get(("b",)) is None and cache.get(("a",)) and cache.get(("c",))
    cache.put(("huge",), files(5000))
    assert cache.get(("huge",)) is None


# --- the file index ----------------------------------------------------------------------------

def _read_whole(release):
    from registry.review import files

    contents = files._read(release, files.KEEP_BYTES)
    return files.ReleaseFiles(files.entries_of(contents), contents.files)


def test_upload_stores_a_file_index_that_lists_what_a_whole_read_lists(sample_release, monkeypatch):
    from registry.db import db
    from registry.releases.models import ReleaseFileIndex
    from registry.review import files
    from registry.spec.members import LazyContents

    release = sample_release("0.1.0", files={"docs/안내.md": "# 주차 공유 안내\n".encode(), "bin/agent": ELF})
    index = db.session.get(ReleaseFileIndex, release.id)
    assert index is not None and index.archive_sha256 == release.sha256
    monkeypatch.setattr(files, "_cache", files._ArchiveCache(files.CACHE_BYTES))
    listed, whole = release_files(release), _read_whole(release)
    assert isinstance(listed.contents, LazyContents)
    assert [(e.path, e.size, e.sha256, e.executable, e.kind) for e in listed.entries] == \
        [(e.path, e.size, e.sha256, e.executable, e.kind) for e in whole.entries]
    assert set(listed.contents) == set(whole.contents)
    listed.prefetch(["docs/안내.md", "solution.yaml"])
    assert listed.contents["docs/안내.md"] == "# 주차 공유 안내\n".encode()
    assert all(listed.contents[p] == whole.contents[p] for p in whole.contents)


def test_diff_page_reads_only_the_shown_files(client, two_versions, signed_in, monkeypatch):
    from registry.review import files

    base, update, *_ = two_versions
    changes = source_diff(release_files(base), release_files(update))
    unchanged = {e.path for e in release_files(update).entries} - {c.path for c in changes.changes}
    assert "parking_share/__init__.py" in unchanged
    monkeypatch.setattr(files, "_cache", files._ArchiveCache(files.CACHE_BYTES))  # a new process
    read_whole, read_some = [], []
    whole, some = files._read, files._member_reader

    def counting_reader(sha256):
        reader = some(sha256)
        return lambda entries: read_some.append([e.path for e in entries]) or reader(entries)

    monkeypatch.setattr(files, "_read", lambda *a, **k: read_whole.append(a) or whole(*a, **k))
    monkeypatch.setattr(files, "_member_reader", counting_reader)
    body = text(signed_in("reviewer"), f"/review/releases/{update.id}/diff")
    assert "parking_share/finder.py" in body
    assert read_whole == []  # both releases have an index: no archive is read whole
    read = {path for paths in read_some for path in paths}
    assert "parking_share/finder.py" in read and not read & unchanged  # only the page's changed files


def test_release_without_an_index_gets_one_at_the_first_look(sample_release, monkeypatch):
    from registry.db import db
    from registry.releases.models import ReleaseFileIndex
    from registry.review import files

    release = sample_release("0.1.0")
    db.session.execute(ReleaseFileIndex.__table__.delete())  # as for a release uploaded before the index
    db.session.commit()
    monkeypatch.setattr(files, "_cache", files._ArchiveCache(files.CACHE_BYTES))
    first = release_files(release)
    db.session.expire_all()
    index = db.session.get(ReleaseFileIndex, release.id)
    assert index is not None and index.members["path"] == [e.path for e in first.entries]
    monkeypatch.setattr(files, "_cache", files._ArchiveCache(files.CACHE_BYTES))
    again = release_files(release)
    assert again.entries == first.entries and again.contents["solution.yaml"] == first.contents["solution.yaml"]


def test_an_index_that_does_not_fit_the_archive_is_refused_not_shown(sample_release, monkeypatch):
    from registry.db import db
    from registry.releases.models import ReleaseFileIndex
    from registry.review import files
    from registry.spec.archive import ArchiveError

    release = sample_release("0.1.0")
    index = db.session.get(ReleaseFileIndex, release.id)
    offsets = list(index.members["offset"])
    offsets[index.members["path"].index("solution.yaml")] += 512
    index.members = {**index.members, "offset": offsets}
    db.session.commit()
    monkeypatch.setattr(files, "_cache", files._ArchiveCache(files.CACHE_BYTES))
    with pytest.raises(ArchiveError) as refused:
        release_files(release).contents["solution.yaml"]
    assert refused.value.code == "corrupt"
