"""Publishing a few weeks of a simulated county into a fresh store, with one user per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from serving.settings import Settings

PASSWORD = "correct horse battery"


@dataclass
class Published:
    settings: Settings
    weeks: tuple[str, ...]
    results: list[dict]
    champion: object
    own_township: str
    other_township: str
    own_household: str
    other_household: str
    users: dict[str, str] = field(default_factory=dict)  # role -> username
    id_numbers: set[str] = field(default_factory=set)  # every ID number of the county (for leak checks)


def publish_weeks(county: Path, champion, home: Path, url: str, weeks: tuple[str, ...]) -> Published:
    import pandas as pd
    from sqlalchemy import select

    from features.weeks import week_cutoff
    from serving.access.auth import create_user
    from serving.jobs.weekly import run_week
    from serving.store import models as m
    from serving.store.database import get_engine, session_factory
    from serving.weekly.history import import_history

    settings = Settings(home=home, database_url=url)
    first = week_cutoff(weeks[0]) - pd.Timedelta(days=7)
    import_history(county, settings.ensure_home(), until=first)
    results = [run_week(county, w, settings, champion=champion, started_by="tests") for w in weeks]
    engine = get_engine(settings)
    with session_factory(engine)() as session:
        run_id = session.scalar(select(m.Week.published_run_id).where(m.Week.week == weeks[-1]))
        rows = session.execute(
            select(m.Score.township, m.Score.household_id).where(m.Score.run_id == run_id, m.Score.on_watchlist)
            .order_by(m.Score.rank)
        ).all()
        townships = sorted({t for t, _ in rows})
        own, other = townships[0], townships[1]
        users = {
            "admin": "admin1", "county_officer": "officer1", "township_leader": "leader1", "researcher": "research1",
        }
        for role, name in users.items():
            create_user(session, name, PASSWORD, role, own if role == "township_leader" else None)
        session.commit()
    own_hh = next(h for t, h in rows if t == own)
    other_hh = next(h for t, h in rows if t == other)
    history = pd.read_parquet(Path(county) / "history" / "members.parquet", columns=["id_number"])
    ids = set(history["id_number"].dropna().astype(str))
    return Published(settings, weeks, results, champion, own, other, own_hh, other_hh, users, ids)
