"""A real champion for store and API tests, fitted on a simulated county's matured history."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class FittedChampion:
    """The fields of ``models.registry.Champion`` the serving side reads."""

    model: Any
    version: str = "test-1"
    run_id: str = "fitted-in-tests"
    metrics: dict[str, Any] = field(default_factory=dict)
    reference: pd.DataFrame | None = None


def fit_champion(county: Path) -> FittedChampion:
    from features.policy import load_policy
    from features.reading import read_folder
    from models.pipeline import RiskPipeline
    from training.dataset import build_training_rows

    tables = read_folder(Path(county) / "history").tables
    cutoffs = pd.date_range("2023-01-01", "2024-09-30", freq="13W-SUN")
    rows = build_training_rows(tables, load_policy(), cutoffs)
    model = RiskPipeline(lgbm_params={"n_estimators": 80, "num_leaves": 15}, random_state=0)
    model.fit(rows, rows["label"])
    return FittedChampion(model=model, metrics={"train_rows": len(rows), "base_rate": float(rows["label"].mean())})
