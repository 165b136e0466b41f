"""The data page's evidence from the field: the challenger's shadow weeks beside the champion
(researchers and admins) and the officers' verdict on recent lists (every role, in its scope)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from serving.jobs.shadow import comparison
from serving.store.verdicts import officers_verdict

SHADOW_WEEKS_SHOWN = 13


def challenger_block(db: Session) -> dict[str, Any]:
    """The newest shadow weeks (newest first) and the summary over all of them."""
    found = comparison(db)
    return {"weeks": found["weeks"][::-1][:SHADOW_WEEKS_SHOWN], "summary": found["summary"]}


def verdict_block(db: Session, township: str | None) -> dict[str, Any]:
    """Per group: the pooled verdict over the recent weeks, the weeks' rows (newest first) at the
    county's level (or the township's, for a township leader), and, for the county's roles, each
    township's rows."""
    table = officers_verdict(db, township=township)
    level = table.loc[table["township"].isna()] if township is None else table.loc[table["township"] == township]
    rows = level.loc[level["week"].notna()].sort_values(["week", "group"], ascending=[False, True])
    pooled = table.loc[table["week"].isna() & table["township"].isna()] if township is None else \
        level.loc[level["week"].isna()]
    towns = table.loc[table["township"].notna() & table["week"].notna()] if township is None else level.iloc[0:0]
    towns = towns.sort_values(["week", "township", "group"], ascending=[False, True, True])
    return {"weeks": rows.to_dict(orient="records"), "pooled": pooled.to_dict(orient="records"),
            "townships": towns.to_dict(orient="records"), "township": township}
