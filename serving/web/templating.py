"""Jinja2 rendering with the message catalogs: one environment per language.

Each language gets its own environment with its translations installed (jinja2.ext.i18n,
new-style gettext), so concurrent requests in different languages never share state.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from serving.web.i18n import LANGUAGE_NAMES, translations

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


def percent(value: Any, digits: int = 1) -> str:
    """0.1234 -> '12.3%' (a dash for missing values)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def signed_points(value: Any) -> str:
    """A change in probability as signed percentage points: +3.2 / −1.0 (a dash when unknown)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    points = float(value) * 100
    if abs(points) < 0.05:
        return "0.0"
    return f"+{points:.1f}" if points > 0 else f"−{abs(points):.1f}"


def change_cell(value: Any) -> tuple[str, str]:
    """(CSS class, text) of a week-on-week change: rises and falls beyond 0.05 points marked."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "muted", "–"
    if value > 0.0005:
        return "up", f"▲ {signed_points(value)}"
    if value < -0.0005:
        return "down", f"▼ {signed_points(value)}"
    return "muted", "0.0"


def money(value: Any) -> str:
    """Yuan with thousands separators, no decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):,.0f}"


def query(base: dict[str, Any], **changes: Any) -> str:
    """A query string from the current filters with some values changed (None drops a key)."""
    merged = {**base, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "", [])}, doseq=True)


@cache
def environment(language: str) -> Environment:
    """The Jinja environment of one language."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are package data: not re-checked on disk at every render (a stat of each
        # template a page extends was a twentieth of the watch-list page).
        auto_reload=False,
    )
    env.install_gettext_translations(translations(language), newstyle=True)
    env.filters.update(percent=percent, signed_points=signed_points, money=money)
    env.globals.update(query=query, language_names=LANGUAGE_NAMES, change_cell=change_cell)
    return env


def helpers(language: str) -> dict[str, Any]:
    """Template functions bound to the page's language (labels of codes, zh/en field picking)."""
    from serving.web import labels

    suffix = "zh" if language == "zh_CN" else "en"

    def loc(item: Any, key: str) -> str:
        if not item:
            return ""
        get = item.get if isinstance(item, dict) else (lambda k, d=None: getattr(item, k, d))
        return get(f"{key}_{suffix}") or get(f"{key}_zh") or get(key) or ""

    return {
        "loc": loc,
        "role_label": lambda code: labels.label(labels.ROLES, code, language),
        "level_label": lambda code: labels.label(labels.LEVELS, code, language),
        "flag_label": lambda code: labels.label(labels.FLAGS, code, language),
        "outcome_label": lambda code: labels.label(labels.OUTCOMES, code or "none", language),
        "severity_label": lambda code: labels.label(labels.SEVERITIES, code, language),
        "metric_label": lambda code: labels.label(labels.METRICS, code, language),
        "value_label": lambda table, column, code: labels.value_label(table, column, code, language),
        "column_label": lambda table, column: labels.column_label(table, column, language),
        "criteria_labels": lambda names: labels.criteria_labels(names, language),
    }


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a page in the request's language with the common context (user, CSRF, language)."""
    state = request.state
    language = getattr(state, "language", "zh_CN")
    full = {
        **helpers(language),
        "request": request,
        "lang": language,
        "html_lang": "zh-CN" if language == "zh_CN" else "en",
        "user": getattr(state, "user", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "path": request.url.path,
        "current_url": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    }
    html = environment(language).get_template(name).render(full)
    # Pages hold personal data: never cached, never framed by another site, no referrer leaks.
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
               "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(html, status_code=status_code, headers=headers)
