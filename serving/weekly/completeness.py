"""Completeness before publish: a week that shrank, grew or lost a required table is refused.

A households file cut in half was published (two townships vanished from the list, exit 0), and a
file with only its header published last week's data under this week's label. Before anything is
appended to the history, the export's counts are compared with the last published week's:
households, members (valid rows) and townships present must stay within the configured ratios
(``Settings.completeness_min_ratio`` / ``completeness_max_ratio``), and the required tables must
not be empty. Otherwise the run stops with one line naming the file and the counts, and nothing is
published. An operator who knows the change is real (a township merged away) accepts it with a
reason (``fanpin weekly --accept-incomplete "..."``); the acceptance is written to the audit log.

The county's ratio alone let a township lose 96% of its households (470 -> 21 in a file at 85% of
last week's rows), and a "township present" check let 21 households be relabelled into another
township (whose leader then saw their names and phones). So each township's valid households are
compared with its own count last published week, within the same ratios; a small township may
also move by ``SMALL_TOWNSHIP_SLACK`` households either way (a handful of households in a township
of 20 is not a cut file). Households whose township changed since the last published week are
counted and capped (``Settings.completeness_max_moved``): a real boundary change is accepted
with ``--accept-incomplete``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from features.reading import REQUIRED_TABLES
from features.weeks import Week


class IncompleteWeek(RuntimeError):
    """The export is outside the completeness bounds; one line naming the file and the counts."""


@dataclass(frozen=True)
class Bounds:
    min_ratio: float = 0.8
    max_ratio: float = 1.25
    max_moved: int = 10  # households whose township changed since the last published week


# A township may always move by this many households either way (the ratios alone would refuse a
# township of 10 that lost 3).
SMALL_TOWNSHIP_SLACK = 5


def export_counts(read) -> dict[str, Any]:
    """What completeness compares: valid households and members, and the townships present."""
    households = read.tables["households"]
    current = households.loc[households["valid_to"].isna()]  # every contract table has valid_to
    by_township = current.dropna(subset=["township"]).groupby(current["township"].astype(str))["household_id"]
    return {
        "households": int(read.counts["households"]["rows_valid"]),
        "members": int(read.counts["members"]["rows_valid"]),
        "townships": sorted(str(t) for t in current["township"].dropna().unique()),
        "by_township": {str(t): int(n) for t, n in by_township.nunique().items()},
    }


def _current_townships(read) -> dict[str, str]:
    households = read.tables["households"]
    current = households.loc[households["valid_to"].isna()] if "valid_to" in households else households
    current = current.dropna(subset=["township"])
    return dict(zip(current["household_id"].astype(str), current["township"].astype(str), strict=True))


def township_problems(read, previous: dict[str, Any], bounds: Bounds, against: str) -> list[str]:
    """Each township's households against its own last published count, and the households whose
    township changed (counted and capped), one line each."""
    file = read.files.get("households") or "households"
    now = export_counts(read)["by_township"]
    out = []
    for township, before in sorted((previous.get("by_township") or {}).items()):
        count = now.get(township, 0)
        inside = bounds.min_ratio <= count / before <= bounds.max_ratio if before else True
        if not inside and abs(count - before) > SMALL_TOWNSHIP_SLACK:
            out.append(f"{file}: {township} {count:,} households ({against}: {before:,}, {(count - before) / before:+.0%}), "
                       f"outside {bounds.min_ratio - 1:+.0%}..{bounds.max_ratio - 1:+.0%}")
    was = previous.get("household_townships") or {}
    moved: dict[tuple[str, str], int] = {}
    for household, township in _current_townships(read).items():
        old = was.get(household)
        if old is not None and old != township:
            moved[(old, township)] = moved.get((old, township), 0) + 1
    total = sum(moved.values())
    if total > bounds.max_moved:
        pairs = ", ".join(f"{a} -> {b}: {n}" for (a, b), n in sorted(moved.items(), key=lambda x: -x[1])[:5])
        out.append(f"{file}: {total:,} households changed township since {against.removeprefix('last published ')} "
                   f"({pairs}), over the limit of {bounds.max_moved}")
    return out


def problems(read, previous: dict[str, Any] | None, bounds: Bounds, previous_week: Week | None = None) -> list[str]:
    """Every way the export fails the bounds (empty: complete)."""
    now = export_counts(read)
    out = []
    for table in REQUIRED_TABLES:
        if now[table] == 0:
            out.append(f"{read.files.get(table) or table}: no valid {table} rows (the file is empty or every row "
                       f"was quarantined) / 必需表为空")
    if previous is None or out:
        return out
    against = f"last published {previous_week}" if previous_week else "last published week"
    for table in REQUIRED_TABLES:
        before = int(previous.get(table) or 0)
        if before and not bounds.min_ratio <= now[table] / before <= bounds.max_ratio:
            change = (now[table] - before) / before
            out.append(f"{read.files.get(table) or table}: {now[table]:,} {table} ({against}: {before:,}, "
                       f"{change:+.0%}), outside {bounds.min_ratio - 1:+.0%}..{bounds.max_ratio - 1:+.0%}")
    before_t = set(previous.get("townships") or [])
    missing = sorted(before_t - set(now["townships"]))
    if before_t and missing:
        out.append(f"{read.files.get('households') or 'households'}: {len(now['townships'])} townships "
                   f"({against}: {len(before_t)}), missing {', '.join(missing)}")
    return out + township_problems(read, previous, bounds, against)


def check(read, previous: dict[str, Any] | None, bounds: Bounds, *, previous_week: Week | None = None,
          accept_reason: str | None = None) -> list[str]:
    """Raise ``IncompleteWeek`` unless the export is complete or accepted; returns what was accepted."""
    found = problems(read, previous, bounds, previous_week)
    if found and not (accept_reason and accept_reason.strip()):
        raise IncompleteWeek("; ".join(found) + "; nothing published. Check the export, or accept it with "
                             "--accept-incomplete REASON / 本周数据不完整，未发布")
    return found


def previous_counts(engine, found: tuple[Week, int] | None) -> tuple[Week | None, dict[str, Any] | None]:
    """(week, completeness counts) of the previous published week (``found``: label, run id)."""
    from sqlalchemy import select

    from serving.store import models as m

    if found is None:
        return None, None
    with engine.connect() as conn:
        counts = conn.execute(select(m.Run.counts).where(m.Run.id == found[1])).scalar_one_or_none() or {}
    if "completeness" in counts:
        return found[0], {**counts["completeness"], "household_townships": _scored_townships(engine, found[1])}
    read = counts.get("read") or {}  # runs published before completeness was recorded
    if not read:
        return found[0], None
    return found[0], {t: (read.get(t) or {}).get("rows_valid") for t in REQUIRED_TABLES}


def _scored_townships(engine, run_id: int) -> dict[str, str]:
    """household -> township as the run published them (to count households relabelled since)."""
    from sqlalchemy import select

    from serving.store import models as m

    with engine.connect() as conn:
        return dict(conn.execute(select(m.Score.household_id, m.Score.township).where(m.Score.run_id == run_id)).all())


def audit_acceptance(engine, week: Week, run_id: int, operator: str, reason: str, accepted: list[str]) -> None:
    """Write the operator's acceptance of an incomplete week to the audit log."""
    from serving.store import models as m
    from serving.store.publishing import utcnow

    with engine.begin() as conn:
        conn.execute(m.AuditEntry.__table__.insert().values(
            at=utcnow(), username=operator[:64], role="operator", action="weekly.accept_incomplete",
            target=week, detail={"run_id": run_id, "reason": reason, "problems": accepted},
        ))


