"""Bring your own data: train the same way on any household-level table.

``fanpin train --table FILE --target COLUMN [--id COLUMN] [--time COLUMN] [--mapping FILE]``.

- Columns: numbers (incl. numeric text and yes/no words such as 是/否) become numeric features;
  text with at most 50 distinct values (e.g. Chinese category names) becomes categories; dates,
  long free text and anything that looks like a direct identifier (a header naming a name, ID
  number or phone, values shaped like an 18-digit ID number or an 11-digit mobile number, and the
  contract's sensitive columns) are never used and never logged.
- Target: binary (yes/no words, booleans, two numbers: the larger is positive; two words: the rarer
  is positive) or ordinal (numbers, or known ordered words such as 低/中/高): the top class(es)
  against the rest, adding classes from the top until at least 5% of rows are positive. The
  choice is printed and logged.
- Split: with ``--time``, by time (oldest 60% train, next 20% calibrate, newest 20% test; no gap
  is added because the table's label horizon is unknown); without, a stratified 60/20/20 split
  plus 5-fold stratified cross-validation of the AUC on train + calibrate.
- ``--mapping`` (YAML ``your_column: contract_column`` or a two-column CSV) renames columns onto
  the data contract; when the household-frame fields the official rules need are all present,
  the rules baseline is evaluated too.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.contract import sensitive_columns
from features.household_frame import FRAME_COLUMNS
from features.progress import reporter
from models import metrics as mt
from models.table_model import TableModel, as_number, yes_no
from training import evaluate as ev
from training.feature_value import feature_value, feature_value_json
from training.feature_value import settings as value_settings
from training.train import TrainingResult

ID_HEADER = re.compile(r"(姓名|名字|身份证|证件|电话|手机|联系方式|name|phone|mobile|id_?number|id_?card)", re.I)
ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
PHONE = re.compile(r"^1\d{10}$")
ORDERED_WORDS = [
    ["低", "中", "高"], ["低", "较低", "中", "较高", "高"], ["无", "轻", "中", "重"], ["无", "轻度", "中度", "重度"],
    ["low", "medium", "high"], ["none", "mild", "moderate", "severe"], ["稳定", "一般", "不稳定"],
]
MIN_POSITIVE_SHARE = 0.05
Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSplit:
    """How a table's rows were split (same methods as the county time split)."""

    method: str
    rows: dict[str, int]
    detail: str

    def describe(self) -> str:
        return f"{self.method}: " + ", ".join(f"{k} {v}" for k, v in self.rows.items()) + f"\n{self.detail}"

    def as_params(self) -> dict[str, Any]:
        return {"split_method": self.method, **{f"split_{k}_rows": v for k, v in self.rows.items()}}


