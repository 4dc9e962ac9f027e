"""Transparency log at 10^6 leaves, in memory with registry.spec.tlog: append rate, proof sizes and times.

Run: PYTHONPATH=. python bench/bench_tlog.py [leaves]; writes bench/results/transparency.md.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from registry.spec.tlog import HASH_SIZE, TreeHashes, leaf_hash, verify_consistency, verify_inclusion


def timed(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main(n: int) -> str:
    tree = TreeHashes()
    start = time.perf_counter()
    for i in range(n):
        tree.append(leaf_hash(b'{"kind":"release.published","v":1,"i":%d}' % i))
    append_s = time.perf_counter() - start
    root = tree.root()
    rng = random.Random(1)
    indices = [rng.randrange(n) for _ in range(200)]
    olds = [rng.randrange(1, n) for _ in range(200)]
    inclusion = [tree.inclusion_proof(i, n) for i in indices]
    consistency = [tree.consistency_proof(o, n) for o in olds]
    it = iter(range(10**9))
    prove_inc = timed(lambda: tree.inclusion_proof(indices[next(it) % 200], n), 200)
    prove_con = timed(lambda: tree.consistency_proof(olds[next(it) % 200], n), 200)
    check_inc = timed(lambda: [verify_inclusion(i, n, tree.leaf(i), p, root) for i, p in zip(indices, inclusion)], 1) / 200
    old_roots = [tree.root(o) for o in olds]
    check_con = timed(lambda: [verify_consistency(o, n, r, root, p) for o, r, p in zip(olds, old_roots, consistency)],
                      1) / 200
    sign_rate = _sign_rate()
    rows = [
        ("leaves", f"{n:,}"),
        ("append (hash + tree update)", f"{n / append_s:,.0f} leaves/s"),
        ("append + sign a checkpoint (Ed25519)", f"{sign_rate:,.0f} /s (signing bounds a per-change checkpoint)"),
        ("inclusion proof, mean size", f"{sum(map(len, inclusion)) / 200:.1f} hashes, "
                                       f"{sum(map(len, inclusion)) / 200 * HASH_SIZE:.0f} bytes"),
        ("consistency proof, mean size", f"{sum(map(len, consistency)) / 200:.1f} hashes, "
                                         f"{sum(map(len, consistency)) / 200 * HASH_SIZE:.0f} bytes"),
        ("build inclusion proof", f"{prove_inc * 1e6:,.0f} µs"),
        ("build consistency proof", f"{prove_con * 1e6:,.0f} µs"),
        ("check inclusion proof", f"{check_inc * 1e6:,.0f} µs"),
        ("check consistency proof", f"{check_con * 1e6:,.0f} µs"),
    ]
    width = max(len(k) for k, _ in rows)
    table = "| measure | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))
    return table


def _sign_rate() -> float:
    from registry.spec import note

    signer = note.Signer.generate("bench/log")
    tree = TreeHashes()
    count, start = 2000, time.perf_counter()
    for i in range(count):
        tree.append(hashlib.sha256(b"%d" % i).digest())
        note.sign(note.Checkpoint("bench/log", tree.size, tree.root()).text(), signer)
    return count / (time.perf_counter() - start)


def bench_mirror(total_mb: int = 1024, per_release_mb: int = 64) -> str:
    """Export a bundle of `total_mb` of releases from one registry and import it into another (SQLite, local
    blobs), beside the floor of the same disk: copying the same bytes once and hashing them once."""
    import resource

    from flask_migrate import upgrade

    from registry import create_app
    from registry.accounts import service as accounts
    from registry.db import db
    from registry.mirror import service as mirror
    from registry.releases.models import Artifact, Release, Solution
    from registry.storage import storage
    from registry.transparency import service

    root = Path(tempfile.mkdtemp(prefix="bench-mirror-"))

    def app(name: str):
        made = create_app({"DATABASE_URL": f"sqlite:///{root / name}.db", "STORAGE_PATH": str(root / name),
                           "SECRET_KEY": "bench", "LOG_KEY_PATH": str(root / f"{name}.key"),
                           "LOG_ORIGIN": f"{name}.bench/log"})
        with made.app_context():
            upgrade(directory=made.extensions["migrate"].directory)
        return made

    origin, copy = app("origin"), app("mirror")
    count = total_mb // per_release_mb
    with origin.app_context():
        user = accounts.create_user("reviewer", "r@example.org", "bench-password-1", "reviewer")
        org = accounts.create_org("hanbit", "한빛", "vendor")
        solution = Solution(name="bench-solution", normalized_name="bench-solution", org=org)
        for i in range(count):
            digest, size = _random_blob(root / "blob.tmp", per_release_mb)  # incompressible, as an archive is
            with open(root / "blob.tmp", "rb") as blob:
                storage().put(blob, digest)
            release = Release(solution=solution, version=f"1.0.{i}", state="published", manifest={}, sha256=digest,
                              size=size, artifacts=[Artifact(kind="archive", filename="a.tar.gz", sha256=digest,
                                                             media_type="application/gzip", size=size)])
            db.session.add(release)
            db.session.flush()
            service.release_published(release, user)
        db.session.commit()
        os.sync()
        start = time.perf_counter()
        summary = mirror.export_bundle(root / "bundle.tar")
        export_s = time.perf_counter() - start
    floor_s = _copy_and_hash_floor(root / "bundle.tar", root / "floor.copy")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with copy.app_context():
        start = time.perf_counter()
        mirror.import_bundle(root / "bundle.tar")
        import_s = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    mb = summary.blob_bytes / (1 << 20)
    rows = [("bundle", f"{summary.releases} releases, {mb:,.0f} MiB of artifacts"),
            ("export (read blobs, write tar)", f"{mb / export_s:,.0f} MiB/s ({export_s:.1f} s)"),
            ("import (hash + stage, verify, store, one commit)", f"{mb / import_s:,.0f} MiB/s ({import_s:.1f} s)"),
            ("floor: cp the bundle + sha256 it once", f"{mb / floor_s:,.0f} MiB/s ({floor_s:.1f} s)"),
            ("import / floor", f"{floor_s / import_s:.2f}× (the import reads the bytes twice and writes them twice)"),
            ("peak RSS growth during the import", f"{max(0, rss_after - rss_before) / 1024:,.0f} MiB "
                                                  f"(process peak {rss_after / 1024:,.0f} MiB)")]
    print("\n".join(f"{k}  {v}" for k, v in rows))
    shutil.rmtree(root)
    return "| mirror bundle | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)


def _random_blob(path: Path, mb: int) -> tuple[str, int]:
    """Written a MiB at a time, so making the data does not raise the process's peak memory."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(mb):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest(), mb << 20


