"""Data and model: the week's drift and data-quality alerts in plain words, the full drift report,
the quarantined rows with their reasons, and the champion model's card and metrics."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from serving.reads import drift_reports
from serving.reads.week_findings import week_findings
from serving.store import queries as store
from serving.web import field_evidence, identity, queries
from serving.web.deps import Lang, PageError, SignedIn, State
from serving.web.i18n import gettext
from serving.web.model_evidence import model_evidence
from serving.web.pages.common import choose_week, scope_of
from serving.web.templating import render

router = APIRouter(include_in_schema=False)
QUARANTINE_SHOWN = 200
# The figures a reader checks first (the rest stay one click away).
HEADLINE_METRICS = ("auc", "pr_auc", "recall_at_10pct", "precision_at_10pct", "brier", "ece", "rules_auc",
                    "median_lead_weeks")


@lru_cache(maxsize=8)
def model_card(tracking_uri: str, run_id: str) -> str | None:
    """The champion run's ``model_card.md`` (None when it has none or MLflow is unreachable)."""
    try:
        import mlflow

        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model_card.md",
                                                   tracking_uri=tracking_uri)
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except Exception:  # no card logged, or the tracking store is elsewhere: the page says so
        return None


def champion_summary(request: Request) -> dict:
    """What the page says about the champion (version, metrics, card), or why none is loaded."""
    app_state = request.app.state
    champion = getattr(app_state, "champion", None)
    settings = app_state.settings
    if champion is None:
        return {"loaded": False, "name": settings.model_name, "error": getattr(app_state, "champion_error", None)}
    metrics = {k: v for k, v in dict(champion.metrics or {}).items() if isinstance(v, (int, float))}
    headline = [(k, metrics[k]) for k in HEADLINE_METRICS if k in metrics]
    return {
        "loaded": True,
        "name": settings.model_name,
        "alias": settings.model_alias,
        "version": str(champion.version),
        "run_id": str(champion.run_id),
        "headline": headline,
        "metrics": sorted(metrics.items()),
        "card": model_card(settings.tracking_uri, str(champion.run_id)),
        "evidence": model_evidence(dict(champion.metrics or {}), request.state.language),
    }


@lru_cache(maxsize=8)
def experiment_of(tracking_uri: str, run_id: str) -> str | None:
    """The experiment a run belongs to (the MLflow UI addresses runs through it), or None."""
    try:
        from mlflow.tracking import MlflowClient

        return str(MlflowClient(tracking_uri).get_run(run_id).info.experiment_id)
    except Exception:  # the store is unreachable or the run was deleted: link the UI's front page
        return None


def mlflow_link(settings, run_id: str | None) -> str | None:
    """The served model's run in the MLflow UI, or None when no UI is configured (never a guess
    at an address where nothing may run)."""
    base = settings.mlflow_ui
    if not base:
        return None
    experiment = experiment_of(settings.tracking_uri, run_id) if run_id else None
    return f"{base}/#/experiments/{experiment}/runs/{run_id}" if experiment else f"{base}/"


def model_health(db, run) -> dict | None:
    """The model-health check the week's published run kept (``serving.jobs.model_health``)."""
    stages = next((r["stages"] for r in store.runs(db, run.week) if r["id"] == run.id), None) or {}
    return stages.get("model_health")


@router.get("/data")
def data_page(request: Request, user: SignedIn, state: State, lang: Lang, week: str | None = None) -> Response:
    can_drift = identity.allowed(user, "drift:read")
    can_quarantine = identity.allowed(user, "quarantine:read")
    with state.sessions() as db:
        weeks, run = choose_week(db, week, lang)
        drift = store.drift(db, run.id) if run and can_drift else None
        health = model_health(db, run) if run and can_drift else None
        quarantine, quarantined = queries.quarantine_page(db, run, QUARANTINE_SHOWN) if run and can_quarantine else ([], 0)
        researcher = user.role in ("researcher", "admin")
        verdict = field_evidence.verdict_block(db, scope_of(user))
        challenger = field_evidence.challenger_block(db) if researcher else None
        findings = week_findings(db, run.id if run else None)
    quarantine = identity.mask_values(user, quarantine)  # by content: an ID typed in any column
    settings = state.settings
    model = champion_summary(request)
    return render(
        request,
        "data_model.html",
        {
            "weeks": weeks,
            "run": run,
            "week": run.week if run else None,
            "drift": drift,
            "health": health,
            "can_drift": can_drift,
            "can_quarantine": can_quarantine,
            "quarantine": quarantine,
            "quarantined": quarantined,
            "quarantine_shown": QUARANTINE_SHOWN,
            "model": model,
            "mlflow_ui": mlflow_link(settings, model.get("run_id")) if researcher else None,
            "mlflow_hint": researcher,  # shown when no UI is configured: how to start one
            "verdict": verdict,
            "challenger": challenger,
            "findings": findings,
        },
    )


@router.get("/data/drift-report")
def drift_report(request: Request, user: SignedIn, state: State, lang: Lang, week: str | None = None) -> Response:
    """The full Evidently report of the week, for roles allowed to read drift results."""
    if not identity.allowed(user, "drift:read"):
        raise PageError(403, "drift", gettext(lang, "Your role cannot read the drift report."))
    with state.sessions() as db:
        _, run = choose_week(db, week, lang)
        html = drift_reports.drift_report(db, run.id) if run else None
    if not html:
        raise PageError(404, "drift", gettext(lang, "There is no drift report for this week."))
    identity.audit(state, user, "drift.report", run.week)
    # The report is self-contained HTML from Evidently; forbid it from framing or posting anywhere.
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                       "Content-Security-Policy": "form-action 'none'; frame-ancestors 'none'"})
