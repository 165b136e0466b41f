"""Shock backtests on a simulated county with scenario floods (issue 33), outside the suite.

    fanpin simulate --out /work/cache/s8-33/seed1_floods --households 20000 --seed 1 \\
        --flood 白马镇:2022-07-10 --flood 青山镇:2023-06-18 --flood 龙潭镇:2024-07-14
    PYTHONPATH=. python -m benchmarks.shock_backtest_bench --county /work/cache/s8-33/seed1_floods \\
        --rows /work/cache/s8-33/rows

Builds the point-in-time rows once (cached as parquet per cutoff under --rows), fits the configured
trees (no tuning) before each shock and prints one JSON line per shock and cutoff offset
(``training.shock_backtests``). Simulator figures, never a real county's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    from features.policy import load_policy
    from models.pipeline import DEFAULT_MONOTONE, RiskPipeline
    from training.config import load_config
    from training.county_data import read_history
    from training.dataset import LABEL, build_training_rows, cutoff_schedule, data_end, data_start
    from training.shock_backtests import matured_fitter, run_shock_backtests, summary

    parser = argparse.ArgumentParser()
    parser.add_argument("--county", type=Path, required=True)
    parser.add_argument("--rows", type=Path, required=True)
    parser.add_argument("--capacity-weeks", type=int, default=8)
    args = parser.parse_args()
    started = time.perf_counter()
    tables, _ = read_history(args.county)
    policy, config = load_policy(), load_config()
    horizon = int(config["horizon_weeks"])
    end = data_end(tables)
    schedule = cutoff_schedule(data_start(tables), end, step_weeks=int(config["cutoff_step_weeks"]),
                               horizon_weeks=horizon, warmup_weeks=int(config["warmup_weeks"]))
    args.rows.mkdir(parents=True, exist_ok=True)

    def rows_at(cutoffs):
        parts, todo = [], []
        for c in cutoffs:
            path = args.rows / f"{pd.Timestamp(c).date()}.parquet"
            (parts.append(pd.read_parquet(path)) if path.exists() else todo.append(pd.Timestamp(c)))
        if todo:
            built = build_training_rows(tables, policy, todo, horizon_weeks=horizon, workers=int(config.get("workers", 1)))
            for c, part in built.groupby(pd.to_datetime(built["cutoff"])):
                part.to_parquet(args.rows / f"{pd.Timestamp(c).date()}.parquet")
            parts.append(built)
        return pd.concat(parts, ignore_index=True)

    model_cfg = config["model"]

    def procedure(fit_rows, calib_rows):
        return RiskPipeline(lgbm_params=dict(model_cfg["lgbm"]), calibration=model_cfg["calibration"],
                            random_state=int(model_cfg["random_state"]),
                            monotone=DEFAULT_MONOTONE if model_cfg.get("monotone", True) else {}).fit(
            fit_rows, fit_rows[LABEL].to_numpy(), calib_rows, calib_rows[LABEL].to_numpy())

    fit = matured_fitter(rows_at, schedule, procedure, horizon_weeks=horizon)
    models = args.rows / "models"
    models.mkdir(exist_ok=True)

    def fit_before(day):  # fitted models cached beside the rows (the same county, config and day)
        import joblib

        path = models / f"{pd.Timestamp(day).date()}.joblib"
        if path.exists():
            return joblib.load(path)
        model = fit(day)
        if model is not None:
            joblib.dump(model, path)
        return model
    records = run_shock_backtests(tables, rows_at, fit_before, data_end=end, horizon_weeks=horizon,
                                  capacity=float(config["capacity"]), capacity_weeks=args.capacity_weeks)
    for r in records:
        print(json.dumps(r, ensure_ascii=False, default=str), flush=True)
    print(json.dumps({"seconds": round(time.perf_counter() - started, 1), **summary(records)}), flush=True)


if __name__ == "__main__":
    main()
