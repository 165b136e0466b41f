"""The weekly drift check without the report's plots gives Evidently's own verdicts, and the
report rendered later from the stored samples is Evidently's report of the same comparison."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd


def _frames(n: int = 1500) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({
        "income": rng.lognormal(9, 0.5, n),
        "size": rng.integers(1, 7, n).astype("float64"),
        "kind": rng.choice(["a", "b", "c"], n),
        "flag": rng.choice(["是", "否"], n),
    })
    cur = pd.DataFrame({
        "income": rng.lognormal(9, 0.5, n) * 0.7,  # drifted
        "size": rng.integers(1, 7, n).astype("float64"),  # same
        "kind": rng.choice(["a", "b", "c"], n, p=[0.1, 0.2, 0.7]),  # drifted
        "flag": rng.choice(["是", "否"], n),  # same
    })
    cur.loc[:10, "size"] = np.nan
    return ref, cur


def test_direct_verdicts_equal_the_evidently_report_and_render_later():
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    from monitoring import evidently_report as drift
    from monitoring.drift_settings import Thresholds

    ref, cur = _frames()
    cols = drift.report_columns(ref, cur, ["income", "size"], ["kind", "flag"], Thresholds())
    verdicts, count = drift.column_verdicts(ref, cur, cols)
    assert {c for c, v in verdicts.items() if v["drifted"]} == {"income", "kind"}
    assert count["count"] == 2 and count["share"] == 0.5

    definition = DataDefinition(numerical_columns=cols["numeric"], categorical_columns=cols["categorical"])
    metrics = [*[ValueDrift(column=c, method=cols["num_method"]) for c in cols["numeric"]],
               *[ValueDrift(column=c, method=cols["cat_method"]) for c in cols["categorical"]]]
    data = json.loads(Report(metrics, include_tests=True).run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition)).json())
    scores = {m["id"]: m["value"] for m in data["metrics"]}
    for test in data["tests"]:
        column = test["metric_config"]["params"]["column"]
        assert verdicts[column]["drifted"] == (test["status"] == "FAIL"), column
        assert abs(verdicts[column]["score"] - scores[test["metric_config"]["metric_id"]]) < 1e-12, column

    samples = drift.report_samples(ref, cur, cols)
    assert 0 < len(samples) < 200_000
    html = drift.render_report(samples)
    assert html.lstrip().startswith("<") and "income" in html and len(html) > 100_000
