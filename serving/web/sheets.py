"""All visit sheets of a township and week as one PDF (rendered by ``serving.documents.visit_sheets``).

The sheets are read with ``serving.documents.visit_sheets.store_sheets`` and masked for the reader's role
(``serving.access.auth.mask_record``) before rendering, exactly as the pages are.
"""

from __future__ import annotations

from typing import Any

from serving.web import identity
from serving.web.deps import PageError, WebUser, web_state
from serving.web.i18n import gettext


def masked_sheets(request: Any, user: WebUser, run: Any, township: str) -> list[dict[str, Any]]:
    """The township's sheets of the run, masked for the reader's role (empty: nobody listed)."""
    from serving.documents.visit_sheets import store_sheets

    with web_state(request).sessions() as db:
        sheets = store_sheets(db, run.id, township)
    for sheet in sheets:
        sheet["identity"] = identity.mask(user, sheet["identity"])
        sheet["members"] = [identity.mask(user, m) for m in sheet["members"]]
        sheet["trend"] = [t for t in sheet["trend"] if t["week"] <= run.week]
    return sheets


async def township_pdf(request: Any, user: WebUser, run: Any, township: str | None, language: str) -> bytes:
    """The township's visit sheets of the run as one PDF, rendered once per run, township and
    masking in a worker process (``serving.documents.pdf_queue``), at most one render per person at a time."""
    from serving.documents.pdf_queue import Busy

    if not township:
        raise PageError(404, "township", gettext(language, "There is no such township this week."))
    queue = request.app.state.pdf_queue
    try:
        return await queue.pdf(run_id=run.id, week=run.week, township=township,
                               masking="full" if user.principal.sees_identifiers else "no-identifiers",
                               user=user.username, sheets=lambda: masked_sheets(request, user, run, township))
    except Busy:
        raise PageError(429, "township", gettext(
            language, "Your previous visit sheets are still being prepared. Try again in a minute.")) from None
    except LookupError:
        raise PageError(404, "township", gettext(
            language, "No household of this township is on the list this week.")) from None
