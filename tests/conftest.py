"""Shared test configuration.

Every test session gets its own FANPIN_HOME and MLflow store under a temporary folder, so no test
touches a user's ~/.fanpin. Services the suite needs from the machine (Chromium, PostgreSQL) are
skipped with a reason on a developer machine that lacks them, but fail the run under CI, where
.ci/run installs them: a green CI must mean they were tested.
"""

from __future__ import annotations

import contextlib
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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test`'s ``--dist loadfile``: files sharing a costly set-up on one worker, long files
    first (tests/scheduling.py)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from tests.scheduling import SharedSetupScheduling

    return SharedSetupScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory):
    """A private FANPIN_HOME and MLflow store for the whole session."""
    home = tmp_path_factory.mktemp("fanpin-home")
    saved = {k: os.environ.get(k) for k in ("FANPIN_HOME", "MLFLOW_TRACKING_URI", "FANPIN_DATABASE_URL")}
    os.environ["FANPIN_HOME"] = str(home)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    os.environ.pop("FANPIN_DATABASE_URL", None)
    # Create the MLflow store's tables now, in one process: the first users may be two server
    # processes at once (`fanpin serve --workers 2` loads the champion in each), and two processes
    # migrating one new SQLite store leave it half-migrated (_alembic_tmp_tags) for every later test.
    if not os.environ.get("MUTANT_UNDER_TEST"):  # `make mutate` runs only tests that use no MLflow store
        from mlflow.tracking import MlflowClient

        MlflowClient(os.environ["MLFLOW_TRACKING_URI"]).search_experiments(max_results=1)
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


# -- explanations (issue 5) ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def explain_county():
    """(tables, frame, labels) of a random 1,500-household county with known risk directions."""
    from tests.explain_county import county

    return county(1500, seed=0)


@pytest.fixture(scope="session")
def explain_model(explain_county):
    """A small RiskPipeline (120 trees x 15 leaves) fitted on the explanation county."""
    from models.pipeline import RiskPipeline

    _, frame, y = explain_county
    params = {"n_estimators": 120, "num_leaves": 15, "min_child_samples": 20}
    return RiskPipeline(lgbm_params=params, random_state=0).fit(frame, y)


# -- a small simulated county shared by every test that needs one ----------------------------------
SMALL_COUNTY = {"households": 1500, "seed": 7}


@pytest.fixture(scope="session")
def small_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,500-household simulated county folder (history, 12 weekly exports, truth), made once.

    Share it: simulating is the slowest part of many tests. Never write into it; copy what you
    need to change.
    """
    from datetime import date

    from serving.jobs.simulation import simulate_folder

    out = tmp_path_factory.mktemp("small-county") / "county"
    simulate_folder(
        out, SMALL_COUNTY["households"], SMALL_COUNTY["seed"], date(2019, 1, 1), date(2025, 12, 31),
        oracle_sample=500, oracle_replicas=50,
    )
    return out


# -- weekly job, store and API (issue 6) -----------------------------------------------------------
STORE_WEEKS = ("2025-W45", "2025-W46", "2025-W47")


@pytest.fixture(scope="session")
def fitted_champion(small_county):
    """A real RiskPipeline fitted on the small county's matured history, shaped like
    ``models.registry.Champion`` (model, version, run_id, metrics, reference)."""
    from tests.store.champion import fit_champion

    return fit_champion(small_county)


@pytest.fixture(scope="session")
def published_stores(small_county, fitted_champion, tmp_path_factory):
    """``kind -> Published``: the store of each database kind, published once per session on first
    use and dropped at the end (``published_store`` hands them out)."""
    from tests.databases import fresh_database_url
    from tests.store.published import publish_weeks

    made: dict[str, object] = {}
    with contextlib.ExitStack() as stack:
        def get(kind: str):
            if kind not in made:
                tmp = tmp_path_factory.mktemp(f"store-{kind}")
                try:
                    url = stack.enter_context(fresh_database_url(kind, tmp))
                    made[kind] = publish_weeks(small_county, fitted_champion, tmp / "home", url, STORE_WEEKS)
                except Exception as error:  # fail every later user at once instead of publishing again
                    made[kind] = error
                    raise
            if isinstance(made[kind], Exception):
                raise made[kind]
            return made[kind]

        yield get


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def published_store(request, published_stores):
    """A store with three published weeks of the small county and one user per role.

    Why the cache: pytest keeps one param of a session fixture alive at a time, and a test file
    runs its sqlite tests then its postgres ones, so with files spread over xdist workers every
    store file switched the param twice and the three weeks were published again each time.
    """
    return published_stores(request.param)


# -- `fanpin train` into a registry (issues 6, 9) ---------------------------------------------------
# Fast but real: no tuning, a smaller forest (the default config is for production counties).
# One shuffle of at most 2,000 rows per feature: the feature-value report in seconds, not tens.
CLI_FAST_CONFIG = ("tuning:\n  trials: 0\nworkers: 1\nmodel:\n  lgbm:\n    n_estimators: 120\n    num_leaves: 15\n"
                   "    learning_rate: 0.05\n    min_child_samples: 100\n    reg_lambda: 1.0\n"
                   "feature_value:\n  repeats: 1\n  max_rows: 2000\n"
                   # a lead-time list every 4 weeks, as FAST_TRAINING: weekly lists were 30 of a 45 s run
                   "lead_time:\n  step_weeks: 4\n"
                   # the small county's seven years cannot hold three origins of two training years
                   "backtest:\n  min_train_span_weeks: 0\n")


@pytest.fixture(scope="session")
def registered_champion(small_county, tmp_path_factory):
    """Train on the small county with `fanpin train` and register ``fanpin-risk@champion`` in a
    private MLflow store (the weekly CLI tests and the browser suite's live site serve it).

    Returns the train result plus ``tracking_uri`` (pass it to subprocesses as MLFLOW_TRACKING_URI)
    and ``train_stderr`` (what the run wrote to its stderr, a pipe).

    Why shared: the two xdist workers each trained it (45-60 s apiece, at the same time, at the
    start of the suite). The first worker trains under a file lock in the session's common temp
    folder; each worker then reads its own copy of the MLflow database (the weekly job logs its
    field-evidence runs there, and two writers on one SQLite file wait on each other's locks).
    The artifacts stay in the one shared folder: nothing writes to them after training.
    """
    import json

    from filelock import FileLock

    shared = _shared_folder(tmp_path_factory, "registry")
    with FileLock(str(shared / "train.lock")):
        done = shared / "train.json"
        if not done.exists():
            result = _train_champion(small_county, shared)
            done.write_text(json.dumps(result, ensure_ascii=False))
        result = json.loads(done.read_text())
    own = tmp_path_factory.mktemp("registry-copy")
    shutil.copyfile(shared / "mlflow.db", own / "mlflow.db")
    return {**result, "tracking_uri": f"sqlite:///{own / 'mlflow.db'}"}


def _shared_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder every xdist worker of this session sees (its own one without xdist)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return tmp_path_factory.mktemp(name)
    folder = tmp_path_factory.getbasetemp().parent / name
    folder.mkdir(exist_ok=True)
    return folder


def _train_champion(county: Path, folder: Path) -> dict:
    from tests.integration.weekly_cli import cli_env, run

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    config = folder / "fast.yaml"
    config.write_text(CLI_FAST_CONFIG)
    env = cli_env(folder / "home", None, MLFLOW_TRACKING_URI=uri)
    logs: list[str] = []
    result = run(["train", "--data", str(county), "--config", str(config)], env, logs, timeout=1800)
    if result["alias"] != "champion":
        # The gates may keep a first small model a challenger; the weekly tests need a champion.
        run(["promote", "--version", str(result["model_version"]), "--reason", "tests"], env)
    return {**result, "train_stderr": logs[1]}


# -- simulator (issue 3) -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sim_run():
    """A small simulated county (800 households, 2021-2025, small oracle): a CountyRun."""
    from datetime import date

    from features.simulator import simulate_county

    return simulate_county(800, seed=3, start=date(2021, 1, 1), end=date(2025, 12, 31),
                           oracle_sample=300, oracle_replicas=30)


@pytest.fixture(scope="session")
def sim_folder(sim_run, tmp_path_factory):
    """The small county written as a county folder (baseline scenario)."""
    from features.simulator import summarise, write_county

    out = tmp_path_factory.mktemp("sim-county")
    write_county(sim_run, out, summarise(sim_run))
    return out


# -- drift monitor (issue 8) -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def drift_county(tmp_path_factory: pytest.TempPathFactory):
    """A 3,000-household county simulated once, written once per drift scenario (the scenarios
    change only the last exports, from 2025-W49): ``tests.drift_county.County``."""
    from tests.drift_county import simulate_scenarios

    return simulate_scenarios(tmp_path_factory.mktemp("drift-county"))


@pytest.fixture(scope="session")
def drift_champion(drift_county):
    """A model and reference sample built the way training builds them, on the drift county."""
    from tests.drift_county import fit_drift_champion

    return fit_drift_champion(drift_county.history)


# -- training (issue 4) ----------------------------------------------------------------------------
# Small and quick: fewer cutoffs, one tuning trial, small trees, a watch list every 4 weeks.
FAST_TRAINING = {
    "cutoff_step_weeks": 8,
    "tuning": {"trials": 1, "sample_rows": 20000},
    "model": {"lgbm": {"n_estimators": 80, "num_leaves": 15, "min_child_samples": 50, "learning_rate": 0.05,
                       "reg_lambda": 1.0}},
    "lead_time": {"step_weeks": 4, "random_draws": 5},
    "bootstrap": {"replicates": 30},
    "feature_value": {"repeats": 1, "max_rows": 2000},
    "logistic": {"max_train_rows": 20000},
    "reference_rows": 1000,
    "shap_rows": 1000,
    # three outcome years on the small county's seven years: older origins with short training
    "backtest": {"min_train_span_weeks": 0},
}


@pytest.fixture(scope="session")
def trained_small(small_county, tmp_path_factory):
    """(tables, policy, TrainingResult) of the fast training config on the small county.

    Fitted once per session, not once per xdist worker (~20 s each): the first worker pickles it
    under a file lock, the other reads the pickle (20 MB, a fraction of a second).
    """
    import pickle

    from filelock import FileLock

    from features.policy import load_policy
    from training.config import load_config
    from training.county_data import read_history, read_oracle
    from training.train import fit_and_evaluate

    shared = _shared_folder(tmp_path_factory, "trained-small")
    with FileLock(str(shared / "fit.lock")):
        done = shared / "trained.pickle"
        if done.exists():
            return pickle.loads(done.read_bytes())
        tables, _ = read_history(small_county)
        policy = load_policy()
        result = fit_and_evaluate(tables, policy, load_config(overrides=FAST_TRAINING), oracle=read_oracle(small_county))
        done.write_bytes(pickle.dumps((tables, policy, result), protocol=pickle.HIGHEST_PROTOCOL))
        return tables, policy, result
