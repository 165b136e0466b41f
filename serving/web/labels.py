"""Display names of codes (roles, levels, flags, follow-up outcomes, vocabulary values) per language.

Message ids are marked with ``N_`` so Babel extracts them into the catalogs; they are translated
when a page is rendered.
"""

from __future__ import annotations

from typing import Any

from features import contract
from serving.web.i18n import gettext


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message


ROLES = {
    "admin": N_("Administrator"),
    "county_officer": N_("County officer"),
    "township_leader": N_("Township leader"),
    "researcher": N_("Researcher"),
}
LEVELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
FLAGS = {"new": N_("New"), "rising": N_("Rising"), "rule_triggered": N_("Rule triggered")}
# Feedback outcomes: the codes are the API's (serving.api.schemas.FEEDBACK_OUTCOMES).
OUTCOMES = {
    "none": N_("Not yet followed up"),
    "visited": N_("Visited"),
    "confirmed_at_risk": N_("Confirmed at risk (put under monitoring)"),
    "not_at_risk": N_("Not at risk"),
    "already_assisted": N_("Already assisted"),
    "unreachable": N_("Could not reach"),
}
METRICS = {
    "auc": N_("AUC (ranking quality)"),
    "pr_auc": N_("PR-AUC"),
    "recall_at_5pct": N_("Share of entrants in the top 5%"),
    "recall_at_10pct": N_("Share of entrants in the top 10%"),
    "precision_at_10pct": N_("Precision in the top 10%"),
    "brier": N_("Brier score"),
    "ece": N_("Calibration error (ECE)"),
    "rules_auc": N_("AUC of the official rules"),
    "median_lead_weeks": N_("Median warning lead (weeks)"),
}
SEVERITIES = {
    "high": N_("Serious"),
    "critical": N_("Serious"),
    "warning": N_("Warning"),
    "medium": N_("Warning"),
    "info": N_("For information"),
    "low": N_("Minor"),
}


def label(table: dict[str, str], code: Any, language: str) -> str:
    """The display name of a code from one of the tables above (the code itself when unknown)."""
    if code is None:
        return ""
    message = table.get(str(code))
    return gettext(language, message) if message else str(code)


def value_label(table: str, column: str, code: Any, language: str) -> str:
    """A coded registry value in words: the contract's Chinese label, or the code read as English."""
    if code is None or code == "":
        return "–"
    if isinstance(code, bool):
        return gettext(language, "yes") if code else gettext(language, "no")
    allowed = next((f.allowed for f in contract.fields(table) if f.name == column), None)
    if not allowed or code not in allowed:
        return str(code)
    if language == "zh_CN":
        return allowed[code]
    return str(code).replace("_", " ")


def column_label(table: str, column: str, language: str) -> str:
    """A contract column's label in the reader's language."""
    for f in contract.fields(table):
        if f.name == column:
            return f.zh if language == "zh_CN" else f.en
    return column


def criteria_labels(names: str | list[str] | None, language: str) -> list[str]:
    """Official criteria (``features.rules.CRITERIA`` names, a list or "a|b") in words."""
    from features.rules import CRITERIA

    if not names:
        return []
    items = names.split("|") if isinstance(names, str) else names
    return [
        (CRITERIA[n].zh if language == "zh_CN" else CRITERIA[n].en) if n in CRITERIA else n
        for n in items
        if n
    ]
