"""One simulated county for the drift tests: a baseline run written once per scenario (the
scenarios change only the exports), a champion-like model and reference fitted the way training
does it, and a helper that checks one week exactly as `fanpin drift` does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DRIFT_COUNTY = {"households": 3000, "seed": 11}
SCENARIO_WEEK = "2025-W49"
SCENARIOS = ("baseline", "flood", "unit-error", "pension-rise", "new-township")


@dataclass
class DriftChampion:
    """The fields of ``models.registry.Champion`` the monitor reads."""

    model: Any
    reference: pd.DataFrame
    metrics: dict[str, Any]
    version: str = "drift-test"
    run_id: str = "fitted-in-tests"
    trained_until: pd.Timestamp | None = None


@dataclass
class County:
    folders: dict[str, Path]
    history: dict[str, pd.DataFrame]
    _exports: dict[tuple[str, str], Any] = field(default_factory=dict)


def simulate_scenarios(out: Path) -> County:
    """Simulate the county once and write it as one folder per scenario."""
    from features import reading
    from features.simulator import simulate_county, write_county

    run = simulate_county(DRIFT_COUNTY["households"], seed=DRIFT_COUNTY["seed"], start=date(2019, 1, 1),
                          end=date(2025, 12, 31), oracle_sample=0)
    folders = {}
    for name in SCENARIOS:
        folder = out / name
        write_county(run, folder, {}, scenario=name,
                     scenario_week=None if name == "baseline" else SCENARIO_WEEK)
        folders[name] = folder
    history = reading.read_folder(folders["baseline"] / "history").tables
    return County(folders, history)


def fit_drift_champion(history: dict[str, pd.DataFrame], rows: int = 4000) -> DriftChampion:
    """A RiskPipeline and reference built as training builds them (training part of the time
    split, PII-free reference rows with the model's prediction), small enough for tests."""
    from sklearn.metrics import roc_auc_score

    from features.policy import load_policy
    from models.pipeline import RiskPipeline
    from monitoring.reference import as_reference
    from training.dataset import build_training_rows, cutoff_schedule, data_end, data_start
    from training.split import time_split

    policy = load_policy()
    end = data_end(history)
    cutoffs = cutoff_schedule(data_start(history), end, step_weeks=8)
    split = time_split(cutoffs, horizon_weeks=52, test_weeks=26, calibrate_weeks=26, gap_weeks=52)
    train = build_training_rows(history, policy, split.train)
    calib = build_training_rows(history, policy, split.calibrate)
    test = build_training_rows(history, policy, split.test)
    model = RiskPipeline(lgbm_params={"n_estimators": 80, "num_leaves": 15}, random_state=0)
    model.fit(train, train["label"], calib, calib["label"])
    p = model.predict_proba(test)[:, 1]
    y = test["label"].to_numpy()
    k = max(1, int(round(0.05 * len(p))))
    flagged = np.zeros(len(p), bool)
    flagged[np.argsort(-p)[:k]] = True
    metrics = {"auc": float(roc_auc_score(y, p)), "recall_at_5pct": float(flagged[y == 1].mean()),
               "test_base_rate": float(y.mean()), "test_mean_predicted": float(p.mean())}
    rng = np.random.default_rng(1)
    take = np.sort(rng.choice(len(train), size=min(rows, len(train)), replace=False))
    sample = train.iloc[take]
    reference = as_reference(sample, model.predict_proba(sample)[:, 1])
    return DriftChampion(model=model, reference=reference, metrics=metrics,
                         trained_until=pd.Timestamp(max(split.train)) + pd.Timedelta(weeks=52))


def check(county: County, scenario: str, week: str, champion: DriftChampion, **options):
    """Check one week of one scenario folder the way `fanpin drift` does (frame from history +
    export, champion predictions, raw export tables, history as last week's registry)."""
    from features import reading
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from monitoring.current import overlay_export, week_cutoff
    from monitoring.drift import check_week

    export = reading.read_folder(county.folders[scenario] / "exports" / week, history=county.history)
    cutoff = week_cutoff(week)
    frame = build_household_frame(overlay_export(county.history, export.tables, cutoff), cutoff, load_policy())
    predictions = champion.model.predict_proba(frame)[:, 1]
    result = check_week(frame, champion.reference, week=week, predictions=predictions,
                        raw_tables=export.tables, previous_tables=county.history, **options)
    return result, frame, export
