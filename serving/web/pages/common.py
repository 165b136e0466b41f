"""Helpers shared by the page routers: the week a page shows, the caller's township scope."""

from __future__ import annotations

import re
from types import SimpleNamespace

from features.weeks import WEEK_LABEL, Week
from serving.access import auth
from serving.store import queries as store
from serving.web.deps import PageError, WebUser
from serving.web.i18n import gettext

WEEK_PATTERN = re.compile(WEEK_LABEL)


def scope_of(user: WebUser) -> str | None:
    """The township a user is limited to (None: the whole county)."""
    return auth.township_scope(user.principal)


def choose_week(db, week: str | None, language: str):
    """(week names newest first, the chosen published week) — the newest when none is asked for.

    The week is a namespace with ``id`` (its published run), ``week`` and the run's counts.
    """
    published = store.weeks(db)
    if week and not WEEK_PATTERN.match(week):
        raise PageError(400, "week", gettext(language, "The week must look like 2024-W10."))
    names = [w["week"] for w in published]
    if not published:
        return names, None
    try:
        asked = Week.parse(week) if week else Week(names[0])  # parsed once, at the page's edge
    except ValueError:  # a week its year does not have (2021-W53): not published, not a server error
        asked = None
    chosen = next((w for w in published if w["week"] == asked), None)
    if chosen is None:
        raise PageError(404, "week", gettext(language, "No results have been published for this week."))
    return names, SimpleNamespace(id=chosen["run_id"], **{**chosen, "week": asked})


def not_found_household(language: str) -> PageError:
    """The same answer for an unknown household and one outside the caller's township (no leak)."""
    return PageError(404, "household", gettext(language, "There is no such household in your area for this week."))
