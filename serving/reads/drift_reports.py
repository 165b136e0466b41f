"""A week's Evidently drift report, rendered from the stored samples when someone first opens it
and then kept in the store (the weekly job keeps only the samples: the plots cost more than the
rest of the drift check)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from serving.store import models as m


def drift_report(session: Session, run_id: int) -> str | None:
    """The week's Evidently report: rendered from the stored samples on first view, then kept."""
    result = session.get(m.DriftResult, run_id)
    if result is None:
        return None
    if not result.report_html and result.report_samples:
        from monitoring.evidently_report import render_report
        from serving.store.drift_samples import samples_of

        samples = samples_of(session, result)
        if samples is None:
            return None
        result.report_html = render_report(samples)
        session.commit()
    return result.report_html
