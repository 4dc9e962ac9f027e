"""The safe .tar.gz reader (registry/spec/archive.py), on real archives built in tmp_path."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import pytest

from registry.spec.archive import ArchiveError, ArchiveLimits, copy_member, read_archive, read_members
from registry.spec.files import FileTooLargeError

Entry = tuple[tarfile.TarInfo, bytes | None]


def file_entry(name: str, data: bytes, mode: int = 0o644) -> Entry:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    return info, data


def typed_entry(name: str, kind: bytes, linkname: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def dir_entry(name: str) -> Entry:
    return typed_entry(name, tarfile.DIRTYPE)


def tar_bytes(entries: Iterable[Entry]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def build(tmp_path: Path, entries: Iterable[Entry], name: str = "pkg.tar.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(tar_bytes(entries)))
    return path


def refused(source: object, code: str, limits: ArchiveLimits = ArchiveLimits()) -> ArchiveError:
    with pytest.raises(ArchiveError) as info:
        read_archive(source, limits)  # type: ignore[arg-type]
    assert info.value.code == code, str(info.value)
    assert info.value.message  # every refusal explains itself
    return info.value


GOOD_FILES = {
    "solution.yaml": b"manifestVersion: '1'\nname: parking-share\nversion: 1.2.0\n",
    "README.md": "# 스마트 주차 공유\n".encode(),
    "deploy/compose.yaml": b"services: {}\n",
    "bin/run.sh": b"#!/bin/sh\nexec app\n",
}


def good_entries(root: str = "parking-share-1.2.0") -> list[Entry]:
    entries = [dir_entry(root), dir_entry(f"{root}/deploy"), dir_entry(f"{root}/bin")]
    entries += [file_entry(f"{root}/{path}", data, 0o755 if path.endswith(".sh") else 0o644)
                for path, data in GOOD_FILES.items()]
    return entries


# ----------------------------------------------------------------------------- good archives


def test_good_archive_is_read_completely(tmp_path: Path) -> None:
    contents = read_archive(build(tmp_path, good_entries()))

    assert contents.root == "parking-share-1.2.0"
    assert contents.files == GOOD_FILES
    assert contents.directories == ["deploy", "bin"]
    assert [m.path for m in contents.members] == list(GOOD_FILES)
    for member in contents.members:
        assert member.size == len(GOOD_FILES[member.path])
        assert member.sha256 == hashlib.sha256(GOOD_FILES[member.path]).hexdigest()
    assert contents.member("bin/run.sh").mode == 0o755  # type: ignore[union-attr]
    assert contents.unpacked_bytes == sum(len(d) for d in GOOD_FILES.values())
    assert contents.compressed_bytes == (tmp_path / "pkg.tar.gz").stat().st_size


@pytest.mark.parametrize("kind", ["path", "str", "bytes", "fileobj"])
def test_sources_can_be_paths_bytes_or_open_files(tmp_path: Path, kind: str) -> None:
    path = build(tmp_path, good_entries())
    source: object = {"path": path, "str": str(path), "bytes": path.read_bytes()}.get(kind)
    if kind == "fileobj":
        with path.open("rb") as handle:
            contents = read_archive(handle)
            assert not handle.closed  # the caller's file stays theirs
    else:
        contents = read_archive(source)  # type: ignore[arg-type]
    assert contents.files["solution.yaml"] == GOOD_FILES["solution.yaml"]


def test_leading_dot_slash_is_accepted(tmp_path: Path) -> None:
    entries = [dir_entry("./"), dir_entry("./pkg-1.0.0"), file_entry("./pkg-1.0.0/solution.yaml", b"x")]
    contents = read_archive(build(tmp_path, entries))
    assert contents.root == "pkg-1.0.0"
    assert contents.files == {"solution.yaml": b"x"}


def test_large_files_are_listed_but_not_kept(tmp_path: Path) -> None:
    big = os.urandom(3000)
    entries = [file_entry("pkg-1.0.0/small.txt", b"small"), file_entry("pkg-1.0.0/big.bin", big)]
    contents = read_archive(build(tmp_path, entries), ArchiveLimits(max_kept_file_bytes=2048))
    assert contents.files == {"small.txt": b"small"}
    big_member = contents.member("big.bin")
    assert big_member is not None
    assert (big_member.size, big_member.sha256) == (3000, hashlib.sha256(big).hexdigest())


def test_a_member_not_kept_is_streamed_whole_into_a_file(tmp_path: Path) -> None:
    big = os.urandom(300_000)
    entries = [file_entry("pkg-1.0.0/small.txt", b"small"), file_entry("pkg-1.0.0/sbom/큰.cdx.json", big)]
    path = build(tmp_path, entries)
    limits = ArchiveLimits(max_kept_file_bytes=2048)
    contents = read_archive(path, limits)
    assert "sbom/큰.cdx.json" not in contents.files
    copied = io.BytesIO()
    with path.open("rb") as source:
        source.read(10)  # copy_member starts from the beginning wherever the stream is
        assert copy_member(source, "./sbom//큰.cdx.json", copied, limits)
        assert not copy_member(source, "sbom/absent.json", io.BytesIO(), limits)
    assert copied.getvalue() == big


def test_a_member_streamed_into_a_file_is_checked_like_any_read(tmp_path: Path) -> None:
    entries = [file_entry("pkg-1.0.0/a.bin", b"a" * 10_000), file_entry("../evil", b"x")]
    with build(tmp_path, entries).open("rb") as source, pytest.raises(ArchiveError) as info:
        copy_member(source, "a.bin", io.BytesIO())
    assert info.value.code == "path-traversal"


def test_package_files_open_what_was_not_kept_through_open_unkept(tmp_path: Path) -> None:
    entries = [file_entry("pkg-1.0.0/big.bin", b"b" * 3000)]
    contents = read_archive(build(tmp_path, entries), ArchiveLimits(max_kept_file_bytes=2048))
    asked = []
    files = contents.as_package_files(open_unkept=lambda p: asked.append(p) or io.BytesIO(b"loaded"))
    assert files.read("big.bin", 4096) == b"loaded" and asked == ["big.bin"]
    with files.open("big.bin", 4096) as stream:
        assert stream.read() == b"loaded" and asked == ["big.bin", "big.bin"]
    with pytest.raises(FileTooLargeError):
        files.read("big.bin", 2999)  # over the caller's limit: never opened
    assert asked == ["big.bin", "big.bin"]
    with pytest.raises(FileTooLargeError):
        contents.as_package_files().read("big.bin", 4096)


def test_kept_total_is_bounded(tmp_path: Path) -> None:
    entries = [file_entry(f"pkg-1.0.0/f{i}.txt", bytes([65 + i]) * 100) for i in range(5)]
    contents = read_archive(build(tmp_path, entries), ArchiveLimits(max_kept_total_bytes=250))
    assert sorted(contents.files) == ["f0.txt", "f1.txt"]
    assert len(contents.members) == 5


def test_keep_predicate_selects_files(tmp_path: Path) -> None:
    contents = read_archive(build(tmp_path, good_entries()), keep=lambda path: path.endswith(".yaml"))
    assert sorted(contents.files) == ["deploy/compose.yaml", "solution.yaml"]
    assert len(contents.members) == len(GOOD_FILES)


def test_as_package_files_serves_the_kept_files(tmp_path: Path) -> None:
    files = read_archive(build(tmp_path, good_entries())).as_package_files()
    assert files.read("deploy/compose.yaml", 1024) == GOOD_FILES["deploy/compose.yaml"]
    assert files.is_dir("deploy")
    assert sorted(files.list()) == sorted(GOOD_FILES)


def test_files_too_large_to_keep_still_exist_but_cannot_be_read(tmp_path: Path) -> None:
    from registry.spec.files import FileTooLargeError

    contents = read_archive(build(tmp_path, good_entries()), keep=lambda path: path != "solution.yaml")
    files = contents.as_package_files()
    assert files.exists("solution.yaml") and "solution.yaml" in files.list()
    with pytest.raises(FileTooLargeError):
        files.read("solution.yaml", 1024 * 1024)


def test_concatenated_gzip_members_are_one_stream(tmp_path: Path) -> None:
    raw = tar_bytes(good_entries())
    path = tmp_path / "multi.tar.gz"
    path.write_bytes(gzip.compress(raw[:700]) + gzip.compress(raw[700:]))
    assert read_archive(path).files == GOOD_FILES


# ----------------------------------------------------------------------------- refused members


@pytest.mark.parametrize(
    "name",
    ["pkg-1.0.0/../../etc/passwd", "pkg-1.0.0/a/../../b", "../pkg-1.0.0/x"],
)
def test_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    error = refused(build(tmp_path, [file_entry(name, b"x")]), "path-traversal")
    assert error.path == name


@pytest.mark.parametrize("name", ["/etc/passwd", "/pkg-1.0.0/solution.yaml", "C:/evil.txt"])
def test_absolute_paths_are_refused(tmp_path: Path, name: str) -> None:
    refused(build(tmp_path, [file_entry(name, b"x")]), "absolute-path")


def test_backslash_paths_are_refused(tmp_path: Path) -> None:
    refused(build(tmp_path, [file_entry("pkg-1.0.0\\..\\x", b"x")]), "bad-path")


def test_symlink_is_refused(tmp_path: Path) -> None:
    entries = [*good_entries(), typed_entry("parking-share-1.2.0/secret", tarfile.SYMTYPE, "/etc/shadow")]
    error = refused(build(tmp_path, entries), "symlink")
    assert "/etc/shadow" in error.message


def test_hard_link_is_refused(tmp_path: Path) -> None:
    entries = [*good_entries(), typed_entry("parking-share-1.2.0/copy", tarfile.LNKTYPE, "parking-share-1.2.0/README.md")]
    refused(build(tmp_path, entries), "hardlink")


@pytest.mark.parametrize(
    ("kind", "word"),
    [(tarfile.FIFOTYPE, "FIFO"), (tarfile.CHRTYPE, "character device"), (tarfile.BLKTYPE, "block device")],
)
def test_fifo_and_devices_are_refused(tmp_path: Path, kind: bytes, word: str) -> None:
    entries = [*good_entries(), typed_entry("parking-share-1.2.0/dev", kind)]
    error = refused(build(tmp_path, entries), "special-file")
    assert word in error.message


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    entries = [file_entry("pkg-1.0.0/a.txt", b"one"), file_entry("pkg-1.0.0/./a.txt", b"two")]
    refused(build(tmp_path, entries), "duplicate-member")


def test_more_than_one_top_level_directory_is_refused(tmp_path: Path) -> None:
    entries = [file_entry("pkg-1.0.0/a.txt", b"a"), file_entry("other/b.txt", b"b")]
    refused(build(tmp_path, entries), "multiple-roots")


def test_files_at_the_top_level_are_refused(tmp_path: Path) -> None:
    refused(build(tmp_path, [file_entry("solution.yaml", b"x")]), "no-root")


def test_archive_without_files_is_refused(tmp_path: Path) -> None:
    refused(build(tmp_path, []), "empty")


# ----------------------------------------------------------------------------- limits


def test_too_many_members_is_refused(tmp_path: Path) -> None:
    entries = [file_entry(f"pkg-1.0.0/f{i}", b"x") for i in range(6)]
    assert len(read_archive(build(tmp_path, entries, "ok.tar.gz"), ArchiveLimits(max_members=6)).members) == 6
    refused(build(tmp_path, entries), "too-many-members", ArchiveLimits(max_members=5))


def test_total_unpacked_size_is_bounded_by_declared_sizes(tmp_path: Path) -> None:
    entries = [file_entry("pkg-1.0.0/a.bin", os.urandom(40_000))]
    refused(build(tmp_path, entries), "too-large", ArchiveLimits(max_unpacked_bytes=20_000))


class CountingReader(io.RawIOBase):
    """A file object that records how many bytes were read from it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.consumed += len(data)
        return len(data)


