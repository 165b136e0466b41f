"""The townships' weekly visit capacities: an admin sets them here, with their history.

The weekly job reads the latest value per township (``serving.store.followup.with_stored_capacities``)
over ``serving/watchlist.yaml``; each change is a row, so the history is kept and audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from serving.core.watchlist import load_watchlist_config
from serving.store import queries as store
from serving.store.followup import capacities, capacity_history, set_capacity
from serving.web import identity
from serving.web.deps import CheckedForm, Lang, PageError, SignedIn, State
from serving.web.i18n import gettext
from serving.web.pages.common import choose_week
from serving.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_CAPACITY = 10_000


def _allowed(user, lang: str) -> None:
    if not identity.allowed(user, "capacity:manage"):
        raise PageError(403, "capacities", gettext(lang, "Only an administrator can set the capacities."))


@router.get("/capacities")
def capacities_page(request: Request, user: SignedIn, state: State, lang: Lang, saved: int = 0) -> Response:
    _allowed(user, lang)
    config = load_watchlist_config(state.settings.watchlist_path)
    with state.sessions() as db:
        _, run = choose_week(db, None, lang)
        names = store.townships(db, run.id) if run is not None else []
        stored = capacities(db.get_bind())
        history = capacity_history(db)
    rows = [{"township": t, "capacity": stored.get(t, config.capacity(t)), "set": t in stored}
            for t in sorted(set(names) | set(stored))]
    return render(request, "capacities.html", {"rows": rows, "history": history, "default": config.default_capacity,
                                               "saved": bool(saved)})


@router.post("/capacities")
def capacities_save(request: Request, user: SignedIn, state: State, lang: Lang, form: CheckedForm) -> Response:
    _allowed(user, lang)
    township = str(form.get("township", "")).strip()
    note = str(form.get("note", "")).strip()[:500]
    try:
        capacity = int(str(form.get("capacity", "")))
    except ValueError:
        capacity = -1
    if not 0 <= capacity <= MAX_CAPACITY:
        raise PageError(400, "capacities", gettext(lang, "The capacity must be a whole number from 0 to 10000."))
    with state.sessions() as db:
        _, run = choose_week(db, None, lang)
        names = set(store.townships(db, run.id)) if run is not None else set()
        if township not in names | set(capacities(db.get_bind())):
            raise PageError(404, "township", gettext(lang, "There is no such township this week."))
        set_capacity(db, user.username, township, capacity, note)
        db.commit()
    identity.audit(state, user, "capacity.set", township, {"capacity": capacity})
    return RedirectResponse("/capacities?saved=1", status_code=303)
