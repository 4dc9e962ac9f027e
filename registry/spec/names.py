"""Solution names: what counts as the same name; the names the registry gives release files."""

import re

from registry.spec.sbom.parser import suffix_for

_FOLD = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """Case-insensitive with -, _ and . folded (as PEP 503 does), so look-alikes collide."""
    return _FOLD.sub("-", name.strip().lower())


_SUFFIXES = {"archive": ".tar.gz", "provenance": ".provenance.json", "signature": ".provenance.dsse.json"}


def artifact_filename(name: str, version: str, kind: str, media_type: str) -> str:
    """The registry's own name for a release file (the SBOM's suffix follows its format).

    Built only from the validated solution name and version: a file name a client sent is never
    stored, shown or served.
    """
    suffix = _SUFFIXES.get(kind) or suffix_for(media_type)
    return f"{name}-{version}{suffix}"
