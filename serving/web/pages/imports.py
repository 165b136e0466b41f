"""The import page (导入本周数据): an admin or county officer uploads the week's files or one zip,
reviews how they were read, then publishes the week (the weekly job in the background, its
progress on the page) or discards the upload. Township leaders and researchers are refused.

Thin handlers: keeping files is ``serving.weekly.uploads``, reviewing and running
``serving.weekly.import_run``. Every POST carries the CSRF token; upload, publish, replace and
discard are written to the audit log.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from serving.web import identity
from serving.web.deps import CheckedForm, PageError, SignedIn, web_state
from serving.web.i18n import gettext
from serving.web.templating import render
from serving.weekly import import_run, uploads

router = APIRouter(include_in_schema=False)


def _allowed(request: Request, user) -> None:
    if not identity.allowed(user, "import:write"):
        raise PageError(403, "import", gettext(request.state.language, "Your role cannot import data."))


def _upload(request: Request, token: str):
    found = uploads.find(uploads.county_folder(web_state(request).settings), token)
    if found is None:
        raise PageError(404, "import", gettext(request.state.language, "There is no such upload."))
    return found


def _context(upload, run, existing: bool, confirm: bool = False) -> dict:
    from features.contract import TABLES

    return {"upload": upload, "review": import_run.kept_review(upload) or {}, "run": run, "existing": existing,
            "confirm": confirm, "titles": {name: schema.title for name, schema in TABLES.items()}}


def _this_week() -> str:
    year, week, _ = dt.date.today().isocalendar()
    return f"{year}-W{week:02d}"


@router.get("/import")
def import_page(request: Request, user: SignedIn, error: str = "") -> Response:
    _allowed(request, user)
    return render(request, "import.html", {"week": _this_week(), "error": error[:300]})


@router.post("/import")
async def upload_files(request: Request, user: SignedIn, form: CheckedForm) -> Response:
    _allowed(request, user)
    state = web_state(request)
    week = str(form.get("week", "")).strip()
    files = [f for f in form.getlist("files") if hasattr(f, "file") and getattr(f, "filename", "")]
    try:
        upload = uploads.receive(uploads.county_folder(state.settings), week,
                                 [(f.filename, f.file) for f in files], user.username)
    except uploads.UploadError as error:
        return render(request, "import.html", {"week": week or _this_week(), "error": str(error)}, status_code=400)
    identity.audit(state, user, "import.upload", upload.week,
                   {"token": upload.token, "files": upload.manifest["files"]})
    import_run.review(upload, state.settings)
    return RedirectResponse(f"/import/{upload.token}", status_code=303)


@router.get("/import/{token}")
def review_page(request: Request, user: SignedIn, token: str) -> Response:
    _allowed(request, user)
    upload = _upload(request, token)
    county = uploads.county_folder(web_state(request).settings)
    run = import_run.status(upload)
    return render(request, "import_review.html",
                  _context(upload, run, uploads.existing(county, upload.week) is not None and run is None))


@router.post("/import/{token}/publish")
def publish(request: Request, user: SignedIn, form: CheckedForm, token: str) -> Response:
    _allowed(request, user)
    state = web_state(request)
    upload = _upload(request, token)
    county = uploads.county_folder(state.settings)
    replace = form.get("replace") == "yes"
    try:
        moved = uploads.publish_files(upload, county, replace=replace) if upload.files.exists() else None
    except uploads.UploadError:
        # The week has other files already: ask before replacing them (never silently).
        return render(request, "import_review.html", _context(upload, None, True, confirm=True), status_code=409)
    reason = str(form.get("accept_incomplete", "")).strip()[:300] or None
    identity.audit(state, user, "import.publish", upload.week,
                   {"token": token, "replaced": str(moved) if moved else None, "accept_incomplete": reason})
    import_run.start(upload, county, state.settings, reason)
    return RedirectResponse(f"/import/{token}", status_code=303)


@router.post("/import/{token}/discard")
def discard(request: Request, user: SignedIn, form: CheckedForm, token: str) -> Response:
    _allowed(request, user)
    state = web_state(request)
    upload = _upload(request, token)
    if import_run.status(upload) is not None:
        raise PageError(400, "import", gettext(request.state.language, "This upload was published already."))
    uploads.discard(upload)
    identity.audit(state, user, "import.discard", upload.week, {"token": token})
    return RedirectResponse("/import", status_code=303)
