"""Solution names: which names are valid, what counts as the same name; the names the registry gives
release files."""

import re

from registry.spec.sbom.parser import suffix_for

# solution-v1.schema.json holds this pattern too (tests/spec/test_schema.py keeps them equal).
SOLUTION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
SOLUTION_NAME_MAX = 64
SOLUTION_NAME_RULE = "3-64 lowercase letters, digits and hyphens, starting and ending with a letter or digit"
_FOLD = re.compile(r"[-_.]+")


def is_solution_name(name: object) -> bool:
    return isinstance(name, str) and SOLUTION_NAME.match(name) is not None


def slugify(text: str) -> str:
    """A solution name made from other text (a directory, a publiccode.yml name): lowercase ASCII letters,
    digits and single hyphens, at most 64 characters; shorter than 3 when the text has too few of them."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:SOLUTION_NAME_MAX].rstrip("-")


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
