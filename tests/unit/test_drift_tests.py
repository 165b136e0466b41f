"""The weekly drift check's own copies of Evidently's four tests give Evidently's numbers exactly
(issue 32: the weekly job no longer imports Evidently to compute them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitoring.drift_tests import verdict


def evidently_verdict(reference: pd.Series, current: pd.Series, numeric: bool, method: str) -> dict:
    from evidently.legacy.calculations.stattests import get_stattest
    from evidently.legacy.core import ColumnType

    kind = ColumnType.Numerical if numeric else ColumnType.Categorical
    result = get_stattest(reference, current, kind, method)(reference, current, kind, None)
    return {"method": method, "threshold": float(result.actual_threshold), "score": float(result.drift_score),
            "drifted": bool(result.drifted)}


def samples(seed: int, n_ref: int, n_cur: int):
    rng = np.random.default_rng(seed)
    numeric = {
        "shifted": (pd.Series(rng.normal(0, 1, n_ref)), pd.Series(rng.normal(0.3, 1.2, n_cur))),
        "same": (pd.Series(rng.normal(0, 1, n_ref)), pd.Series(rng.normal(0, 1, n_cur))),
        "zero_inflated": (pd.Series(np.where(rng.random(n_ref) < 0.8, 0, rng.poisson(2, n_ref)).astype(float)),
                          pd.Series(np.where(rng.random(n_cur) < 0.6, 0, rng.poisson(3, n_cur)).astype(float))),
        "constant": (pd.Series(np.ones(n_ref)), pd.Series(np.ones(n_cur))),
    }
    towns = np.array(["城关镇", "河口乡", "石门镇", "新华乡", "other"], dtype=object)
    categorical = {
        "towns": (pd.Series(rng.choice(towns[:4], n_ref), dtype=object),
                  pd.Series(rng.choice(towns, n_cur, p=[0.1, 0.3, 0.3, 0.2, 0.1]), dtype=object)),
        "yes_no": (pd.Series(rng.choice(np.array(["是", "否"], dtype=object), n_ref)),
                   pd.Series(rng.choice(np.array(["是", "否"], dtype=object), n_cur, p=[0.7, 0.3]))),
    }
    return numeric, categorical


@pytest.mark.parametrize(("n_ref", "n_cur", "num_method", "cat_method"), [
    (3000, 2500, "wasserstein", "jensenshannon"),  # the weekly check's methods
    (400, 300, "ks", "chisquare"),  # small samples' p-value tests
])
def test_verdicts_equal_evidentlys(n_ref, n_cur, num_method, cat_method):
    for seed in (1, 2):
        numeric, categorical = samples(seed, n_ref, n_cur)
        for name, (ref, cur) in numeric.items():
            assert verdict(ref, cur, True, num_method) == evidently_verdict(ref, cur, True, num_method), name
        for name, (ref, cur) in categorical.items():
            assert verdict(ref, cur, False, cat_method) == evidently_verdict(ref, cur, False, cat_method), name


def test_another_method_is_evidentlys_own():
    numeric, _ = samples(3, 2000, 2000)
    ref, cur = numeric["shifted"]
    assert verdict(ref, cur, True, "psi") == evidently_verdict(ref, cur, True, "psi")
    assert verdict(ref, cur, True, "jensenshannon") == evidently_verdict(ref, cur, True, "jensenshannon")


def test_the_weekly_drift_check_does_not_import_evidently():
    import subprocess
    import sys

    code = ("import sys, numpy as np, pandas as pd\n"
            "from monitoring.evidently_report import column_verdicts\n"
            "rng = np.random.default_rng(0)\n"
            "ref = pd.DataFrame({'x': rng.normal(0, 1, 2000), 'c': rng.choice(['a', 'b'], 2000)})\n"
            "cur = pd.DataFrame({'x': rng.normal(1, 1, 2000), 'c': rng.choice(['a', 'b'], 2000)})\n"
            "cols = {'numeric': ['x'], 'categorical': ['c'], 'features': ['x', 'c'],\n"
            "        'num_method': 'wasserstein', 'cat_method': 'jensenshannon'}\n"
            "verdicts, count = column_verdicts(ref, cur, cols)\n"
            "assert verdicts['x']['drifted'] and count['count'] >= 1\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'evidently'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
