"""The page routers, one module per page family."""

from __future__ import annotations

from serving.web.i18n import gettext


def routers():
    """Every page router, in mounting order."""
    from serving.web.pages import (
        account,
        capacities,
        cases,
        data_model,
        follow_through,
        household,
        township,
        watchlist,
    )

    return [account.router, watchlist.router, household.router, township.router, data_model.router, cases.router,
            capacities.router, follow_through.router]


def error_text(exc, language: str) -> tuple[str, str]:
    """Title and sentence of an error page, in the reader's language."""
    if exc.title == "csrf":
        return (
            gettext(language, "Form rejected"),
            gettext(language, "This form has expired or did not come from this site. Reload the page and try again."),
        )
    if exc.status_code == 404:
        return gettext(language, "Not found"), exc.message
    if exc.status_code == 403:
        return gettext(language, "Not allowed"), exc.message
    if exc.status_code == 429:
        return gettext(language, "Please wait"), exc.message
    return gettext(language, "Request not understood"), exc.message
