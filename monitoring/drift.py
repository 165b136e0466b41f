"""Is this week's data still what the model learned from? The weekly drift check.

One call compares the week's household frame with the champion's reference sample (PII-free
training-frame rows with the model's ``prediction``):

- county-wide, per model feature, with Evidently 0.7 (``ValueDrift`` per column with an explicit
  method for its type and the sample size: normed Wasserstein distance for numbers and
  Jensen-Shannon distance for categories when both sides have at least 1,000 rows, else the
  Kolmogorov-Smirnov and chi-square tests), the share of drifted features (counted from those
  tests' statuses) and the drift of the predicted risk; the verdict read is each test's status,
  never the raw score;
- beside it, the PSI of every feature (``monitoring.psi``; under 0.1 stable, 0.1-0.25 watch,
  over 0.25 act);
- per township, the same PSI and medians against the reference rows of that township, because a
  change confined to one township is a data-entry change or a local shock, not the county moving;
- data quality: missing shares, values outside the reference's range, new category values (a new
  township included), columns that became constant;
- the raw fields behind the features (latest income surveys and members of the week's export):
  per-capita income, the elderly share and the illness shares per township against the reference.

Large weeks are compared on a fixed-size sample stratified by township (bound in
``monitoring.sample``); the per-township checks always use every row. ``monitoring.alerts`` turns
the result into plain-language alerts.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.contract import sensitive_columns
from features.household_frame import FRAME_COLUMNS
from features.transformer import CATEGORICAL_FEATURES, MODEL_FEATURES
from monitoring import sample as sampling
from monitoring.psi import psi, psi_band

PREDICTION = "prediction"
SIDE = "__side"  # which sample a row of ``report_samples`` belongs to
# Never sent to Evidently or written to a report: direct identifiers and the household key.
IDENTIFIERS = frozenset(sensitive_columns()) | {"household_id", "member_id"}
# Money features compared by their median (the 万元 unit error divides them by 10,000).
MONEY_FEATURES = tuple(n for n, c in FRAME_COLUMNS.items() if c.unit == "元")
INCOME_FEATURES = ("pc_net_income", "net_income")
DISASTER_FEATURES = tuple(n for n, c in FRAME_COLUMNS.items() if c.concept == "disaster")
_INCOME_PARTS = ("wage_income", "business_income", "property_income", "transfer_income")
# Features that move with the calendar, not with the households: a reference from earlier years
# has smaller values by construction, so their range is not a data-quality finding.
CALENDAR_FEATURES = frozenset({"years_since_exit", "survey_age_weeks", "head_age"})
# Counts of rare events: a quiet week (every household at zero) is not a broken column.
RARE_EVENT_FEATURES = frozenset(n for n, c in FRAME_COLUMNS.items() if c.unit in ("次", "元")
                                and n.endswith(("_13w", "_52w", "_4w"))) | {"village_disaster_share_13w"}


@dataclass(frozen=True)
class Thresholds:
    """Every number the monitor decides with (override any of them per call)."""

    num_method: str = "wasserstein"  # normed by the reference's standard deviation; 0.1
    cat_method: str = "jensenshannon"  # distance; 0.1
    small_num_method: str = "ks"  # p-value 0.05
    small_cat_method: str = "chisquare"  # p-value 0.05
    small_rows: int = 1000  # below this on either side the p-value tests are used
    psi_watch: float = 0.1
    psi_act: float = 0.25
    sample_size: int = sampling.DEFAULT_SIZE  # current-week rows sent to Evidently
    reference_size: int = 5000  # reference rows sent to Evidently
    seed: int = 0
    min_township_rows: int = 50  # fewer reference rows of a township: compare with the county
    # 万元 unit error: the township's income median is 1/10,000 of the reference (within 20x).
    unit_ratio_low: float = 5e-6
    unit_ratio_high: float = 2e-3
    # A local shock: the township's share of households hit by a disaster in 13 weeks.
    shock_hit_share: float = 0.25
    shock_hit_rise: float = 0.15
    # A subgroup (elderly households) moving while the rest does not: a population change.
    subgroup_shift: float = 0.05  # median transfer share, absolute
    subgroup_contrast: float = 3.0  # elderly shift / other households' shift
    revision_share: float = 0.2  # share of a group's income records rewritten since last week
    missing_rise: float = 0.05  # absolute rise of a feature's missing share
    out_of_range_share: float = 0.02  # share of values outside the reference's range (+50 % span)


def _thresholds(given: Thresholds | dict[str, Any] | None) -> Thresholds:
    if given is None:
        return Thresholds()
    if isinstance(given, Thresholds):
        return given
    known = {f.name for f in fields(Thresholds)}
    unknown = set(given) - known
    if unknown:
        raise ValueError(f"unknown drift thresholds: {sorted(unknown)}")
    return replace(Thresholds(), **given)


@dataclass
class DriftResult:
    """Everything one weekly check found.

    Attributes:
        summary: week, sizes, methods, ``drifted_features``, ``share_drifted``,
            ``prediction_drift``, data-quality counts, the sample bound.
        alerts: plain-language alerts (``monitoring.alerts``), most severe first.
        feature_results: one row per monitored feature (county-wide verdicts, PSI, quality).
        township_results: one row per township and feature (PSI, medians, ratio).
        checks: pattern evidence (units, shocks, subgroups, new categories, raw fields).
        report_html: path of the saved Evidently report when a path was given, else the
            self-contained HTML as a string (None when the check was run with ``render=False``).
        report_samples: the compared samples (``report_samples``), to render the report later.
    """

    summary: dict[str, Any]
    alerts: list[dict[str, Any]]
    feature_results: pd.DataFrame
    township_results: pd.DataFrame
    checks: dict[str, Any] = field(default_factory=dict)
    report_html: str | None = None
    report_samples: bytes | None = None

    @property
    def report_path(self) -> str | None:
        """The saved report's path (None when the report is held as an HTML string)."""
        if self.report_html is None or self.report_html.lstrip().startswith("<"):
            return None
        return self.report_html

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the summary, the alerts and the per-feature rows (no household data)."""
        out = dict(self.summary)
        out["alerts"] = self.alerts
        out["report_path"] = self.report_path
        out["features"] = _records(self.feature_results)
        out["checks"] = self.checks
        return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import orjson

    return orjson.loads(frame.to_json(orient="records", force_ascii=False))


def _is_categorical(name: str, series: pd.Series) -> bool:
    return name in CATEGORICAL_FEATURES or pd.api.types.is_bool_dtype(series) or not (
        pd.api.types.is_numeric_dtype(series)
    )


def _numeric(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        series = series.astype("float64")
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()


def _finite_mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.mean(values)) if len(values) else float("nan")


def _finite_median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else float("nan")


def _evidently_frame(frame: pd.DataFrame, numeric: list[str], categorical: list[str],
                     prediction: np.ndarray | None) -> pd.DataFrame:
    # Evidently cannot take quantiles of booleans, and nullable dtypes trip it: plain types only.
    out = {c: _numeric(frame[c]) for c in numeric}
    for c in categorical:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            out[c] = np.where(col.astype("boolean").fillna(False).to_numpy(dtype=bool), "是", "否")
        else:
            out[c] = col.astype("object").where(col.notna(), None).to_numpy()
    if prediction is not None:
        out[PREDICTION] = np.asarray(prediction, dtype="float64")
    return pd.DataFrame(out)


def _report_columns(ref: pd.DataFrame, cur: pd.DataFrame, numeric: list[str], categorical: list[str],
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


def _verdicts(ref: pd.DataFrame, cur: pd.DataFrame, cols: dict[str, Any]) -> tuple[dict[str, dict], dict]:
    """Per-column Evidently verdicts and the drifted-columns count.

    Evidently's own stattests, called as its ``ValueDrift`` metric calls them (infinities and
    missing values dropped, the method's default threshold), without building the report's
    plots: those are ~90 % of a Report's cost and are rendered only when someone opens the report
    (``render_report``), from the same samples, so the page and these verdicts agree.
    """
    from evidently.legacy.calculations.stattests import get_stattest
    from evidently.legacy.core import ColumnType

    columns: dict[str, dict] = {}
    for kind, names, method in ((ColumnType.Numerical, cols["numeric"], cols["num_method"]),
                                (ColumnType.Categorical, cols["categorical"], cols["cat_method"])):
        for c in names:
            r = ref[c].replace([-np.inf, np.inf], np.nan).dropna()
            k = cur[c].replace([-np.inf, np.inf], np.nan).dropna()
            test = get_stattest(r, k, kind, method)
            result = test(r, k, kind, None)
            columns[c] = {"method": method, "threshold": float(result.actual_threshold),
                          "score": float(result.drift_score), "drifted": bool(result.drifted)}
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


def _became_constant(r: pd.Series, c: pd.Series) -> bool:
    """One value for every household now, several in the reference, and that value was not
    already the reference's usual one (every household insured now is progress, not a broken
    column; a column all missing or stuck at an unusual value is)."""
    if len(c) == 0 or c.nunique(dropna=True) > 1 or r.nunique(dropna=True) <= 1:
        return False
    values = c.dropna()
    if values.empty:
        return True
    usual = float((r.astype("object") == values.iloc[0]).mean())
    return usual < 0.5


def _quality(ref: pd.DataFrame, cur: pd.DataFrame, features: list[str], th: Thresholds) -> pd.DataFrame:
    rows = []
    for name in features:
        r, c = ref[name], cur[name]
        row: dict[str, Any] = {
            "feature": name,
            "missing_reference": float(r.isna().mean()),
            "missing_current": float(c.isna().mean()),
            "constant_now": _became_constant(r, c),
            "new_values": [],
            "out_of_range_share": 0.0,
        }
        if pd.api.types.is_bool_dtype(r):
            # Both values of a yes/no field are valid by the contract: one absent from the
            # reference sample (unsafe water is rare) is not a new category or out of range.
            pass
        elif _is_categorical(name, r):
            seen = set(r.dropna().astype(str))
            row["new_values"] = sorted(set(c.dropna().astype(str)) - seen)
        else:
            rv, cv = _numeric(r), _numeric(c)
            rv, cv = rv[np.isfinite(rv)], cv[np.isfinite(cv)]
            if len(cv) and name.endswith("_share"):
                # A share is implausible only outside 0..1; within it any value can happen.
                row["out_of_range_share"] = float(((cv < -1e-9) | (cv > 1 + 1e-9)).mean())
            elif len(rv) and len(cv) and name not in CALENDAR_FEATURES:
                lo, hi = rv.min(), rv.max()
                # Half the span of slack: a sample's extremes move as a population ages or
                # grows richer; what is flagged is far outside, not just a new record.
                slack = 0.5 * (hi - lo)
                row["out_of_range_share"] = float(((cv < lo - slack) | (cv > hi + slack)).mean())
                row["reference_min"], row["reference_max"] = float(lo), float(hi)
        rows.append(row)
    return pd.DataFrame(rows)


def _township_table(ref: pd.DataFrame, cur: pd.DataFrame, features: list[str],
                    pred_ref: np.ndarray | None, pred_cur: np.ndarray | None,
                    th: Thresholds) -> pd.DataFrame:
    """PSI and medians per township against that township's reference rows (all rows, no sample)."""
    rows = []
    ref_town = ref["township"].astype(str) if "township" in ref.columns else pd.Series("", index=ref.index)
    cur_town = cur["township"].astype(str)
    ref_groups = {t: idx for t, idx in ref.groupby(ref_town.to_numpy()).indices.items()}
    for town, idx in cur.groupby(cur_town.to_numpy()).indices.items():
        r_idx = ref_groups.get(town)
        in_reference = r_idx is not None and len(r_idx) >= th.min_township_rows
        r_part = ref.iloc[r_idx] if in_reference else ref
        c_part = cur.iloc[idx]
        base = {"township": town, "n_current": len(idx), "n_reference": len(r_part),
                "own_reference": in_reference}
        for name in features:
            value = psi(r_part[name], c_part[name])
            row = {**base, "feature": name, "psi": value, "psi_band": psi_band(value)}
            if not _is_categorical(name, r_part[name]):
                mc, mr = _finite_median(_numeric(c_part[name])), _finite_median(_numeric(r_part[name]))
                row.update(median_current=mc, median_reference=mr,
                           mean_current=_finite_mean(_numeric(c_part[name])),
                           mean_reference=_finite_mean(_numeric(r_part[name])),
                           median_ratio=mc / mr if mr and np.isfinite(mr) and mr > 0 else math.nan)
            rows.append(row)
        if pred_ref is not None and pred_cur is not None:
            pr = pred_ref[r_idx] if in_reference else pred_ref
            pc = pred_cur[idx]
            value = psi(pr, pc)
            rows.append({**base, "feature": PREDICTION, "psi": value, "psi_band": psi_band(value),
                         "mean_current": float(np.mean(pc)), "mean_reference": float(np.mean(pr)),
                         "median_current": float(np.median(pc)), "median_reference": float(np.median(pr)),
                         "median_ratio": float(np.median(pc) / np.median(pr)) if np.median(pr) > 0 else math.nan})
    return pd.DataFrame(rows)


