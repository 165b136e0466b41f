"""How `make test` spreads test files over its two xdist workers.

xdist's ``loadfile`` sends whole files to a worker (session fixtures are built once per worker
that needs them), in the order of their number of tests. Two things made the suite slower than
its work: files sharing one expensive set-up went to different workers and each built it (the
browser suite's live site: train, publish, serve), and the longest files, having few tests, were
handed out last, so one worker ran on alone at the end. Here files that share such a set-up form
one unit, and the known long units go first (longest first; the rest keep xdist's order).
"""

from __future__ import annotations

from xdist.scheduler import LoadFileScheduling

# Files (by the start of their paths) that go to one worker as one unit because they share a
# costly session fixture no other file uses: the live site (browser/conftest.py) and the drift
# county with its champion (tests/conftest.py).
SHARED_SETUP = {"tests/browser/": "tests/browser/", "tests/integration/test_drift_": "tests/integration/test_drift_*"}

# Rough seconds of the long units on a loaded 2-core machine (a --durations run): only their
# order matters. Anything not listed comes after them.
LONG_UNITS = {
    "tests/integration/test_eight_weeks.py": 450,
    "tests/browser/": 420,  # with the import page's own site (two weekly runs from the page)
    "tests/integration/test_weekly_kill.py": 260,
    "tests/integration/test_drift_*": 240,
    # Eight weekly runs (week N-1 and N in two stores, on SQLite and PostgreSQL) and the API reads.
    "tests/integration/test_spark_engine.py": 200,
    "tests/integration/test_weekly_kill_postgres.py": 180,
    "tests/integration/test_office_exports.py": 150,  # workbooks of a week, four weekly runs
    "notebooks/02-model-review.ipynb": 90,
    "tests/store/test_api_audit.py": 80,
    "tests/integration/test_training_mlflow.py": 80,
    "notebooks/04-drift-scenarios.ipynb": 70,
}


def unit_of(nodeid: str) -> str:
    """The work unit of a test: its file, or the shared-set-up group the file belongs to."""
    path = nodeid.split("::", 1)[0]
    return next((unit for prefix, unit in SHARED_SETUP.items() if path.startswith(prefix)), path)


class SharedSetupScheduling(LoadFileScheduling):
    """``loadfile`` with shared-set-up groups as units and the long units first."""

    _ordered = False

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)

    def _assign_work_unit(self, node) -> None:
        if not self._ordered:  # the queue is complete before the first unit leaves it
            units = sorted(self.workqueue.items(), key=lambda unit: -LONG_UNITS.get(unit[0], 0))
            self.workqueue.clear()
            self.workqueue.update(units)
            self._ordered = True
        super()._assign_work_unit(node)
