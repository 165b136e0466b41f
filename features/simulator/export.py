"""Writing a simulated county folder (the simulator's only I/O).

DIR/history/<table>.parquet   full registry history (English codes)
DIR/exports/YYYY-Www/<table>.csv   the last 12 weekly exports (Chinese headers and values)
DIR/truth/oracle.parquet, simulation.json, latent.parquet, hardship.parquet   what only the simulator knows
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.contract import TABLES
from features.simulator import scenarios as SC
from features.simulator.calendar import from_day
from features.simulator.views import ordered, to_chinese, week_view

EXPORT_WEEKS = 12


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet written the same way every time (byte-identical for identical frames)."""
    # The pandas metadata stays: it restores nullable dtypes (boolean, Int64) on reading.
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="zstd", write_statistics=False)


def weekly_views(run, n_weeks: int = EXPORT_WEEKS) -> dict[str, dict[str, pd.DataFrame]]:
    """The registry's exports of the last ``n_weeks`` simulated weeks (English codes)."""
    views = {}
    for week in run.weeks[-n_weeks:]:
        views[week.label] = week_view(run.tables, pd.Timestamp(from_day(week.monday)))
    return views


def write_export(view: dict[str, pd.DataFrame], folder: Path) -> None:
    """One week's export (``week_view``) as the county system writes it: a CSV per table."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        zh = to_chinese(name, ordered(name, view[name]))
        zh.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")


def write_earlier_exports(county: Path, labels: list[str], out: Path) -> list[Path]:
    """The exports the registry would have sent in earlier weeks (``YYYY-Www`` labels), rebuilt
    from the county's full history (every row carries when it was recorded, so nothing recorded
    after a week's Sunday shows): for a demo or a test that publishes weeks a year back, whose
    outcomes have matured. Written to ``out/<label>/`` (a county folder keeps only its last
    ``EXPORT_WEEKS``)."""
    from features.weeks import week_monday

    tables = {name: pd.read_parquet(Path(county) / "history" / f"{name}.parquet") for name in TABLES}
    written = []
    for label in labels:
        folder = Path(out) / label
        write_export(week_view(tables, pd.Timestamp(week_monday(label))), folder)
        written.append(folder)
    return written


def new_township_tables(run, rng) -> dict[str, pd.DataFrame]:
    """Households of a township that never appeared in the history (new-township scenario)."""
    from features.simulator.layout import SPARE_TOWNSHIPS
    from features.simulator.snapshot import snapshot_county

    last = run.weeks[-1]
    n = max(60, run.parameters["households"] // max(run.county.n_townships, 1))
    t = snapshot_county(n, rng, from_day(last.monday), township_names=[SPARE_TOWNSHIPS[0]],
                        minority=False, township_offset=run.county.n_townships)
    for name in ("households", "members"):
        t[name]["valid_to"] = pd.NaT
    return t


def write_county(run, out: Path, summary: dict, scenario: str = "baseline",
                 scenario_week: str | None = None) -> dict:
    """Write history, exports and truth of a simulated county; returns the scenario record."""
    from features.simulator.county import streams

    out = Path(out)
    for sub in ("history", "exports", "truth"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        write_parquet(ordered(name, run.tables[name]), out / "history" / f"{name}.parquet")

    rng = streams(run.parameters["seed"])["scenario"]
    views = weekly_views(run)
    scn = SC.plan(scenario, run.county.township_names, sorted(views), scenario_week, rng)
    extra = new_township_tables(run, rng) if scenario == "new-township" else None
    views = SC.apply(scn, views, rng, extra)
    for label, view in sorted(views.items()):
        write_export(view, out / "exports" / label)

    write_parquet(run.oracle.sort_values(["cutoff", "household_id"], kind="stable")[
        ["household_id", "cutoff", "true_risk", "entered_within_52_weeks"]].reset_index(drop=True),
        out / "truth" / "oracle.parquet")
    write_parquet(run.latent, out / "truth" / "latent.parquet")
    if run.hardship is not None:
        write_parquet(run.hardship, out / "truth" / "hardship.parquet")
    record = {
        "parameters": run.parameters,
        "scenario": scn.as_dict(),
        "export_weeks": sorted(views),
        "history_end": str(from_day(run.weeks[-1].sunday)),
        "history_start": str(from_day(run.weeks[0].monday) + timedelta(days=0)),
        "summary": summary,
    }
    (out / "truth" / "simulation.json").write_text(
        json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True, default=str), encoding="utf-8")
    return scn.as_dict()
