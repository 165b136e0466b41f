"""Staging what a week shows about each household beyond its score: the registry versions that
changed since the previous published week and the week's model inputs (one compact blob per
township). See ``serving.store.registry`` and ``serving.store.week_inputs``."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from features.weeks import Week
from serving.store import models as m
from serving.store import publishing as pub
from serving.store import registry, week_documents, week_inputs


def stage_households(engine: Engine, run_id: int, previous: tuple[Week, int] | None, tables: dict[str, pd.DataFrame], frame: pd.DataFrame,
                     cutoff: pd.Timestamp) -> tuple[dict[str, int], int]:
    """Stage the run's new registry versions and its model inputs.

    ``previous``: the previous published week (label, run id), whose registry versions still hold.

    Returns:
        (household id -> the run whose registry version the household shows, for its score row;
        the number of versions stored: households new or changed since the previous week).
    """
    ids = frame["household_id"]
    current = registry.at_cutoff(tables, ids, cutoff)
    digest = registry.digests(current, ids)
    before = week_inputs.registry_of_run(engine, previous[1]) if previous else None
    runs = registry.versions_to_store(before, ids, digest, run_id)
    changed = ids[runs == run_id]
    stored = pub.stage_rows(engine, m.RegistryVersion, (
        {**row, "since_run_id": run_id} for row in registry.version_rows(current, changed)), run_id)
    pub.stage_rows(engine, m.WeekInput, week_inputs.input_rows(frame, runs, digest), run_id)
    return dict(zip(ids.tolist(), runs.tolist(), strict=True)), stored


def reusable_explanations(engine: Engine, previous: tuple[Week, int] | None, model, model_version: str,
                          listed: pd.DataFrame) -> dict:
    """The previous published week's TreeSHAP values (``previous``: label, run id) that hold for this
    week's listed households (``serving.core.explanation_reuse``): only when that week was explained
    by the same model version."""
    from sqlalchemy import select

    from serving.core.explanation_reuse import payload_contributions, reusable

    if previous is None or listed.empty:
        return {}
    run_id = previous[1]
    with engine.connect() as conn:
        version = conn.execute(select(m.Run.model_version).where(m.Run.id == run_id)).scalar_one_or_none()
    if version is None or str(version) != str(model_version):
        return {}
    names = list(model.feature_names_)
    stored = {}
    payloads = week_documents.documents_of_run(engine, run_id, week_documents.EXPLANATION, listed["household_id"])
    for household_id, payload in payloads.items():
        found = payload_contributions(payload, names)
        if found is not None:
            stored[household_id] = found
    if not stored:
        return {}
    before = week_inputs.rows_of_run(engine, run_id, list(stored))
    return reusable(model, listed, before, stored)
