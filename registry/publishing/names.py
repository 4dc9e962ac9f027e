"""Solution names: what counts as the same name."""

import re

_FOLD = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """Case-insensitive with -, _ and . folded (as PEP 503 does), so look-alikes collide."""
    return _FOLD.sub("-", name.strip().lower())
