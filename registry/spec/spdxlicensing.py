"""The SPDX licence index of license-expression, built once per process (about 0.3 s) and shared by
every licence check: the manifest's, the code checks' and the SBOM's."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def spdx_licensing() -> Any:
    from license_expression import get_spdx_licensing  # loaded only when a licence is first checked

    return get_spdx_licensing()
