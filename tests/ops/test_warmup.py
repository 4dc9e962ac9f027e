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


def _row_counts(app) -> dict[str, int]:
    from sqlalchemy import func, select

    from registry.db import db

    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


def test_warm_statements_fill_the_compiled_cache_and_leave_nothing_behind(app, tmp_path):
    from registry.db import db
    from registry.ops.warmup import warm_statements

    engine = db.engine
    engine.clear_compiled_cache()
    before = _row_counts(app)
    blobs = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    warm_statements(app)
    assert len(engine._compiled_cache) >= 2  # the token and the solution lookups
    assert _row_counts(app) == before
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == blobs  # no blob, no spool file


def test_warm_statements_do_not_stop_start_up_without_a_migrated_database(make_app, tmp_path, caplog):
    from registry.ops.warmup import warm_statements

    for url in (f"sqlite:///{tmp_path / 'empty.db'}", "postgresql://nobody@127.0.0.1:9/none"):
        app = make_app({"TESTING": True, "DATABASE_URL": url, "STORAGE_PATH": str(tmp_path / "blobs"),
                        "SECRET_KEY": "test", "QUEUE_URL": "immediate"})
        caplog.clear()
        warm_statements(app)  # no exception
        assert "warm-up skipped the SQL statements" in caplog.text