def read_table_file(path: str | Path) -> pd.DataFrame:
    """CSV (UTF-8, UTF-8 with BOM or GB18030), XLSX or Parquet."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".xlsx", ".xlsm"):
        return pd.read_excel(path)
    if suffix in (".csv", ".txt"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(path, encoding=encoding)
            except UnicodeDecodeError:
                continue
    raise ValueError(f"{path.name}: cannot read (expected CSV, XLSX or Parquet) / 无法读取")


def read_mapping(path: str | Path | None) -> dict[str, str]:
    """your_column -> contract column, from YAML or a two-column CSV."""
    if path is None:
        return {}
    path = Path(path)
    if path.suffix.lower() == ".csv":
        table = pd.read_csv(path, encoding="utf-8-sig")
        return dict(zip(table.iloc[:, 0].astype(str), table.iloc[:, 1].astype(str), strict=True))
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: a mapping must be 'your_column: contract_column' lines")
    return {str(k): str(v) for k, v in data.items()}


def identifying_columns(table: pd.DataFrame) -> list[str]:
    """Columns that hold or look like direct identifiers (never features, never logged)."""
    found = []
    contract_ids = sensitive_columns() | {"household_id", "member_id", "village"}
    for name in table.columns:
        col = table[name]
        if str(name) in contract_ids or ID_HEADER.search(str(name)):
            found.append(name)
            continue
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            text = col.dropna().astype(str).str.strip()
            if len(text) and (text.str.match(ID_NUMBER).mean() > 0.5 or text.str.match(PHONE).mean() > 0.5):
                found.append(name)
    return found


def binarise_target(col: pd.Series) -> tuple[np.ndarray, str]:
    """0/1 target and a sentence saying how it was made (see the module docstring)."""
    present = col.dropna()
    if present.empty:
        raise ValueError("the target column is empty / 目标列为空")
    words = yes_no(col)
    if words is not None:
        return words.to_numpy(), "yes/no words: 是/yes = 1"
    numbers = as_number(col)
    ranks: pd.Series | None = None
    if numbers is not None:
        ranks = pd.Series(np.asarray(numbers, dtype=float), index=col.index)
        labels = {v: str(v) for v in ranks.dropna().unique()}
    else:
        values = set(present.astype(str).str.strip())
        if len(values) == 2:
            counts = present.astype(str).str.strip().value_counts()
            positive = counts.index[-1]
            y = col.astype(object).map(lambda v: np.nan if pd.isna(v) else float(str(v).strip() == positive))
            return y.to_numpy(dtype=float), f"two classes: the rarer '{positive}' = 1"
        for order in ORDERED_WORDS:
            if values <= set(order):
                rank = {w: i for i, w in enumerate(order)}
                ranks = col.astype(object).map(lambda v, r=rank: np.nan if pd.isna(v) else r[str(v).strip()]).astype(float)
                labels = {float(i): w for w, i in rank.items()}
                break
        if ranks is None:
            raise ValueError(f"the target has {len(values)} unordered classes ({', '.join(sorted(values)[:6])}); "
                             "give a binary or ordinal target / 目标须为二分类或有序类别")
    classes = sorted(ranks.dropna().unique())
    if len(classes) < 2:
        raise ValueError("the target has a single class / 目标只有一个类别")
    if len(classes) == 2:
        return (ranks == classes[1]).astype(float).where(ranks.notna()).to_numpy(), \
            f"two classes: {labels[classes[1]]} = 1, {labels[classes[0]]} = 0"
    chosen: list[float] = []
    for c in reversed(classes[1:]):
        chosen.append(c)
        if ranks.isin(chosen).mean() >= MIN_POSITIVE_SHARE:
            break
    y = ranks.isin(chosen).astype(float).where(ranks.notna())
    return y.to_numpy(), (f"ordinal ({len(classes)} classes): top class(es) {', '.join(labels[c] for c in chosen)} = 1 "
                          f"vs the rest (classes added from the top until >= {MIN_POSITIVE_SHARE:.0%} positive)")


def _logistic(model: TableModel) -> Pipeline:
    builder = model.builder_
    numeric, categorical = list(builder.numeric_), list(builder.categories_)
    parts = []
    if numeric:
        parts.append(("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                                           StandardScaler()), numeric))
    if categorical:
        parts.append(("cat", make_pipeline(
            FunctionTransformer(lambda x: x.astype(object).where(x.notna(), "missing").astype(str)),
            OneHotEncoder(handle_unknown="ignore")), categorical))
    return Pipeline([("builder", builder), ("columns", ColumnTransformer(parts)),
                     ("logistic", LogisticRegression(max_iter=500))])


def _slices(test: pd.DataFrame, y: np.ndarray, scores: dict[str, np.ndarray], groups: np.ndarray,
            categories: dict[str, list[str]]) -> pd.DataFrame:
    """Slices over the table's own categories (2..12 values) and the contract's slice columns."""
    contract = {"township", "category", "elderly_only", "n_disabled", "n_chronic", "n_major_illness",
                "minority_township"}
    if contract <= set(test.columns):
        return ev.slice_table(test, y, scores, groups)
    rows = []
    listed = {n: {q: mt.top_share(s, groups, q) for q in mt.CAPACITIES} for n, s in scores.items()}
    for name, values in categories.items():
        if not 2 <= len(values) <= 12:
            continue
        for value in values:
            mask = (test[name].astype(str) == value).to_numpy()
            if not mask.any():
                continue
            ys = y[mask]
            row: dict[str, Any] = {"slice": name, "value": value, "rows": int(mask.sum()),
                                   "entrants": int(ys.sum()), "base_rate": float(ys.mean())}
            for n, s in scores.items():
                row[f"{n}_auc"] = mt.safe_auc(ys, s[mask])
                for q in mt.CAPACITIES:
                    row[f"{n}_recall_at_{mt.capacity_key(q)}"] = mt.recall_precision(ys, listed[n][q][mask])[0]
            rows.append(row)
    return pd.DataFrame(rows, columns=["slice", "value", "rows", "entrants", "base_rate", "model_recall_at_5pct"]
                        if not rows else None)


def fit_table(
    table: pd.DataFrame,
    *,
    target: str,
    config: dict[str, Any],
    id_column: str | None = None,
    time_column: str | None = None,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Detect columns, binarise the target, split, fit and evaluate (pure; no I/O)."""
    progress = reporter(log, progress)
    started = time.perf_counter()
    notes: list[str] = []
    table = table.rename(columns={k: v for k, v in (mapping or {}).items() if k in table.columns})
    target = (mapping or {}).get(target, target)
    id_column = (mapping or {}).get(id_column, id_column) if id_column else None
    time_column = (mapping or {}).get(time_column, time_column) if time_column else None
    for name in (target, id_column, time_column):
        if name and name not in table.columns:
            raise ValueError(f"no column {name!r} in the table / 表中没有列 {name}")
    y_all, how = binarise_target(table[target])
    keep = ~np.isnan(y_all)
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} rows without a target left out / 目标缺失的行已剔除")
    table, y_all = table.loc[keep].reset_index(drop=True), y_all[keep].astype(int)
    notes.append(f"target {target}: {how}")
    hidden = identifying_columns(table.drop(columns=[target]))
    if hidden:
        notes.append(f"identifying columns never used or logged: {len(hidden)} / 身份信息列不使用、不记录")
    exclude = tuple(dict.fromkeys([target, *(c for c in (id_column, time_column) if c), *hidden]))
    inputs = table.drop(columns=list(hidden))  # identifiers never travel further than this line

    seed = int(config["model"]["random_state"])
    index = np.arange(len(inputs))
    if time_column:
        when = pd.to_datetime(inputs[time_column], errors="coerce") if not pd.api.types.is_numeric_dtype(
            inputs[time_column]) else inputs[time_column]
        if when.isna().any():
            raise ValueError(f"time column {time_column!r} has values that are not dates or numbers")
        q60, q80 = when.quantile(0.6), when.quantile(0.8)
        train_i, calib_i, test_i = index[when < q60], index[(when >= q60) & (when < q80)], index[when >= q80]
        if min(len(train_i), len(calib_i), len(test_i)) == 0:
            raise ValueError("the time column has too few distinct periods for a train/calibrate/test split")
        split = TableSplit("time", {"train": len(train_i), "calibrate": len(calib_i), "test": len(test_i)},
                           f"train < {q60}, calibrate < {q80}, test >= {q80} ({time_column})")
        groups_all = when.astype(str).to_numpy()
    else:
        train_i, rest = train_test_split(index, test_size=0.4, stratify=y_all, random_state=seed)
        calib_i, test_i = train_test_split(rest, test_size=0.5, stratify=y_all[rest], random_state=seed)
        split = TableSplit("stratified", {"train": len(train_i), "calibrate": len(calib_i), "test": len(test_i)},
                           "stratified 60/20/20 split by the target, plus 5-fold stratified CV on train + calibrate")
        groups_all = np.zeros(len(inputs))
    X_train, X_calib, X_test = (inputs.iloc[i].reset_index(drop=True) for i in (train_i, calib_i, test_i))  # noqa: N806
    y_train, y_calib, y_test = y_all[train_i], y_all[calib_i], y_all[test_i]
    for name, y in (("train", y_train), ("calibrate", y_calib), ("test", y_test)):
        if y.sum() == 0 or y.sum() == len(y):
            raise ValueError(f"the {name} part has only one class: cannot train or evaluate")

    params = dict(config["model"]["lgbm"])
    params["min_child_samples"] = int(min(params.get("min_child_samples", 20), max(5, len(X_train) // 50)))
    model = TableModel(exclude=exclude, lgbm_params=params, calibration=config["model"]["calibration"],
                       random_state=seed, monotone={})
    progress("fitting", 0, 1)
    model.fit(X_train, y_train, X_calib, y_calib)
    progress("fitting", 1, 1)
    cv: dict[str, float] = {}
    if not time_column:
        pool_X = pd.concat([X_train, X_calib], ignore_index=True)  # noqa: N806
        pool_y = np.concatenate([y_train, y_calib])
        aucs = []
        for fold_train, fold_valid in StratifiedKFold(5, shuffle=True, random_state=seed).split(pool_X, pool_y):
            fold = TableModel(exclude=exclude, lgbm_params=params, random_state=seed, monotone={})
            fold.fit(pool_X.iloc[fold_train], pool_y[fold_train])
            aucs.append(roc_auc_score(pool_y[fold_valid], fold.raw_score(pool_X.iloc[fold_valid])))
        cv = {"cv_auc_mean": float(np.mean(aucs)), "cv_auc_std": float(np.std(aucs))}
    logistic = _logistic(model).fit(X_train, y_train)

    groups = groups_all[test_i]
    scores = {"model": model.predict_proba(X_test)[:, 1], "logistic": logistic.predict_proba(X_test)[:, 1]}
    if set(FRAME_COLUMNS) <= set(X_test.columns):
        try:
            from features.policy import load_policy
            from training.baselines import rules_score

            scores["rules"] = rules_score(X_test, load_policy())
        except (KeyError, TypeError, ValueError) as error:
            notes.append(f"rules baseline not available: {error}")
    else:
        notes.append("rules baseline not available: the contract fields it needs are absent / 缺少规则所需字段")
    scorers = {n: ev.score_metrics(y_test, s, groups, probability=n != "rules") for n, s in scores.items()}
    scorers["model_calibration_part"] = ev.score_metrics(y_calib, model.predict_proba(X_calib)[:, 1],
                                                         groups_all[calib_i], probability=True)
    test_frame = X_test.assign(label=y_test)
    slices = _slices(test_frame, y_test, scores, groups, model.builder_.categories_)

    from training.train import importance_table

    importance = importance_table(model, X_test.head(int(config["shap_rows"])))
    used = list(model.builder_.numeric_) + list(model.builder_.categories_)
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(X_train), size=min(int(config["reference_rows"]), len(X_train)), replace=False))
    reference = X_train.iloc[take][used].reset_index(drop=True)
    reference["prediction"] = model.predict_proba(reference)[:, 1]
    m, lg = scorers["model"], scorers["logistic"]
    r = scorers.get("rules", {})
    metrics = {
        **{k: m[k] for k in ("auc", "pr_auc", "brier", "ece", "ece_relative", "recall_at_5pct", "precision_at_5pct",
                             "recall_at_10pct", "precision_at_10pct", "observed_expected", "top5_observed_expected",
                             "top10_observed_expected")},
        "rules_auc": r.get("auc"), "rules_recall_at_5pct": r.get("recall_at_5pct"),
        "logistic_auc": lg["auc"], "logistic_pr_auc": lg["pr_auc"], "logistic_brier": lg["brier"],
        "logistic_ece": lg["ece"], "logistic_recall_at_5pct": lg["recall_at_5pct"],
        "test_base_rate": m["base_rate"], "test_entrants": m["entrants"], "oracle_auc": None, "headroom_share": None,
        "median_lead_weeks": None, "share_lead_12w": None, **cv,
    }
    for name, reason in model.builder_.dropped_.items():
        notes.append(f"column {name} not used: {reason}" if name not in hidden else "")
    counts = {"train_rows": len(X_train), "calibrate_rows": len(X_calib), "test_rows": len(X_test),
              "test_positives": int(y_test.sum()), "features": len(used)}
    value = feature_value(model, X_calib, y_calib, seed=seed, **value_settings(config))
    return TrainingResult(
        model=model, config=config, split=split, metrics=metrics, scorers=scorers, slices=slices, lead={},
        oracle={}, tuning=[], importance=importance, reference=reference, test_frame=test_frame,
        test_scores=scores, best_params=params, counts=counts,
        seconds={"total": time.perf_counter() - started}, notes=[n for n in notes if n],
        input_columns=used, target_description=f"{target}: {how}", feature_value=value,
    )


def train_table(
    path: str | Path,
    *,
    target: str,
    model_name: str,
    config: dict[str, Any],
    experiment: str = "fanpin-tables",
    id_column: str | None = None,
    time_column: str | None = None,
    mapping_path: str | Path | None = None,
    user: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Read a table, train and evaluate, log the MLflow run and register under ``model_name``."""
    import hashlib

    from features.policy import load_policy
    from training import tracking

    started = time.perf_counter()
    path = Path(path)
    table = read_table_file(path)
    mapping = read_mapping(mapping_path)
    result = fit_table(table, target=target, config=config, id_column=id_column, time_column=time_column,
                       mapping=mapping, progress=progress)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    logged = tracking.log_training(
        result, experiment=experiment, model_name=model_name, policy=load_policy(), data_fingerprint=digest,
        data_source=path.name, user=user, started=started,
        extra_tags={"source": "table", "target": result.target_description[:250]},
    )
    m = result.metrics
    return {
        "run_id": logged["run_id"], "model_name": model_name, "model_version": logged["version"],
        "alias": logged["alias"], "alias_reason": logged["reason"], "target": result.target_description,
        "split": result.split.method, "features": len(result.input_columns),
        "auc": m["auc"], "pr_auc": m["pr_auc"], "brier": m["brier"], "ece": m["ece"],
        "recall_at_5pct": m["recall_at_5pct"], "recall_at_10pct": m["recall_at_10pct"],
        "rules_auc": m["rules_auc"], "rules_recall_at_5pct": m["rules_recall_at_5pct"],
        "logistic_auc": m["logistic_auc"], "cv_auc_mean": m.get("cv_auc_mean"),
        "oracle_auc": None, "headroom_share": None, "median_lead_weeks": None, "share_lead_12w": None,
        "train_rows": result.counts["train_rows"], "test_rows": result.counts["test_rows"],
        "notes": result.notes, "seconds": round(time.perf_counter() - started, 1),
        **feature_value_json(result.feature_value),
    }
