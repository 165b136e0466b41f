"""The served model on the newest matured quarter it never saw: the check that what serves, not
only the procedure that made it, beats the baselines and is calibrated where visits are decided.

The served refit learns from every matured cutoff but the newest ``backtest.served_holdout_weeks``
(13: a quarter). On those rows (townships with a declared shock in their outcome window set aside
and named, as in the backtest) it must find more entrants in its top 5% than the strongest
baseline fitted on the same training rows, and its top-5% observed/expected must lie in the
holdout band (wider than the backtest's: one quarter holds a few hundred entrants at most).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from models import metrics as mt
from training.dataset import LABEL
from training.rolling import figures


def holdout_check(model, holdout: pd.DataFrame, baselines: Mapping[str, Callable[[pd.DataFrame], np.ndarray]],
                  shock_townships: list[str], *, capacity: float, gates: dict[str, Any]) -> dict[str, Any]:
    """Judge the served model on its held-out quarter.

    Returns:
        passed, reasons (one line each), judged (False when too few entrants to judge), the
        model's figures and each baseline's recall at 5% on the normal rows, the shock townships
        set aside, and the held-out cutoffs.
    """
    if holdout.empty:
        return {"passed": True, "judged": False, "reasons": [], "note": "no held-out quarter configured"}
    y = holdout[LABEL].to_numpy().astype(int)
    groups = holdout["cutoff"].to_numpy()
    normal = ~holdout["township"].astype(str).isin(shock_townships).to_numpy()
    p = model.predict_proba(holdout)[:, 1]
    model_fig = figures(y, p, mt.top_share(p, groups, capacity), normal, probability=True)
    base = {n: figures(y, s, mt.top_share(s, groups, capacity), normal, probability=False)["recall_at_5pct"]
            for n, s in ((n, np.asarray(f(holdout), dtype=float)) for n, f in baselines.items())}
    strongest = max(base, key=base.get) if base else None
    out = {"cutoffs": sorted(str(pd.Timestamp(c).date()) for c in pd.unique(groups)), "model": model_fig,
           "baselines_recall_at_5pct": base, "strongest": strongest, "shock_townships": list(shock_townships)}
    if model_fig["entrants"] < int(gates["holdout_min_entrants"]):
        return {**out, "passed": True, "judged": False, "reasons": [],
                "note": f"{model_fig['entrants']} entrants in the held-out quarter, fewer than "
                        f"{gates['holdout_min_entrants']}: not judged"}
    reasons = []
    if strongest is not None and not model_fig["recall_at_5pct"] > base[strongest]:
        reasons.append(f"served model on its held-out quarter: recall@5% {model_fig['recall_at_5pct']:.3f} does not "
                       f"beat {strongest}'s {base[strongest]:.3f}")
    oe = model_fig["top5_observed_expected"]
    if not (np.isfinite(oe) and gates["holdout_oe_low"] <= oe <= gates["holdout_oe_high"]):
        reasons.append(f"served model on its held-out quarter: top-5% observed/expected {oe:.3f} outside "
                       f"{gates['holdout_oe_low']}-{gates['holdout_oe_high']}")
    return {**out, "passed": not reasons, "judged": True, "reasons": reasons}
