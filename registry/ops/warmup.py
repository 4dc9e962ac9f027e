"""What a worker's first upload would otherwise pay (about two seconds): the compiled SBOM schemas
of the CycloneDX versions generators write today, the SPDX licence index with its tokenizer, and
the streaming SBOM reader's modules (one small SBOM read), and SQLAlchemy's mapper configuration
(every relationship's loaders and attribute instrumentation, about 85 ms of a first upload under
cProfile; it is process-wide, touches no database and writes nothing).

deploy/wsgi.py calls it once; with gunicorn's `preload_app` (deploy/gunicorn.conf.py) that is in
the master, before the workers are forked, so they start warm and share those pages.
"""

from __future__ import annotations

import time

# The versions today's CycloneDX generators write (npm, Python, Maven, Gradle: 1.4-1.6); an upload
# of another version compiles its schema on first use (about 0.5 s), once per worker.
WARM_SPEC_VERSIONS = ("1.4", "1.5", "1.6")
_SMALL_SBOM = (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [{"type": "library", '
               b'"name": "warm-up", "version": "1.0.0", "licenses": [{"license": {"id": "MIT"}}]}]}')


def warm_up() -> float:
    """Build what the first upload needs; returns the seconds it took."""
    from sqlalchemy.orm import configure_mappers

    from registry.spec.sbom.parser import parse_sbom
    from registry.spec.sbom.schema import fast_validator
    from registry.spec.spdxlicensing import spdx_licensing

    start = time.perf_counter()
    for version in WARM_SPEC_VERSIONS:
        fast_validator(version)
    parse_sbom(_SMALL_SBOM)
    spdx_licensing().validate("Apache-2.0 OR MIT")  # builds its tokenizer automaton (~0.8 s) on first use
    configure_mappers()  # of every class the app imported: otherwise each worker's first query does it
    return time.perf_counter() - start
