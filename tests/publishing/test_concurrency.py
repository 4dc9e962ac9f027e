"""Two uploads of the same version at the same moment, over real HTTP: exactly one wins."""

import threading

import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from registry.db import db
from registry.publishing.models import Artifact, Release
from registry.storage import storage
from tests.publishing.packages import archive, build_archive, package_files


def test_concurrent_uploads_of_one_version(app, vendor_token):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/solutions/parking-share/releases"
    first = archive()
    files = package_files()
    files["README.md"] = b"# another build of the same version\n"
    second = build_archive(files)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def send(data: bytes):
        barrier.wait()
        response = requests.post(url, files={"archive": ("a.tar.gz", data)},
                                 headers={"Authorization": f"Bearer {vendor_token}"}, timeout=60)
        results.append(response.status_code)

    try:
        workers = [threading.Thread(target=send, args=(data,)) for data in (first, second)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        server.shutdown()
    assert sorted(results) == [201, 409]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Release.id))) == 1
    referenced = set(db.session.scalars(select(Artifact.sha256)))
    stored = set(storage().digests())
    assert stored == referenced  # the loser left no orphan blob
