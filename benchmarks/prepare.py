"""Data the benchmark cases need, made once and cached outside the repository.

Cache folder: ``FANPIN_BENCH_CACHE`` (default ``/tmp/fanpin-bench``), one subfolder per digest of
the sources the data was made by (a simulator fix makes new snapshots). Everything here is set-up:
it runs in its own subprocess before a timed case, so it never counts in a case's seconds or
peak memory.

- ``county(n)``: a simulated county folder (``fanpin simulate``: 7 years of history + exports).
- ``champion()``: a trained ``RiskPipeline`` + reference sample (pickled), fitted on a simulated
  county with the training package's row builder and the default model parameters.
- ``snapshot_home(n)``: a one-week snapshot export of ``n`` households (``simulate_snapshot``)
  written as a county folder, and a FANPIN_HOME whose history is that snapshot as known one week
  earlier, so the weekly job appends the week and builds the frame from the snapshot's tables
  (current rows, latest surveys, the week's events) instead of seven years of history.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

WEEK = "2025-W40"
CHAMPION_COUNTY = {"households": 3000, "seed": 11, "start": date(2021, 1, 1), "end": date(2025, 9, 28)}


def source_digest(*packages: str) -> str:
    """A short digest of the packages' Python sources: cached data made by older code is stale."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def cache_dir(*packages: str) -> Path:
    """The cache folder; with packages, a subfolder keyed by their sources (made by this code)."""
    path = Path(os.environ.get("FANPIN_BENCH_CACHE", "/tmp/fanpin-bench"))
    if packages:
        path = path / f"src-{source_digest(*packages)}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def county(households: int, seed: int = 1, start: date = date(2019, 1, 1), end: date = date(2025, 12, 31),
           *, force: bool = False) -> tuple[Path, float | None]:
    """A simulated county folder (cached); returns (folder, seconds spent simulating or None)."""
    from serving.jobs.simulation import simulate_folder

    out = cache_dir("features") / f"county-{households}-{seed}-{start:%Y}-{end:%Y%m%d}"
    if (out / "truth" / "simulation.json").exists() and not force:
        return out, None
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    simulate_folder(out, households, seed, start, end, oracle_sample=1000, oracle_replicas=60)
    return out, time.perf_counter() - t0


def _fit_champion(tables: dict[str, pd.DataFrame], lgbm: dict | None = None) -> SimpleNamespace:
    """Fit a RiskPipeline on matured cutoffs of ``tables`` (train / later calibration part)."""
    import numpy as np

    from features.frame_schema import REFERENCE_CONTEXT
    from features.policy import load_policy
    from features.transformer import MODEL_FEATURES
    from models.pipeline import RiskPipeline
    from training.config import default_config
    from training.dataset import LABEL, build_training_rows, cutoff_schedule, data_end, data_start

    config = default_config()
    policy = load_policy()
    cutoffs = cutoff_schedule(data_start(tables), data_end(tables), step_weeks=8, horizon_weeks=52,
                              warmup_weeks=52)
    rows = build_training_rows(tables, policy, cutoffs)
    last = sorted(rows["cutoff"].unique())[-2:]
    calib = rows["cutoff"].isin(last).to_numpy()
    params = {**config["model"]["lgbm"], **(lgbm or {})}
    model = RiskPipeline(lgbm_params=params, random_state=0)
    model.fit(rows.loc[~calib], rows.loc[~calib, LABEL], rows.loc[calib], rows.loc[calib, LABEL])
    rng = np.random.default_rng(1)
    take = np.sort(rng.choice(len(rows), size=min(5000, len(rows)), replace=False))
    columns = list(dict.fromkeys(REFERENCE_CONTEXT + list(MODEL_FEATURES)))
    reference = rows.iloc[take][columns].reset_index(drop=True)
    reference["prediction"] = model.predict_proba(reference)[:, 1]
    return SimpleNamespace(model=model, version="bench", run_id="bench", metrics={}, reference=reference,
                           params=params, train_rows=int((~calib).sum()))


def champion(*, force: bool = False) -> SimpleNamespace:
    """The benchmark champion (cached pickle): default parameters, a 3,000-household county."""
    path = cache_dir("features", "models", "training") / "champion.pkl"
    if path.exists() and not force:
        return pickle.loads(path.read_bytes())
    from training.county_data import read_history

    folder, _ = county(**CHAMPION_COUNTY)
    tables, _ = read_history(folder)
    result = _fit_champion(tables)
    path.write_bytes(pickle.dumps(result))
    return result


