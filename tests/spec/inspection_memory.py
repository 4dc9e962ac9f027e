"""The time and memory of one package inspection, measured in a fresh process (used by
tests/spec/test_package.py and bench/bench_sbom_real.py).

Memory is the growth of the process's resident set while it inspects `large`, after a `small`
package has loaded the libraries and compiled the schema: the kernel's peak (VmHWM) is reset to
the current resident set just before, so neither the start-up nor the parent process counts (a
forked child's `ru_maxrss` starts at its parent's).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

_MEASURE = """
import json, re, sys, time
from registry.spec.limits import Limits
from registry.spec.package import PackageRefused, inspect_package

def kilobytes(name):
    with open("/proc/self/status") as status:
        return int(re.search(name + r":\\s+(\\d+) kB", status.read()).group(1))

with open(sys.argv[1], "rb") as small:
    inspect_package(small, Limits())
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak becomes the current resident set
before = kilobytes("VmRSS")
started = time.perf_counter()
with open(sys.argv[2], "rb") as large:
    try:
        components, refused = len(inspect_package(large, Limits()).sbom.components), None
    except PackageRefused as refusal:
        components, refused = 0, refusal.code
seconds = time.perf_counter() - started
print(json.dumps([seconds, (kilobytes("VmHWM") - before) * 1024, components, refused]))
"""


@dataclass
class Inspection:
    seconds: float
    growth: int  # bytes
    components: int
    refused: str | None  # the refusal's code


def measure(small: Path, large: Path) -> Inspection:
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(small), str(large)], cwd=PROJECT, check=True,
                         capture_output=True, text=True).stdout
    return Inspection(*json.loads(out))
