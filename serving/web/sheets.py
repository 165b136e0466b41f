"""All visit sheets of a township and week as one PDF (rendered by ``serving.visit_sheets``).

The sheets are read with ``serving.visit_sheets.store_sheets`` and masked for the reader's role
(``serving.auth.mask_record``) before rendering, exactly as the pages are.
"""

from __future__ import annotations

from typing import Any

from serving.web import identity
from serving.web.deps import PageError, WebUser, web_state
from serving.web.i18n import gettext


def township_pdf(request: Any, user: WebUser, run: Any, township: str | None, language: str) -> tuple[bytes, int]:
    """(PDF bytes, households) for the township's watch list of the run."""
    from serving.visit_sheets import render_pdf, store_sheets

    if not township:
        raise PageError(404, "township", gettext(language, "There is no such township this week."))
    with web_state(request).sessions() as db:
        sheets = store_sheets(db, run.id, township)
    if not sheets:
        raise PageError(404, "township", gettext(language, "No household of this township is on the list this week."))
    for sheet in sheets:
        sheet["identity"] = identity.mask(user, sheet["identity"])
        sheet["members"] = [identity.mask(user, m) for m in sheet["members"]]
        sheet["trend"] = [t for t in sheet["trend"] if t["week"] <= run.week]
    return render_pdf(sheets, week=run.week, township=township), len(sheets)
