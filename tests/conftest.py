"""Shared test configuration.

Every test session gets its own FANPIN_HOME and MLflow store under a temporary folder, so no test
touches a user's ~/.fanpin. Services the suite needs from the machine (Chromium, PostgreSQL) are
skipped with a reason on a developer machine that lacks them, but fail the run under CI, where
.ci/run installs them: a green CI must mean they were tested.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = "/usr/bin/chromium"


def needs(what: str, available: bool) -> None:
    """Skip (developer machine) or fail (CI) when a machine service is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (installed by .ci/run) but is missing")
    pytest.skip(f"{what} is not available on this machine")


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory):
    """A private FANPIN_HOME and MLflow store for the whole session."""
    home = tmp_path_factory.mktemp("fanpin-home")
    saved = {k: os.environ.get(k) for k in ("FANPIN_HOME", "MLFLOW_TRACKING_URI", "FANPIN_DATABASE_URL")}
    os.environ["FANPIN_HOME"] = str(home)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    os.environ.pop("FANPIN_DATABASE_URL", None)
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the PostgreSQL test database (.ci/run exports FANPIN_TEST_POSTGRES_URL)."""
    url = os.environ.get("FANPIN_TEST_POSTGRES_URL", "")
    needs("PostgreSQL (FANPIN_TEST_POSTGRES_URL)", bool(url))
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, driven by Playwright (never a downloaded browser)."""
    needs("Chromium at /usr/bin/chromium", Path(CHROMIUM).exists())
    return CHROMIUM


@pytest.fixture(scope="session")
def pdf_tools() -> None:
    """poppler-utils (pdffonts, pdftotext, pdftoppm) for checking generated PDFs."""
    needs("poppler-utils", all(shutil.which(t) for t in ("pdffonts", "pdftotext", "pdftoppm")))