def previous_surveys(surveys: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The survey a year before each latest one (the snapshot draws only the latest).

    A registry that has run for a year holds two surveys per household; without the earlier one
    ``income_change`` is empty for everybody, which no real week looks like.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    prev = surveys.copy()
    prev["survey_year"] = prev["survey_year"] - 1
    prev["survey_date"] = prev["survey_date"] - pd.Timedelta(days=364)
    for col in ("wage_income", "business_income", "property_income", "transfer_income", "business_costs",
                "medical_out_of_pocket"):
        prev[col] = np.round(prev[col].to_numpy() * rng.lognormal(0.0, 0.25, len(prev)), 0)
    return prev


def write_snapshot_folder(tables: dict[str, pd.DataFrame], out: Path, week: str = WEEK, seed: int = 0) -> None:
    """A county folder holding one week's export: CSV in Chinese (as the county system writes it)
    and the same tables (plus last year's surveys) as Parquet history."""
    from features.contract import TABLES
    from features.simulator.export import write_parquet
    from features.simulator.views import ordered, to_chinese

    export = out / "exports" / week
    export.mkdir(parents=True, exist_ok=True)
    (out / "history").mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        t = tables[name]
        if name in ("households", "members"):
            t = t.assign(valid_to=pd.NaT)
        t = ordered(name, t)
        past = t
        if name == "income_surveys":
            past = ordered(name, pd.concat([previous_surveys(t, seed), t], ignore_index=True))
        write_parquet(past, out / "history" / f"{name}.parquet")
        to_chinese(name, t).to_csv(export / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")


def snapshot_home(households: int, seed: int = 3, week: str = WEEK, *, force: bool = False) -> dict[str, str]:
    """Snapshot county folder + a seeded FANPIN_HOME template (cached); returns their paths."""
    from features.simulator import simulate_snapshot
    from features.weeks import week_cutoff
    from serving.weekly.history import import_history

    base = cache_dir("features") / f"snapshot-{households}-{seed}-{week}"
    folder, home = base / "county", base / "home"
    done = base / "READY"
    if done.exists() and not force:
        return {"folder": str(folder), "home": str(home)}
    if base.exists():
        shutil.rmtree(base)
    tables = simulate_snapshot(households, seed, week)
    tables = _fix_empty(tables)
    write_snapshot_folder(tables, folder, week, seed)
    # The history as known the Sunday before: the weekly job then appends this week's export.
    import_history(folder, home, until=week_cutoff(week) - pd.Timedelta(days=7))
    done.write_text("ok")
    return {"folder": str(folder), "home": str(home)}


def _fix_empty(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Give empty tables the contract's columns and dtypes (the snapshot may have no outcomes)."""
    from features.contract import TABLES

    out = dict(tables)
    for name, frame in tables.items():
        if len(frame):
            continue
        schema = TABLES[name]
        out[name] = pd.DataFrame({c: pd.Series([], dtype=str(col.dtype) if col.dtype is not None else "object")
                                  for c, col in schema.columns.items()})
    return out


def registry(*, force: bool = False) -> dict[str, str]:
    """An MLflow tracking store (SQLite, cached) whose ``fanpin-risk`` champion was trained by
    ``fanpin train`` on a simulated 5,000-household county, as a researcher would register it; returns
    its tracking URI. The gates may keep a first version at challenger: it is then promoted with
    ``fanpin promote``, as the demo does."""
    import json
    import subprocess
    import sys

    base = cache_dir("features", "models", "training") / "registry"
    uri = f"sqlite:///{base / 'mlflow.db'}"
    if (base / "READY").exists() and not force:
        return {"tracking_uri": uri}
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    folder, _ = county(5_000)  # seven years: enough history for training's time split
    env = {**os.environ, "FANPIN_HOME": str(base / "home"), "MLFLOW_TRACKING_URI": uri}
    fanpin = [str(Path(sys.executable).parent / "fanpin")]
    out = subprocess.run([*fanpin, "train", "--data", str(folder), "--json"], env=env, check=True,
                         capture_output=True, text=True).stdout
    trained = json.loads(out[out.index("{"):])
    if trained.get("alias") != "champion":
        subprocess.run([*fanpin, "promote", "--version", str(trained["model_version"]), "--reason",
                        "benchmark: the weekly command needs a champion", "--user", "bench"],
                       env=env, check=True, capture_output=True)
    (base / "READY").write_text("ok")
    return {"tracking_uri": uri}
