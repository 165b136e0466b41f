"""Hidden hardship and audit-weighted training on a simulated county (issue 33), outside the suite.

    PYTHONPATH=. python -m benchmarks.hidden_hardship_bench --county /work/cache/i33/seed1 \
        --rows /work/cache/i33/rows --share 0.015 --share 0.05

Builds the configured split's rows once (cached as parquet under --rows), fits the entry-only and
the audit-weighted model (``training.audit_training``) for each audit share, and prints one JSON
line per share: recall at 5% on entrants and on hidden hardship with 95% intervals. Simulator
figures: the truth is the simulator's, never a real county's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd


def rows_for(county: Path, cache: Path, config, policy, tables):
    from training.dataset import build_training_rows
    from training.split import configured_split

    cache.mkdir(parents=True, exist_ok=True)
    _, split = configured_split(tables, config)
    out = {}
    for name, cutoffs in (("train", split.train), ("calibrate", split.calibrate), ("test", split.test)):
        path = cache / f"{name}.parquet"
        if path.exists():
            out[name] = pd.read_parquet(path)
        else:
            out[name] = build_training_rows(tables, policy, cutoffs, horizon_weeks=int(config["horizon_weeks"]),
                                            workers=int(config.get("workers", 1)))
            out[name].to_parquet(path)
    return out


def main() -> None:
    from features.policy import load_policy
    from training.audit_training import compare_audit_training
    from training.config import load_config
    from training.county_data import read_hardship, read_history

    parser = argparse.ArgumentParser()
    parser.add_argument("--county", type=Path, required=True)
    parser.add_argument("--rows", type=Path, required=True)
    parser.add_argument("--share", type=float, action="append")
    parser.add_argument("--max-weight", type=float, default=None)
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--carry-quarter", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    tables, _ = read_history(args.county)
    policy, config = load_policy(), load_config()
    truth = read_hardship(args.county)
    rows = rows_for(args.county, args.rows, config, policy, tables)
    print(json.dumps({"rows_seconds": round(time.perf_counter() - started, 1),
                      **{k: len(v) for k, v in rows.items()}}), flush=True)
    for share in args.share or [0.015]:
        t = time.perf_counter()
        figures = compare_audit_training(tables, policy, config, truth, share=share, max_weight=args.max_weight,
                                         replicates=args.replicates, rows=rows, carry_quarter=args.carry_quarter)
        print(json.dumps({"share": share, "seconds": round(time.perf_counter() - t, 1), **figures},
                         ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    main()