def _localisation(town: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    """Per feature: townships at 'act', and whether the change is confined to a few of them."""
    if town.empty:
        return pd.DataFrame(columns=["feature", "townships_act", "n_townships", "local"])
    out = []
    for name, part in town[town["own_reference"]].groupby("feature"):
        act = part.loc[part["psi"] > th.psi_act, "township"].tolist()
        n = len(part)
        others = part.loc[~part["township"].isin(act), "psi"]
        local = 0 < len(act) <= max(1, n // 3) and (others.median() if len(others) else 0) < th.psi_watch
        out.append({"feature": name, "townships_act": act, "n_townships": n, "local": bool(local)})
    return pd.DataFrame(out)


def _unit_checks(town: pd.DataFrame, raw: pd.DataFrame | None, th: Thresholds) -> list[dict[str, Any]]:
    """Townships whose income medians sit ~1/10,000 of the reference: a 万元 unit error."""
    found = []
    if town.empty:
        return found
    money = town[town["feature"].isin(INCOME_FEATURES) & town["own_reference"]]
    for township, part in money.groupby("township"):
        ratios = part.set_index("feature")["median_ratio"].dropna()
        hit = ratios[(ratios > th.unit_ratio_low) & (ratios < th.unit_ratio_high)]
        if hit.empty:
            continue
        row = part.set_index("feature").loc[hit.index[0]]
        entry = {"township": township, "feature": hit.index[0], "ratio": float(hit.iloc[0]),
                 "median_current": float(row["median_current"]), "median_reference": float(row["median_reference"]),
                 "psi": float(row["psi"]), "features": list(hit.index)}
        if raw is not None and township in raw.index:
            entry["raw_ratio"] = float(raw.loc[township, "pc_income_ratio"])
        found.append(entry)
    # The weekly job holds rows the reader suspects of a 万元 slip out of the features, so their
    # township looks normal in the frame: the raw export still shows the slip, and it is reported
    # as held (the scores use the last confirmed income) rather than as untrustworthy scores.
    if raw is not None and "pc_income_ratio" in raw.columns:
        seen = {e["township"] for e in found}
        ratio = raw["pc_income_ratio"].dropna()
        for township, value in ratio[(ratio > th.unit_ratio_low) & (ratio < th.unit_ratio_high)].items():
            if township in seen:
                continue
            found.append({"township": township, "feature": "pc_net_income", "ratio": float(value),
                          "median_current": float(raw.loc[township, "pc_income_median"]),
                          "median_reference": float(raw.loc[township, "pc_income_median_reference"]),
                          "psi": None, "features": ["pc_net_income"], "raw_ratio": float(value), "held": True})
    return found


def _shock_checks(ref: pd.DataFrame, cur: pd.DataFrame, town: pd.DataFrame, th: Thresholds) -> list[dict]:
    """Townships where far more households than usual were hit by a disaster in 13 weeks."""
    if "disaster_events_13w" not in cur.columns or "township" not in ref.columns:
        return []
    hit_cur = (_numeric(cur["disaster_events_13w"]) > 0)
    hit_ref = (_numeric(ref["disaster_events_13w"]) > 0)
    cur_share = pd.Series(hit_cur).groupby(cur["township"].astype(str).to_numpy()).mean()
    ref_share = pd.Series(hit_ref).groupby(ref["township"].astype(str).to_numpy()).mean()
    found = []
    for township, share in cur_share.items():
        before = float(ref_share.get(township, np.mean(hit_ref)))
        if share < th.shock_hit_share or share - before < th.shock_hit_rise:
            continue
        part = town[(town["township"] == township)].set_index("feature")
        drifted = [f for f in DISASTER_FEATURES if f in part.index and part.loc[f, "psi"] > th.psi_act]
        income = [f for f in ("business_share", *INCOME_FEATURES)
                  if f in part.index and part.loc[f, "psi"] > th.psi_watch]
        entry = {"township": township, "hit_share": float(share), "hit_share_reference": before,
                 "features": drifted, "income_features": income,
                 "psi": float(max((part.loc[f, "psi"] for f in drifted), default=float("nan")))}
        if PREDICTION in part.index:
            entry["risk_mean"] = float(part.loc[PREDICTION, "mean_current"])
            entry["risk_mean_reference"] = float(part.loc[PREDICTION, "mean_reference"])
        found.append(entry)
    # Most townships hit at once is a county-wide event, not a local one.
    if len(found) > max(1, len(cur_share) // 3):
        for entry in found:
            entry["county_wide"] = True
    return found


def _subgroup_checks(ref: pd.DataFrame, cur: pd.DataFrame, th: Thresholds,
                     pred_ref: np.ndarray | None, pred_cur: np.ndarray | None,
                     revisions: dict[str, Any] | None = None) -> list[dict]:
    """Elderly households' transfer income moving while other households' does not."""
    need = {"n_elderly_60", "transfer_share"}
    if not need <= set(ref.columns) or not need <= set(cur.columns):
        return []
    old_r = _numeric(ref["n_elderly_60"]) > 0
    old_c = _numeric(cur["n_elderly_60"]) > 0
    tr, tc = _numeric(ref["transfer_share"]), _numeric(cur["transfer_share"])
    shift_old = _finite_median(tc[old_c]) - _finite_median(tr[old_r])
    shift_rest = _finite_median(tc[~old_c]) - _finite_median(tr[~old_r])
    value = psi(tr[old_r], tc[old_c])
    entry = {"group": "elderly_households", "feature": "transfer_share",
             "median_current": _finite_median(tc[old_c]), "median_reference": _finite_median(tr[old_r]),
             "shift": shift_old, "shift_other_households": shift_rest, "psi": value,
             "psi_other_households": psi(tr[~old_r], tc[~old_c]), "n_current": int(old_c.sum())}
    against_reference = (abs(shift_old) >= th.subgroup_shift
                         and abs(shift_old) >= th.subgroup_contrast * abs(shift_rest))
    # Week over week: elderly households' transfer income rewritten while others' is not.
    revised = False
    if revisions is not None:
        g = revisions["groups"]
        old_t = g.get("elderly_households", {}).get("transfer_income", {})
        rest_t = g.get("other_households", {}).get("transfer_income", {"share_changed": 0.0})
        entry["revised_share"] = old_t.get("share_changed")
        entry["revised_median_change"] = old_t.get("median_change")
        entry["revised_share_other_households"] = rest_t.get("share_changed")
        revised = bool(old_t and old_t["share_changed"] >= th.revision_share
                       and old_t["share_changed"] >= th.subgroup_contrast * rest_t["share_changed"])
    # Against an old reference the elderly share drifts a little every year (pensions grow), so
    # the reference alone must show a clear jump; a week-over-week rewrite is direct evidence.
    # The reference alone is reported (info) but not trusted to call a population change: an
    # old reference differs from today in many slow ways.
    against_reference = against_reference and value > th.psi_act
    entry["changed"] = bool(revised)
    entry["evidence"] = [e for e, hit in (("reference", against_reference), ("week_over_week", revised)) if hit]
    if pred_ref is not None and pred_cur is not None:
        entry["risk_mean"] = float(np.mean(pred_cur[old_c]))
        entry["risk_mean_reference"] = float(np.mean(pred_ref[old_r]))
    return [entry]


def _revision_checks(raw_tables: dict[str, pd.DataFrame] | None, previous: dict[str, pd.DataFrame] | None,
                     cur: pd.DataFrame) -> dict[str, Any] | None:
    """Income records the export changed against the registry's previous values (same household
    and income year), split by elderly and other households: how a pension rise or a unit slip
    lands in a registry between two weeks."""
    if not raw_tables or not previous:
        return None
    new, old = raw_tables.get("income_surveys"), previous.get("income_surveys")
    if new is None or old is None or new.empty or old.empty:
        return None
    money = [c for c in (*_INCOME_PARTS, "business_costs") if c in new.columns and c in old.columns]
    pairs = new.merge(old.drop_duplicates(["household_id", "survey_year"], keep="last"),
                      on=["household_id", "survey_year"], suffixes=("", "_before"))
    if pairs.empty:
        return None
    if "n_elderly_60" in cur.columns:
        elderly = cur.set_index("household_id")["n_elderly_60"].gt(0)
        group = pairs["household_id"].map(elderly).map({True: "elderly_households", False: "other_households"})
    else:
        group = pd.Series("other_households", index=pairs.index)
    out: dict[str, Any] = {"records_compared": len(pairs), "groups": {}}
    for name, part in pairs.groupby(group.fillna("other_households").to_numpy()):
        entry: dict[str, Any] = {"records": len(part)}
        for col in money:
            delta = (part[col] - part[f"{col}_before"]).astype("float64")
            changed = delta.abs() > np.maximum(1.0, 0.01 * part[f"{col}_before"].abs())
            entry[col] = {"share_changed": float(changed.mean()),
                          "median_change": float(delta[changed].median()) if changed.any() else 0.0}
        out["groups"][name] = entry
    return out


def _raw_checks(raw_tables: dict[str, pd.DataFrame] | None, ref: pd.DataFrame,
                cutoff: pd.Timestamp | None) -> pd.DataFrame | None:
    """Per township, the raw per-capita income and the age and illness shares of the export."""
    if not raw_tables or "households" not in raw_tables or "township" not in ref.columns:
        return None
    households = raw_tables["households"]
    members = raw_tables.get("members")
    surveys = raw_tables.get("income_surveys")
    if households is None or households.empty:
        return None
    if "valid_to" in households.columns:
        households = households[households["valid_to"].isna()]
    town_of = households.drop_duplicates("household_id", keep="last").set_index("household_id")["township"]
    out = pd.DataFrame(index=pd.Index(sorted(town_of.astype(str).unique()), name="township"))
    ref_town = ref["township"].astype(str)
    if members is not None and not members.empty:
        m = members[members["valid_to"].isna()] if "valid_to" in members.columns else members
        size = m.groupby("household_id").size()
        mt = m["household_id"].map(town_of).astype(str)
        if cutoff is not None and "birth_date" in m.columns:
            age = (cutoff - m["birth_date"]).dt.days / 365.25
            out["elderly_share"] = (age >= 60).groupby(mt).mean()
            ref_old = ref["n_elderly_60"].groupby(ref_town).sum() / ref["household_size"].groupby(ref_town).sum()
            out["elderly_share_reference"] = ref_old
        if "health" in m.columns:
            for level, col in (("chronic", "n_chronic"), ("major", "n_major_illness")):
                out[f"{level}_share"] = (m["health"] == level).groupby(mt).mean()
                out[f"{level}_share_reference"] = (ref[col].groupby(ref_town).sum()
                                                   / ref["household_size"].groupby(ref_town).sum())
        if surveys is not None and not surveys.empty:
            s = surveys.sort_values(["household_id", "survey_year"]).drop_duplicates("household_id", keep="last")
            net = s[list(_INCOME_PARTS)].sum(axis=1) - s["business_costs"]
            pc = (net / s["household_id"].map(size)).astype("float64")
            st = s["household_id"].map(town_of).astype(str)
            out["pc_income_median"] = pc.groupby(st.to_numpy()).median()
            ref_pc = ref["pc_net_income"].groupby(ref_town).median()
            out["pc_income_median_reference"] = ref_pc
            out["pc_income_ratio"] = out["pc_income_median"] / out["pc_income_median_reference"]
            money = list(_INCOME_PARTS) + ["business_costs", "medical_out_of_pocket", "schooling_spending"]
            money = [c for c in money if c in s.columns]
            out["income_missing_share"] = s[money].isna().any(axis=1).groupby(st.to_numpy()).mean()
    return out


def check_week(
    current_frame: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    week: str,
    predictions=None,
    reference_predictions=None,
    raw_tables: dict[str, pd.DataFrame] | None = None,
    previous_tables: dict[str, pd.DataFrame] | None = None,
    thresholds: Thresholds | dict[str, Any] | None = None,
    report_path: str | Path | None = None,
    render: bool = True,
) -> DriftResult:
    """Compare one week's household frame with the reference and say what changed and where.

    Args:
        current_frame: this week's household frame (``build_household_frame`` at the week's
            Sunday), every household of the week.
        reference: the champion's reference sample (frame rows; ``township`` for the per-township
            checks; ``prediction`` when the model scored it).
        week: ISO week label, e.g. ``2025-W49``.
        predictions: the model's probabilities for ``current_frame`` rows (same order), if scored.
        reference_predictions: probabilities for the reference rows (default: its ``prediction``).
        raw_tables: the week's export tables (households, members, income_surveys) for the raw
            income, age and health checks.
        previous_tables: the registry before this export (the history), to see which income
            records the export rewrote since last week.
        thresholds: a ``Thresholds`` or a dict overriding some of its fields.
        report_path: where to save the full Evidently HTML report (when None, the HTML string
            is returned in ``report_html`` instead).
        render: build the Evidently report now; the weekly job says False and keeps
            ``report_samples`` instead, so the report is rendered when someone opens it.

    Returns:
        A ``DriftResult``; its alerts come from ``monitoring.alerts.build_alerts``.
    """
    from monitoring.alerts import build_alerts

    th = _thresholds(thresholds)
    cur = current_frame.reset_index(drop=True)
    ref = reference.reset_index(drop=True)
    # A reference assembled as context + features can name a column twice (category is both).
    ref = ref.loc[:, ~ref.columns.duplicated()]
    cur = cur.loc[:, ~cur.columns.duplicated()]
    if reference_predictions is None and PREDICTION in ref.columns:
        reference_predictions = ref[PREDICTION].to_numpy(dtype="float64")
    pred_cur = None if predictions is None else np.asarray(predictions, dtype="float64").reshape(-1)
    pred_ref = None if reference_predictions is None else np.asarray(reference_predictions, dtype="float64")
    if pred_cur is not None and len(pred_cur) != len(cur):
        raise ValueError(f"{len(pred_cur)} predictions for {len(cur)} households")
    if pred_cur is None:
        pred_ref = None  # a prediction drift needs both sides

    features = [f for f in MODEL_FEATURES if f in cur.columns and f in ref.columns]
    categorical = [f for f in features if _is_categorical(f, ref[f])]
    numeric = [f for f in features if f not in categorical]

    # Evidently on a township-stratified sample of each side (bound in monitoring.sample).
    cur_s = sampling.stratified_sample(cur, th.sample_size, seed=th.seed)
    ref_s = sampling.stratified_sample(ref, th.reference_size, seed=th.seed + 1)
    # Prediction drift needs both sides: a reference without predictions compares features only.
    ev_cur = _evidently_frame(cur_s, numeric, categorical,
                              None if pred_cur is None or pred_ref is None else pred_cur[cur_s.index.to_numpy()])
    ev_ref = _evidently_frame(ref_s, numeric, categorical,
                              None if pred_ref is None else pred_ref[ref_s.index.to_numpy()])
    cols = _report_columns(ev_ref, ev_cur, numeric, categorical, th)
    verdicts, count = _verdicts(ev_ref, ev_cur, cols)
    samples = report_samples(ev_ref, ev_cur, cols)
    saved = render_report(samples, report_path) if render else None

    quality = _quality(ref, cur, features, th)
    town = _township_table(ref, cur, features, pred_ref, pred_cur, th) if "township" in cur.columns else pd.DataFrame()
    local = _localisation(town, th)

    rows = []
    for name in features:
        v = verdicts.get(name, {})
        value = psi(ref[name], cur[name])
        label = FRAME_COLUMNS.get(name)
        row = {"feature": name, "zh": label.zh if label else name, "en": label.en if label else name,
               "kind": "categorical" if name in categorical else "numeric",
               "method": v.get("method"), "score": v.get("score"), "threshold": v.get("threshold"),
               "drifted": bool(v.get("drifted", False)), "psi": value, "psi_band": psi_band(value)}
        if name in numeric:
            row["median_current"] = _finite_median(_numeric(cur[name]))
            row["median_reference"] = _finite_median(_numeric(ref[name]))
        rows.append(row)
    feature_results = pd.DataFrame(rows).merge(quality, on="feature", how="left")
    if not local.empty:
        feature_results = feature_results.merge(local, on="feature", how="left")

    prediction_drift = None
    if pred_cur is not None and pred_ref is not None:
        v = verdicts.get(PREDICTION, {})
        value = psi(pred_ref, pred_cur)
        prediction_drift = {"method": v.get("method"), "score": v.get("score"), "threshold": v.get("threshold"),
                            "drifted": bool(v.get("drifted", False)), "psi": value, "psi_band": psi_band(value),
                            "mean_current": float(np.mean(pred_cur)), "mean_reference": float(np.mean(pred_ref))}

    cutoff = pd.Timestamp(cur["cutoff"].iloc[0]) if "cutoff" in cur.columns and len(cur) else None
    raw = _raw_checks(raw_tables, ref, cutoff)
    new_towns = []
    if "township" in cur.columns and "township" in ref.columns:
        seen = set(ref["township"].astype(str))
        counts = cur["township"].astype(str).value_counts()
        new_towns = [{"township": t, "households": int(n)} for t, n in counts.items() if t not in seen]
    revisions = _revision_checks(raw_tables, previous_tables, cur)
    checks = {
        "unit_errors": _unit_checks(town, raw, th),
        "local_shocks": _shock_checks(ref, cur, town, th),
        "subgroups": _subgroup_checks(ref, cur, th, pred_ref, pred_cur, revisions),
        "revisions": revisions,
        "new_townships": new_towns,
        "raw": None if raw is None else _records(raw.reset_index()),
    }
    reference_period = None
    if "cutoff" in ref.columns and len(ref):
        reference_period = [str(pd.Timestamp(ref["cutoff"].min()).date()), str(pd.Timestamp(ref["cutoff"].max()).date())]
    drifted = feature_results.loc[feature_results["drifted"], "feature"].tolist()
    summary = {
        "week": week,
        "n_current": len(cur),
        "n_reference": len(ref),
        "n_compared": {"current": len(cur_s), "reference": len(ref_s)},
        "sample_bound": {"dkw_epsilon_95": sampling.dkw_epsilon(len(cur_s)),
                         "share_half_width_95": sampling.share_half_width(len(cur_s))},
        "methods": {"numeric": count.get("num_method"), "categorical": count.get("cat_method"),
                    "psi_bands": [th.psi_watch, th.psi_act]},
        "reference_period": reference_period,
        "n_features": len(features),
        "drifted_features": drifted,
        "n_drifted": count.get("count", len(drifted)),
        "share_drifted": count.get("share", len(drifted) / max(1, len(features))),
        "prediction_drift": prediction_drift,
        "quality": {
            "missing_rise": feature_results.loc[
                feature_results["missing_current"] - feature_results["missing_reference"] >= th.missing_rise,
                "feature"].tolist(),
            "out_of_range": feature_results.loc[
                feature_results["out_of_range_share"] >= th.out_of_range_share, "feature"].tolist(),
            "new_values": {r.feature: r.new_values for r in feature_results.itertuples() if r.new_values},
            "constant": feature_results.loc[feature_results["constant_now"], "feature"].tolist(),
        },
        "townships": sorted(cur["township"].astype(str).unique()) if "township" in cur.columns else [],
        "thresholds": asdict(th),
    }
    result = DriftResult(summary=summary, alerts=[], feature_results=feature_results,
                         township_results=town, checks=checks, report_html=saved, report_samples=samples)
    result.alerts = build_alerts(result, th)
    result.summary["alerts_by_severity"] = {
        s: sum(a["severity"] == s for a in result.alerts) for s in ("high", "medium", "low", "info")
    }
    return result
