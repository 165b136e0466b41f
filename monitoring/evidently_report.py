"""The county-wide drift verdicts with Evidently's own tests, and its HTML report rendered later
from the two compared samples (kept as Parquet bytes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitoring.columns import as_numbers
from monitoring.drift_settings import PREDICTION, Thresholds

SIDE = "__side"  # which sample a row of ``report_samples`` belongs to
def evidently_frame(frame: pd.DataFrame, numeric: list[str], categorical: list[str],
                     prediction: np.ndarray | None) -> pd.DataFrame:
    # Evidently cannot take quantiles of booleans, and nullable dtypes trip it: plain types only.
    out = {c: as_numbers(frame[c]) for c in numeric}
    for c in categorical:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            out[c] = np.where(col.astype("boolean").fillna(False).to_numpy(dtype=bool), "是", "否")
        else:
            out[c] = col.astype("object").where(col.notna(), None).to_numpy()
    if prediction is not None:
        out[PREDICTION] = np.asarray(prediction, dtype="float64")
    return pd.DataFrame(out)


def report_columns(ref: pd.DataFrame, cur: pd.DataFrame, numeric: list[str], categorical: list[str],
                    th: Thresholds) -> dict[str, Any]:
    """Which columns Evidently compares, and with which methods (the same for verdicts and report)."""
    # Evidently refuses a column with no value at all on either side; such a column is reported by
    # the data-quality check (its missing share), not compared for drift.
    def usable(cols: list[str]) -> list[str]:
        return [c for c in cols if ref[c].notna().any() and cur[c].notna().any()]

    numeric, categorical = usable(numeric), usable(categorical)
    small = min(len(ref), len(cur)) < th.small_rows
    has_pred = PREDICTION in cur.columns
    return {"numeric": numeric + ([PREDICTION] if has_pred else []), "categorical": categorical,
            "features": numeric + categorical,
            "num_method": th.small_num_method if small else th.num_method,
            "cat_method": th.small_cat_method if small else th.cat_method}


def column_verdicts(ref: pd.DataFrame, cur: pd.DataFrame, cols: dict[str, Any]) -> tuple[dict[str, dict], dict]:
    """Per-column Evidently verdicts and the drifted-columns count.

    Evidently's stattests as its ``ValueDrift`` metric calls them (infinities and missing values
    dropped, the method's default threshold), computed by ``monitoring.drift_tests`` without
    importing Evidently, and without building the report's plots: those are ~90 % of a Report's
    cost and are rendered only when someone opens the report (``render_report``), from the same
    samples, so the page and these verdicts agree.
    """
    from monitoring.drift_tests import verdict

    columns: dict[str, dict] = {}
    for numeric, names, method in ((True, cols["numeric"], cols["num_method"]),
                                   (False, cols["categorical"], cols["cat_method"])):
        for c in names:
            r = ref[c].replace([-np.inf, np.inf], np.nan).dropna()
            k = cur[c].replace([-np.inf, np.inf], np.nan).dropna()
            columns[c] = verdict(r, k, numeric, method)
    drifted = sum(columns[c]["drifted"] for c in cols["features"] if c in columns)
    count = {"count": int(drifted), "share": drifted / max(1, len(cols["features"]))}
    return columns, {**count, "num_method": cols["num_method"], "cat_method": cols["cat_method"]}


def report_samples(ref: pd.DataFrame, cur: pd.DataFrame, cols: dict[str, Any]) -> bytes:
    """The two Evidently-ready samples as one Parquet file (a few hundred KB), enough to render the
    full report later; column roles and methods travel in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    both = pd.concat([ref.assign(**{SIDE: "reference"}), cur.assign(**{SIDE: "current"})], ignore_index=True)
    table = pa.Table.from_pandas(both, preserve_index=False)
    meta = {**(table.schema.metadata or {}), b"fanpin.report": json.dumps(cols).encode()}
    buffer = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), buffer, compression="zstd")
    return buffer.getvalue().to_pybytes()


def render_report(samples: bytes, report_path: str | Path | None = None) -> str:
    """The full Evidently report (HTML) from ``report_samples``; saved to ``report_path`` when given
    (its path is returned), else returned as a self-contained HTML string."""
    import io

    import pyarrow.parquet as pq
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    table = pq.read_table(io.BytesIO(samples))
    cols = json.loads(table.schema.metadata[b"fanpin.report"])
    both = table.to_pandas()
    ref = both[both[SIDE] == "reference"].drop(columns=SIDE).reset_index(drop=True)
    cur = both[both[SIDE] == "current"].drop(columns=SIDE).reset_index(drop=True)
    definition = DataDefinition(numerical_columns=cols["numeric"], categorical_columns=cols["categorical"])
    metrics: list = [
        *[ValueDrift(column=c, method=cols["num_method"]) for c in cols["numeric"]],
        *[ValueDrift(column=c, method=cols["cat_method"]) for c in cols["categorical"]],
    ]
    snapshot = Report(metrics, include_tests=True).run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
    )
    if report_path is None:
        return snapshot.get_html_str(as_iframe=False)
    path = Path(report_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(path))
    return str(path)
