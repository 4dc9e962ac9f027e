import os
import subprocess
import sys


def test_unreachable_database_is_one_line_with_a_hint(tmp_path):
    env = {**os.environ, "REGISTRY_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "REGISTRY_STORAGE_PATH": str(tmp_path), "REGISTRY_SECRET_KEY": "x"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "registry", "db", "upgrade"], env=env,
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot use the database" in result.stderr and "REGISTRY_DATABASE_URL" in result.stderr
