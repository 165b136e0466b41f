"""The compact week store shows exactly what the JSON snapshot rows showed, and the migrations from
that layout (0005 -> 0006: snapshot rows; 0008: explanation and rule-trigger rows) keep every
published week's answers identical.

Both reuse the session's published store (three weeks of the small county); nothing is simulated
or trained here.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select

from serving.store import models as m
from serving.store import queries
from serving.store.database import get_engine, make_engine, session_factory, upgrade

# Tables a published week's answers read, in foreign-key order (what a 0005 store held).
COPIED = (m.Run, m.Week, m.Score, m.WatchlistEntry, m.Explanation, m.QuarantineRow, m.DriftResult,
          m.DriftAlert, m.DepartmentWarning, m.Feedback)


def _document_rows(engine) -> dict[str, list[dict]]:
    """The week documents as the JSON rows a 0005 store held (explanations, rule_triggers)."""
    import orjson

    from serving.store.week_documents import decode

    out: dict[str, list[dict]] = {"explanations": [], "rule_triggers": []}
    with engine.connect() as conn:
        for run_id, kind, blob in conn.execute(select(m.WeekDocument.run_id, m.WeekDocument.kind,
                                                      m.WeekDocument.blob)):
            for household_id, text in decode(blob).items():
                row = {"run_id": run_id, "household_id": household_id, "payload": orjson.loads(text)}
                if kind == "explanation":
                    out["explanations"].append({**row, "on_demand": False})
                else:
                    out["rule_triggers"].append(row)
    return out


def _sample(session, run_id: int, every: int = 40) -> list[str]:
    """Every ``every``-th household of a run and of its watch list (a cheap but wide sample)."""
    rows = session.execute(select(m.Score.household_id, m.Score.on_watchlist).where(m.Score.run_id == run_id)
                           .order_by(m.Score.household_id)).all()
    listed = [h for h, on in rows if on]
    return sorted({h for h, _ in rows[::every]} | set(listed[::4]))


def _stored(session, run_id: int) -> dict[str, tuple]:
    """Every household of a run: (identity, members, facts) as the store shows them, read in bulk."""
    from features.json_safe import records
    from serving.store import week_inputs

    v, sc = m.RegistryVersion, m.Score
    rows = session.execute(select(sc.household_id, sc.township, v.identity, v.members).join(
        v, (v.household_id == sc.household_id) & (v.since_run_id == sc.registry_run)).where(sc.run_id == run_id)).all()
    facts = {}
    for township in {t for _, t, _, _ in rows}:
        ids = [h for h, t, _, _ in rows if t == township]
        facts.update((f["household_id"], f) for f in records(week_inputs.frame_rows(session, run_id, township, ids)))
    return {h: (identity, members, facts[h]) for h, _, identity, members in rows}


def _answers(session, week: str) -> dict:
    """What the API, the pages, the exports and the visit sheets read of a published week."""
    from serving.documents.visit_sheets import store_sheets

    run_id = queries.published_run(session, week)
    households = _sample(session, run_id)
    bundles = {h: queries.household_bundle(session, run_id, h) for h in households}
    snapshots = {h: queries.snapshot(session, run_id, h) for h in households}
    _, listed = queries.watchlist(session, run_id, limit=None, with_identity=True)
    township = listed[0]["township"]
    return {"bundles": bundles, "snapshots": snapshots, "export": listed,
            "identities": queries.identities(session, run_id, households),
            "sheets": store_sheets(session, run_id, township)}


def test_last_week_shows_what_the_snapshot_rows_held(published_store):
    """Every household of the newest week: registry row, members and facts equal the JSON snapshot
    the weekly job wrote before this change (same history, frame and cutoff)."""
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from features.weeks import week_cutoff
    from serving.weekly.history import load_history
    from tests.store.legacy_snapshots import snapshots

    p = published_store
    cutoff = week_cutoff(p.weeks[-1])
    tables = load_history(p.settings.home).tables
    frame = build_household_frame(tables, cutoff, load_policy(p.settings.policy_path))
    engine = get_engine(p.settings)
    with session_factory(engine)() as session:
        run_id = queries.published_run(session, p.weeks[-1])
        legacy = list(snapshots(tables, frame, cutoff))
        assert len(legacy) == p.results[-1]["households_scored"]
        new = _stored(session, run_id)
        assert new == {old["household_id"]: (old["identity"], old["members"], old["facts"]) for old in legacy}
        for old in legacy[::50]:  # the one-household read the pages use
            one = queries.snapshot(session, run_id, old["household_id"])
            assert (one.identity, one.members, one.facts) == new[old["household_id"]]
        # Unchanged registry rows were not stored again: most households show an earlier week's version.
        shown = session.execute(select(m.Score.registry_run).where(m.Score.run_id == run_id)).scalars().all()
        assert sum(r != run_id for r in shown) > 0.9 * len(shown)


def test_migration_from_snapshot_rows_keeps_every_week(published_store, tmp_path):
    """A store in the 0005 layout (a JSON snapshot row per household and week) migrated to 0006
    answers every published week as the store written by the weekly job does."""
    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table

    from tests.databases import fresh_database_url

    p = published_store
    source = get_engine(p.settings)
    kind = source.dialect.name.replace("postgresql", "postgres")
    with fresh_database_url(kind, tmp_path) as url:
        old = make_engine(url)
        upgrade(old, "0005")
        # The models no longer know the old tables: write them by name.
        legacy = Table("household_snapshots", MetaData(), Column("run_id", Integer), Column("household_id", String),
                       Column("identity", JSON), Column("facts", JSON), Column("members", JSON))
        triggers = Table("rule_triggers", MetaData(), Column("run_id", Integer), Column("household_id", String),
                         Column("payload", JSON))
        with source.connect() as src, old.begin() as dst:
            for table in COPIED:  # the columns a 0005 store has (later ones are added by the migrations)
                columns = [c for c in table.__table__.columns if c.name not in ("registry_run", "report_reference")]
                rows = [dict(r._mapping) for r in src.execute(select(*columns))]
                if rows:
                    dst.execute(insert(table.__table__), rows)
            documents = _document_rows(source)
            assert documents["explanations"] and documents["rule_triggers"]
            dst.execute(insert(m.Explanation.__table__), documents["explanations"])
            dst.execute(insert(triggers), documents["rule_triggers"])
        with session_factory(source)() as session, old.begin() as dst:
            for week in p.weeks:
                run_id = queries.published_run(session, week)
                dst.execute(insert(legacy), [
                    {"run_id": run_id, "household_id": h, "identity": identity, "members": members, "facts": facts}
                    for h, (identity, members, facts) in _stored(session, run_id).items()])
        upgrade(old)
        with session_factory(source)() as before, session_factory(old)() as after:
            for week in p.weeks:
                assert _answers(after, week) == _answers(before, week), week
            # Registry rows identical from one week to the next became one version.
            versions = after.scalar(select(func.count()).select_from(m.RegistryVersion))
            scores = after.scalar(select(func.count()).select_from(m.Score))
            assert versions < 0.5 * scores
        old.dispose()


def test_reused_explanations_equal_computed_ones(published_store):
    """Last week's TreeSHAP values reused for this week's listed households give the explanations
    computing them afresh gives, and the weekly job did reuse some."""
    from features.policy import load_policy
    from features.rules import evaluate_rules
    from features.weeks import Week
    from serving.store.publishing import previous_published
    from serving.store.week_inputs import rows_of_run
    from serving.store.week_store import reusable_explanations
    from serving.weekly.explaining import explained

    p = published_store
    assert sum(r["stages"].get("explanations_reused", 0) for r in p.results[1:]) > 0
    engine = get_engine(p.settings)
    policy = load_policy(p.settings.policy_path)
    with session_factory(engine)() as session:
        run_id = queries.published_run(session, p.weeks[-1])
        listed = session.scalars(select(m.Score.household_id).where(m.Score.run_id == run_id,
                                                                     m.Score.on_watchlist)).all()
    frame = rows_of_run(engine, run_id, list(listed)).sort_values("household_id").reset_index(drop=True)
    known = reusable_explanations(engine, previous_published(engine, Week(p.weeks[-1])), p.champion.model, str(p.champion.version), frame)
    assert known
    rules = evaluate_rules(frame, policy)
    fresh = list(explained(p.champion.model, frame, policy, rules))
    reused = list(explained(p.champion.model, frame, policy, rules, known=known))
    assert reused == fresh


def test_week_documents_hold_what_the_rows_held(published_store):
    """The newest week's explanation and rule-trigger documents decode to exactly what the weekly
    job used to store as rows: the explanations computed afresh from the stored model inputs (with
    the previous week's probabilities) and the rule-trigger payloads of every flagged household."""
    import orjson

    from features.policy import load_policy
    from features.rules import evaluate_rules
    from features.weeks import Week
    from serving.jobs.week_run import previous_scores
    from serving.store import rows as store_rows
    from serving.store.publishing import previous_published
    from serving.store.week_documents import EXPLANATION, RULE_TRIGGERS, documents_of_run
    from serving.store.week_inputs import rows_of_run
    from serving.weekly.explaining import explained

    p = published_store
    engine = get_engine(p.settings)
    policy = load_policy(p.settings.policy_path)
    with session_factory(engine)() as session:
        run_id = queries.published_run(session, p.weeks[-1])
        scored = session.execute(select(m.Score.household_id, m.Score.on_watchlist).where(
            m.Score.run_id == run_id)).all()
    frame = rows_of_run(engine, run_id, [h for h, _ in scored]).sort_values("household_id").reset_index(drop=True)
    rules = evaluate_rules(frame, policy)
    listed = frame["household_id"].isin({h for h, on in scored if on}).to_numpy()
    previous = previous_scores(engine, previous_published(engine, Week(p.weeks[-1]))).probability
    fresh = {h: orjson.loads(text) for h, text, _ in explained(
        p.champion.model, frame.loc[listed].reset_index(drop=True), policy,
        rules.loc[listed].reset_index(drop=True), previous)}
    stored = documents_of_run(engine, run_id, EXPLANATION, frame["household_id"])
    assert len(fresh) == int(listed.sum()) > 0
    assert stored == fresh
    flagged = {h: orjson.loads(orjson.dumps(payload))
               for _, h, payload in store_rows.rule_triggers(rules, frame["township"].to_numpy())}
    assert flagged and documents_of_run(engine, run_id, RULE_TRIGGERS, frame["household_id"]) == flagged
    # One household's read through the page's query gives the same documents.
    household = next(iter(fresh))
    with session_factory(engine)() as session:
        bundle = queries.household_bundle(session, run_id, household)
    assert bundle["explanation"] == fresh[household]
    assert bundle["rule_triggers"] == flagged.get(household)


def test_drift_reference_side_is_stored_once_and_reports_read_whole(tmp_path):
    """Weeks whose drift checks compared with the same reference store its sample once; each week
    keeps its current side, and the samples read back are exactly the file the check wrote (column
    roles included). A reference no week names any more is purged."""
    import io

    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from monitoring.evidently_report import report_samples
    from serving.store import drift_samples
    from serving.store.publishing import utcnow

    rng = np.random.default_rng(0)
    cols = {"numeric": ["income"], "categorical": ["kind"], "features": ["income", "kind"],
            "num_method": "wasserstein", "cat_method": "jensenshannon"}

    def sample(n: int, shift: float) -> pd.DataFrame:
        return pd.DataFrame({"income": rng.normal(shift, 1, n), "kind": rng.choice(["a", "b"], n)})

    reference = sample(300, 0.0)
    weeks = {f"2025-W{40 + i}": report_samples(reference, sample(200, 0.1 * i), cols) for i in range(3)}
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        for i, week in enumerate(weeks, start=1):
            conn.execute(insert(m.Run.__table__).values(id=i, week=week, status="published", started_by="t",
                                                        started_at=utcnow()))
    for i, samples in enumerate(weeks.values(), start=1):
        current, digest = drift_samples.stage(engine, samples)
        assert len(current) < 0.7 * len(samples)
        with engine.begin() as conn:
            conn.execute(insert(m.DriftResult.__table__).values(
                run_id=i, status="ok", summary={}, report_samples=current, report_reference=digest))
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(m.DriftReference)) == 1
        for i, samples in enumerate(weeks.values(), start=1):
            back = drift_samples.samples_of(session, session.get(m.DriftResult, i))
            assert pq.read_table(io.BytesIO(back)).equals(pq.read_table(io.BytesIO(samples)))
            assert pq.read_table(io.BytesIO(back)).schema.metadata[b"fanpin.report"]
    with engine.begin() as conn:
        conn.execute(m.DriftResult.__table__.delete())
    drift_samples.purge(engine)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(m.DriftReference)) == 0
    engine.dispose()
