"""`fanpin feedback export`: officers' visit outcomes as labels for retraining."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from features.vocabulary import FOLLOW_UP_LABEL
from serving.output import emit

app = typer.Typer(help="走访反馈 / visit feedback", no_args_is_help=True)

# Outcome -> label for retraining (None: says nothing about risk).
LABELS = FOLLOW_UP_LABEL


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="CSV 或 Parquet 文件 / .csv or .parquet")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """导出反馈与案件结论作为标签 / export feedback and case decisions (with a label column) for retraining."""
    import pandas as pd

    from serving.cases.service import LABELS as CASE_LABELS
    from serving.cases.service import label_rows
    from serving.documents.formulas import write_csv
    from serving.settings import get_settings
    from serving.store.database import get_engine, session_factory, upgrade
    from serving.store.queries import all_feedback
    from serving.weekly.audit import audit_households, mark_audit

    engine = get_engine(get_settings())
    upgrade(engine)
    with session_factory(engine)() as session:
        # County decisions on cases are confirmed outcomes too: they join the visits' labels.
        rows = all_feedback(session) + label_rows(session)
    frame = pd.DataFrame(rows, columns=["household_id", "township", "week", "outcome", "risk_types", "note",
                                        "username", "created_at", "source"])
    own_source = frame.pop("source")  # case rows say "case", or "appeal" when an appeal overturned it
    labels = {**LABELS, **{f"case_{k}": v for k, v in CASE_LABELS.items()}}
    frame["label"] = frame["outcome"].map(labels).astype("Int64")
    # Home checks of the quarterly random audit are marked: weighted by their sampling
    # probability they estimate hardship nobody reported (training's audit option reads them).
    with session_factory(engine)() as session:
        frame = mark_audit(frame, audit_households(session))
    frame["source"] = own_source.where(own_source.notna(), frame["source"])
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        write_csv(frame, out)  # notes are free text: defused against formula injection
    emit({"path": str(out), "rows": len(frame), "labelled": int(frame["label"].notna().sum()),
          "audit": int((frame["source"] == "audit").sum()),
          "appeal": int((frame["source"] == "appeal").sum())}, as_json,
         summary=f"{len(frame)} 条反馈已导出 / exported to {out}")