def _copy_and_hash_floor(source: Path, target: Path) -> float:
    """What the disk allows for the same bytes: one copy (as `cp`) and one SHA-256 pass (as `sha256sum`)."""
    start = time.perf_counter()
    shutil.copyfile(source, target)
    digest = hashlib.sha256()
    with open(target, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    os.sync()
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


if __name__ == "__main__":
    leaves = int(sys.argv[1]) if len(sys.argv) > 1 else 10**6
    mirror_table = bench_mirror()  # first: its peak memory is not hidden by the million-leaf tree's
    table = main(leaves)
    out = Path(__file__).parent / "results" / "transparency.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("# Transparency log benchmark\n\n`PYTHONPATH=. python bench/bench_tlog.py` "
                   f"(CPython {sys.version.split()[0]}, one core of a shared 2-core machine; "
                   "in memory, registry.spec.tlog, no database).\n\n" + table +
                   "\nThe server appends one leaf per change under a database lock and extends a per-process "
                   "cached tree by the new leaf hashes only, so a request costs O(log n) hashes beyond its reads.\n"
                   "\n`flask mirror export` / `import` of a bundle between two registries (SQLite, local blob "
                   "storage, same disk); the import hashes every blob while staging it, checks the whole log and "
                   "every proof, then copies the blobs into storage, so it reads the data twice. Measured "
                   f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, with a load average of "
                   f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
                   ": compare the ratio to the floor, not the absolute numbers.\n\n" + mirror_table,
                   encoding="utf-8")