GIB = 1024**3


@pytest.fixture(scope="module")
def zeros_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid .tar.gz holding one 1 GiB file of zeros, written in 1 MiB steps (~1 MB on disk)."""
    path = tmp_path_factory.mktemp("bomb") / "zeros.tar.gz"
    info = tarfile.TarInfo("pkg-1.0.0/zeros.bin")
    info.size = GIB
    chunk = bytes(1024 * 1024)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
        out.write(info.tobuf())
        for _ in range(GIB // len(chunk)):
            out.write(chunk)
        out.write(bytes(2 * tarfile.BLOCKSIZE))  # end-of-archive blocks
    return path


def test_gzip_bomb_is_refused_by_ratio_early(zeros_bomb: Path) -> None:
    size = zeros_bomb.stat().st_size
    assert size < 2 * 1024 * 1024
    with zeros_bomb.open("rb") as handle:
        counting = CountingReader(handle)
        with pytest.raises(ArchiveError) as info:
            read_archive(counting)
    assert info.value.code == "ratio"
    assert "100:1" in info.value.message
    # Stopped after a small part of the ~1 MB input, i.e. long before inflating 1 GiB.
    assert counting.consumed < size // 10


def test_the_ratio_limit_is_configurable(tmp_path: Path) -> None:
    entries = [file_entry("pkg-1.0.0/zeros.bin", bytes(4 * 1024 * 1024))]
    path = build(tmp_path, entries)
    refused(path, "ratio")
    contents = read_archive(path, ArchiveLimits(max_ratio=2000, max_kept_file_bytes=0))
    assert contents.unpacked_bytes == 4 * 1024 * 1024 and contents.files == {}


# ----------------------------------------------------------------------------- broken input


def test_truncated_gzip_is_refused(tmp_path: Path) -> None:
    entries = [file_entry("pkg-1.0.0/data.bin", os.urandom(100_000))]
    whole = build(tmp_path, entries).read_bytes()
    refused(whole[: len(whole) // 2], "truncated")


def test_missing_gzip_trailer_is_refused(tmp_path: Path) -> None:
    # tarfile's own gzip reader accepts this; the CRC and length trailer must be there.
    whole = build(tmp_path, good_entries()).read_bytes()
    refused(whole[:-8], "truncated")


def test_crc_mismatch_is_refused(tmp_path: Path) -> None:
    damaged = bytearray(build(tmp_path, good_entries()).read_bytes())
    damaged[-8] ^= 0xFF  # first byte of the CRC-32 trailer
    refused(bytes(damaged), "corrupt")


def test_trailing_garbage_is_refused(tmp_path: Path) -> None:
    refused(build(tmp_path, good_entries()).read_bytes() + b"garbage", "corrupt")


def test_plain_text_file_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("name: parking-share\n", encoding="utf-8")
    error = refused(path, "not-gzip")
    assert "gzip" in error.message


def test_empty_file_is_not_gzip() -> None:
    refused(b"", "not-gzip")


def test_gzip_of_something_else_is_not_tar() -> None:
    refused(gzip.compress(b"just some text, not a tar archive\n" * 40), "not-tar")


def test_tar_cut_inside_a_member_is_truncated() -> None:
    raw = tar_bytes([file_entry("pkg-1.0.0/data.bin", os.urandom(5000))])
    refused(gzip.compress(raw[:2048]), "truncated")


def test_refusal_message_names_the_member(tmp_path: Path) -> None:
    error = refused(build(tmp_path, [file_entry("pkg-1.0.0/../x", b"x")]), "path-traversal")
    assert "pkg-1.0.0/../x" in str(error) and "[path-traversal]" in str(error)



def test_members_are_read_again_at_their_offsets_and_checked():
    long_name = "docs/" + "아주-긴-안내문-이름" * 12 + ".md"  # a GNU long-name header before its data
    data = gzip.compress(tar_bytes([*good_entries(), file_entry(f"parking-share-1.2.0/{long_name}", "# 안내\n".encode())]))
    members = {m.path: m for m in read_archive(data).members}
    wanted = [members["bin/run.sh"], members[long_name], members["README.md"]]
    found = read_members(io.BytesIO(data), [(m.path, m.offset, m.size, m.sha256) for m in wanted])
    assert found == {"bin/run.sh": GOOD_FILES["bin/run.sh"], long_name: "# 안내\n".encode(),
                     "README.md": GOOD_FILES["README.md"]}
    readme = members["README.md"]
    with pytest.raises(ArchiveError) as info:
        read_members(io.BytesIO(data), [(readme.path, readme.offset + 512, readme.size, readme.sha256)])
    assert info.value.code == "corrupt"