def reconcile(read, scored_ids) -> dict[str, int]:
    """The week's household accounting: every household row read is scored, quarantined, held or
    not scored for a stated reason, and nothing is scored that the export does not list.

    Returns:
        in, scored, quarantined, held, not_scored (rows that left the registry or start after the
        cutoff), stale (scored households missing from the export: must be 0).

    Raises:
        IncompleteWeek: the counts do not reconcile, or stale households would be published.
    """
    import numpy as np

    counts = read.counts["households"]
    households = read.tables["households"]
    held_positions = read.held.get("households", np.array([], dtype=int))
    usable = households.drop(index=households.index[held_positions]) if len(held_positions) else households
    scored_set = set(scored_ids)
    listed = usable["household_id"].isin(scored_set)
    out = {
        "in": int(counts["rows_in"]),
        "scored": int(listed.sum()),
        "quarantined": int(counts["rows_quarantined"]),
        "held": int(len(held_positions)),
        "not_scored": int((~listed).sum()),
        "stale": len(scored_set - set(households["household_id"])),
    }
    file = read.files.get("households") or "households"
    if out["in"] != out["scored"] + out["quarantined"] + out["held"] + out["not_scored"]:
        raise IncompleteWeek(f"{file}: counts do not reconcile ({out}); nothing published / 计数不一致，未发布")
    if out["stale"]:
        raise IncompleteWeek(f"{file}: {out['stale']} households would be scored from earlier weeks' data but are "
                             f"not in this export; nothing published / 有农户不在本周导出中，未发布")
    return out
