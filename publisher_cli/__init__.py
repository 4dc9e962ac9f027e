"""``solreg``: the publisher CLI of the Smart City Solution Registry.

Imports ``registry.spec`` (never the Flask app) and keeps heavy libraries out of
module import time so that ``solreg --help`` starts fast.
"""

from __future__ import annotations

from functools import lru_cache

DISTRIBUTION = "smart-city-solution-registry"


@lru_cache(maxsize=1)
def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
