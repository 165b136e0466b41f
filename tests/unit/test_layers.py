"""The layer rule of docs/architecture.md, enforced by import-linter."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_packages_import_only_packages_below_them():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is not installed"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_packages_has_no_side_effects(tmp_path):
    # Nothing runs at import time: no home directory made, no tracking URI set.
    code = (
        "import os, features, models, training, monitoring, serving, serving.cli; "
        "import mlflow; assert not os.path.exists(os.environ['FANPIN_HOME'])"
    )
    env = {"FANPIN_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
