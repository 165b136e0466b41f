"""What one weekly drift check found (``monitoring.drift.check_week`` returns it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features.json_safe import records


@dataclass
class DriftResult:
    """Everything one weekly check found.

    Attributes:
        summary: week, sizes, methods, ``drifted_features``, ``share_drifted``,
            ``prediction_drift``, data-quality counts, the sample bound.
        alerts: plain-language alerts (``monitoring.alerts``), most severe first.
        feature_results: one row per monitored feature (county-wide verdicts, PSI, quality).
        township_results: one row per township and feature (PSI, medians, ratio).
        checks: pattern evidence (units, shocks, subgroups, new categories, raw fields).
        report_html: path of the saved Evidently report when a path was given, else the
            self-contained HTML as a string (None when the check was run with ``render=False``).
        report_samples: the compared samples (``report_samples``), to render the report later.
    """

    summary: dict[str, Any]
    alerts: list[dict[str, Any]]
    feature_results: pd.DataFrame
    township_results: pd.DataFrame
    checks: dict[str, Any] = field(default_factory=dict)
    report_html: str | None = None
    report_samples: bytes | None = None

    @property
    def report_path(self) -> str | None:
        """The saved report's path (None when the report is held as an HTML string)."""
        if self.report_html is None or self.report_html.lstrip().startswith("<"):
            return None
        return self.report_html

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the summary, the alerts and the per-feature rows (no household data)."""
        out = dict(self.summary)
        out["alerts"] = self.alerts
        out["report_path"] = self.report_path
        out["features"] = records(self.feature_results)
        out["checks"] = self.checks
        return out
