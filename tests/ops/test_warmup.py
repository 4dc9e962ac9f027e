"""The warm-up that deploy/wsgi.py runs in gunicorn's master builds what a first upload would pay for."""

import subprocess
import sys
from pathlib import Path

CHECK = """
import sys
from registry.ops.warmup import WARM_SPEC_VERSIONS, warm_up
from registry.spec.sbom.schema import fast_validator
assert "ijson" not in sys.modules
warm_up()
assert fast_validator.cache_info().currsize == len(WARM_SPEC_VERSIONS), fast_validator.cache_info()
assert "ijson.backends.yajl2_c" in sys.modules  # the streaming SBOM reader, imported by one small read
print("warm")
"""


def test_warm_up_compiles_the_schemas_and_loads_the_sbom_reader():
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "warm"
