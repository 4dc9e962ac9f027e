"""The warm-up that deploy/wsgi.py runs in gunicorn's master builds what a first upload would pay for."""

import subprocess
import sys
from pathlib import Path

CHECK = """
import sys
from registry import create_app
from registry.db import db
from registry.ops.warmup import WARM_SPEC_VERSIONS, warm_up
from registry.spec.sbom.schema import fast_validator
assert "ijson" not in sys.modules
create_app()  # imports every model, as deploy/wsgi.py does before the warm-up
assert db.Model.registry._new_mappers  # not configured yet: the first query would do it
warm_up()
assert not db.Model.registry._new_mappers  # configured in the master, before the fork
assert fast_validator.cache_info().currsize == len(WARM_SPEC_VERSIONS), fast_validator.cache_info()
assert "ijson.backends.yajl2_c" in sys.modules  # the streaming SBOM reader, imported by one small read
print("warm")
"""


def test_warm_up_compiles_the_schemas_loads_the_sbom_reader_and_configures_the_mappers():
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "warm"
