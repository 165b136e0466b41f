"""Weeks, watch lists, their Excel export and drift results."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from serving.access import auth
from serving.api.deps import SessionDep, WeekPath, published_week, require
from serving.api.schemas import NAME_PATTERN, DriftOut, Message, WatchlistPage, WeekOut
from serving.documents.workbook import watchlist_workbook
from serving.store import queries
from serving.store.filters import Filters

router = APIRouter(tags=["weeks"])

TOWNSHIP_NOT_FOUND = "township not found / 未找到该乡镇"


class Level(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class Flag(StrEnum):
    new = "new"
    rising = "rising"
    rule_triggered = "rule_triggered"


class Sort(StrEnum):
    rank = "rank"
    probability = "probability"
    change = "change"
    township = "township"
    village = "village"
    household_id = "household_id"
    township_rank = "township_rank"


def _scoped_township(who: auth.Principal, township: str | None) -> str | None:
    scope = auth.township_scope(who)
    if scope is None:
        return township
    if township not in (None, scope):
        # Same answer as a township that does not exist: no leak about other townships.
        raise HTTPException(status.HTTP_404_NOT_FOUND, TOWNSHIP_NOT_FOUND)
    return scope


def watchlist_filters(
    township: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN, description="乡镇")] = None,
    village: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN, description="行政村")] = None,
    level: Annotated[Level | None, Query(description="风险等级")] = None,
    flag: Annotated[list[Flag] | None, Query(description="标记 (repeatable): new, rising, rule_triggered")] = None,
    sort: Annotated[Sort, Query()] = Sort.rank,
    descending: Annotated[bool, Query()] = False,
) -> Filters:
    """Watch-list filters shared by the list and its export (the pages' ``Filters``, validated)."""
    return Filters(township=township, village=village, level=level.value if level else None,
                           flags=[f.value for f in flag or []], sort=sort.value, descending=descending)


@router.get("/weeks", response_model=list[WeekOut])
def list_weeks(session: SessionDep, who: Annotated[auth.Principal, Depends(require("weeks:read"))]):
    """已发布的周 / published weeks, newest first."""
    return queries.weeks(session)


@router.get("/weeks/{week}/watchlist", response_model=WatchlistPage,
            responses={404: {"model": Message}, 422: {"model": Message}})
def watchlist(
    week: WeekPath,
    session: SessionDep,
    who: Annotated[auth.Principal, Depends(require("watchlist:read"))],
    filters: Annotated[Filters, Depends(watchlist_filters)],
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    """本周监测名单 / the week's watch list (filters, paging, sorting)."""
    _, run_id = published_week(session, week)
    township = _scoped_township(who, filters.township)
    total, rows = queries.watchlist(
        session, run_id, township=township, village=filters.village, level=filters.level, flags=filters.flags,
        sort=filters.sort, descending=filters.descending, offset=offset, limit=limit,
        with_identity=who.sees_identifiers,
    )
    page = WatchlistPage.model_validate({
        "week": week, "total": total, "offset": offset, "limit": limit,
        "counts": queries.week_counts(session, run_id, township),
        "items": [auth.mask_record(r, who) for r in rows],
    })
    # Validated once here; returning the model would make FastAPI validate it again before encoding.
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/weeks/{week}/export.xlsx", responses={
    200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
    404: {"model": Message}, 422: {"model": Message}})
def export_xlsx(
    week: WeekPath,
    session: SessionDep,
    who: Annotated[auth.Principal, Depends(require("export:write"))],
    filters: Annotated[Filters, Depends(watchlist_filters)],
):
    """导出Excel / the filtered watch list as an Excel file (Chinese headers)."""
    _, run_id = published_week(session, week)
    township = _scoped_township(who, filters.township)
    _, rows = queries.watchlist(
        session, run_id, township=township, village=filters.village, level=filters.level, flags=filters.flags,
        sort=filters.sort, descending=filters.descending, limit=None, with_identity=who.sees_identifiers,
    )
    masked = [auth.mask_record(r, who) for r in rows]
    content = watchlist_workbook(masked, week, identifiers=who.sees_identifiers)
    auth.audit(session, who, "export.xlsx", target=week,
               detail={"rows": len(rows), "township": township, "village": filters.village,
                       "level": filters.level, "flags": filters.flags})
    session.commit()
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="watchlist-{week}.xlsx"'},
    )


@router.get("/weeks/{week}/drift", response_model=DriftOut,
            responses={404: {"model": Message}, 422: {"model": Message}})
def drift(week: WeekPath, session: SessionDep, who: Annotated[auth.Principal, Depends(require("drift:read"))]):
    """数据漂移 / the week's drift check and alerts."""
    _, run_id = published_week(session, week)
    return DriftOut(week=week, **queries.drift(session, run_id))
