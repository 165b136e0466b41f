"""The weekly watch list: counts, filters, sorting, paging, and the Excel export of the filter."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from serving.cases.service import household_stages
from serving.core.new_work import WHY, WORK
from serving.store import queries as store
from serving.store.followup import week_work, work_summary
from serving.web import identity, labels, queries
from serving.web.deps import Lang, SignedIn, State
from serving.web.pages.common import choose_week, scope_of
from serving.web.templating import change_cell, render

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


def read_filters(
    user: SignedIn,
    township: str | None = None,
    village: str | None = None,
    level: str | None = None,
    flag: Annotated[list[str] | None, Query()] = None,
    status: str | None = None,
    work: str | None = None,
    sort: str | None = None,
    dir: str | None = None,
) -> queries.Filters:
    """Filters from the query string (one dependency for the page and its export, so the Excel
    file holds exactly what the page shows); a township leader's township is fixed to their own."""
    scope = scope_of(user)
    return queries.Filters(
        township=scope or (township or None),
        village=village or None,
        level=level if level in ("high", "medium", "low") else None,
        flags=[f for f in (flag or []) if f in queries.FLAGS],
        status=status or None,
        work=work if work in queries.WORK_FILTERS else None,
        sort=sort if sort in queries.SORTS else "rank",
        descending=dir == "desc",
    )


Filtered = Annotated[queries.Filters, Depends(read_filters)]


def rows_for_display(state, db, run, user, scored) -> list[dict]:
    """Watch-list rows with the household's identity masked for the user's role."""
    ids = [s.household_id for s, _ in scored]
    # The rows name the registry version they show: decoded versions come from the store's LRU.
    raw = store.identities_of(db, [(s.household_id, s.registry_run) for s, _ in scored])
    cases = household_stages(db, ids, dt.date.today())  # each listed household's open case, if any
    work = week_work(db, run.id, None)
    rows = []
    for s, outcome in scored:
        case = cases.get(s.household_id)
        rows.append(Fields({"score": s, "outcome": outcome or "none",
                            "identity": Fields(identity.mask(user, raw.get(s.household_id))),
                            "case": Fields(case) if case is not None else None, "work": work.get(s.household_id)}))
    return rows


class Fields(dict):
    """A dict whose keys the template reads as attributes (``row.score``): Jinja tries the
    attribute first, and a dict's AttributeError on every cell of 50 rows was a tenth of the
    page. A missing key still reads as undefined."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def pair(table: dict[str, tuple[str, str]], code: str | None, language: str) -> str:
    """A (zh, en) label of a code in the page's language (the code itself when unknown)."""
    zh, en = table.get(str(code), (str(code), str(code)))
    return zh if language == "zh_CN" else en


# (flag, Score attribute, CSS class) in display order
FLAG_COLUMNS = (("new", "flag_new", "new"), ("rising", "flag_rising", "rising"), ("rule_triggered", "flag_rule", "rule"))


def with_labels(rows: list[dict], language: str) -> list[dict]:
    """Each row's words in the page's language, worked out here once: as ~12 template calls a row
    (labels, macros) they were most of the list page's rendering time."""
    zh = language == "zh_CN"
    for row in rows:
        s = row["score"]
        row["level_label"] = labels.label(labels.LEVELS, s.level, language)
        row["reason"] = (s.top_reason_zh if zh else s.top_reason_en) or s.top_reason_zh or ""
        row["flags"] = [(css, labels.label(labels.FLAGS, flag, language))
                        for flag, column, css in FLAG_COLUMNS if getattr(s, column)]
        row["criteria"] = labels.criteria_labels(s.criteria_met, language)
        row["outcome_label"] = labels.label(labels.OUTCOMES, row["outcome"], language)
        row["change"] = change_cell(s.change)
        work, why = row.get("work") or (None, None)
        row["work_label"] = (work, pair(WORK, work, language), pair(WHY, why, language)) if work else None
    return rows


@router.get("/watchlist")
def watchlist_page(request: Request, user: SignedIn, state: State, lang: Lang, filters: Filtered, week: str | None = None,
                   page: int = 1) -> Response:
    with state.sessions() as db:
        weeks, run = choose_week(db, week, lang)
        if run is None:
            return render(request, "watchlist.html", {"weeks": [], "run": None})
        scope = scope_of(user)
        scored, total = queries.watchlist(db, run, scope, filters, page=page, per_page=PER_PAGE)
        context = {
            "weeks": weeks,
            "run": run,
            "week": run.week,
            "counts": queries.counts(db, run, scope),
            "work": work_summary(db, run.id, scope),
            "work_labels": {k: pair(WORK, k, lang) for k in WORK},
            "held_labels": {k: pair(WHY, k, lang) for k in WHY},
            "filters": filters,
            "base_query": {"week": run.week, **filters.as_query()},
            "townships": [scope] if scope else store.townships(db, run.id),
            # Cached per published run: a DISTINCT over every score was a third of the page.
            "villages": store.villages(db, run.id, filters.township),
            "rows": with_labels(rows_for_display(state, db, run, user, scored), lang),
            "total": total,
            "page": max(page, 1),
            "pages": max(1, math.ceil(total / PER_PAGE)),
            "per_page": PER_PAGE,
            "scope": scope,
        }
    return render(request, "watchlist.html", context)


@router.get("/watchlist/export.xlsx")
def watchlist_export(request: Request, user: SignedIn, state: State, lang: Lang, filters: Filtered, week: str | None = None) -> Response:
    from serving.web.workbook import page_rows_sheet

    with state.sessions() as db:
        _, run = choose_week(db, week, lang)
        if run is None:
            return Response(status_code=404)
        scored, total = queries.watchlist(db, run, scope_of(user), filters, per_page=0)
        rows = rows_for_display(state, db, run, user, scored)
    identity.audit(state, user, "export.xlsx", run.week, {"rows": total, "via": "web", **filters.as_query()})
    content = page_rows_sheet(rows, run.week, lang)
    name = f"fanpin-watchlist-{run.week}.xlsx"
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
