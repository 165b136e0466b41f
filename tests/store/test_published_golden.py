"""No behaviour change from the speed work (issue 32): what the small county's three published weeks
hold and what the API answers about them are byte-equal to what main published before it.

The digests in ``golden_published.json`` were computed by this file on main's code of 2026-12-07
(commit 3958e25, before issue 32), on SQLite and PostgreSQL. Each part has its own digest, so a
failure names what changed. A deliberate change of output recomputes them
(``FANPIN_GOLDEN_WRITE=1`` writes the file) and says why in its commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.store.api_client import bearer, signed_in_api

GOLDEN = Path(__file__).with_name("golden_published.json")
# What differs between two publications of the same weeks: when and by which run, not what.
VOLATILE = {"run_id", "created_at", "published_at", "started_at", "finished_at", "seconds", "registry_run",
            "at", "updated_at", "token"}
DETAILS_PER_WEEK = 25  # listed households' detail answers per week, plus as many off the list


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _digest(value) -> str:
    text = json.dumps(_strip(value), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def store_parts(published) -> dict:
    """The published weeks' score rows, watch-list rows and week documents (decoded), per week."""
    from sqlalchemy import select

    from serving.store import models as m
    from serving.store.compressed import decompress
    from serving.store.database import get_engine

    engine = get_engine(published.settings)
    scores, listed, documents = {}, {}, {}
    with engine.connect() as conn:
        for week in published.weeks:
            run_id = conn.execute(select(m.Week.published_run_id).where(m.Week.week == week)).scalar_one()
            score = m.Score.__table__
            rows = conn.execute(select(score).where(score.c.run_id == run_id)
                                .order_by(score.c.household_id)).mappings().all()
            scores[week] = [{k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
            entry = m.WatchlistEntry.__table__
            listed[week] = [dict(r) for r in conn.execute(select(entry).where(entry.c.run_id == run_id)
                                                          .order_by(entry.c.household_id)).mappings()]
            doc = m.WeekDocument.__table__
            decoded = []
            for r in conn.execute(select(doc).where(doc.c.run_id == run_id)
                                  .order_by(doc.c.kind, doc.c.township)).mappings():
                decoded.append({**{k: v for k, v in r.items() if k != "blob"},
                                "text": decompress(r["blob"]).decode()})
            documents[week] = decoded
    return {"scores": scores, "watchlist_rows": listed, "week_documents": documents}


def api_parts(published) -> dict:
    """The API's answers as an admin: weeks, every week's whole list, households' details, model."""
    from sqlalchemy import select

    from serving.store import models as m
    from serving.store.database import get_engine

    engine = get_engine(published.settings)
    out: dict = {"lists": {}, "details": {}}
    with signed_in_api(published) as (client, tokens):
        auth = bearer(tokens["admin"])
        out["weeks"] = client.get("/api/v1/weeks", headers=auth).json()
        for week in published.weeks:
            pages, offset = [], 0
            while True:
                page = client.get(f"/api/v1/weeks/{week}/watchlist?offset={offset}&limit=500", headers=auth).json()
                pages.append(page)
                offset += 500
                if offset >= page["total"]:
                    break
            out["lists"][week] = pages
            with engine.connect() as conn:
                run_id = conn.execute(select(m.Week.published_run_id).where(m.Week.week == week)).scalar_one()
                ids = conn.execute(select(m.Score.household_id, m.Score.on_watchlist).where(m.Score.run_id == run_id)
                                   .order_by(m.Score.household_id)).all()
            on = [h for h, x in ids if x][:DETAILS_PER_WEEK]
            off = [h for h, x in ids if not x][:DETAILS_PER_WEEK]
            out["details"][week] = {h: client.get(f"/api/v1/households/{h}?week={week}", headers=auth).json()
                                    for h in on + off}
    return out


def digests(published) -> dict[str, str]:
    parts = {**store_parts(published), **{f"api_{k}": v for k, v in api_parts(published).items()}}
    return {name: _digest(value) for name, value in sorted(parts.items())}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def own_published_store(request, small_county, fitted_champion, tmp_path_factory):
    """The three weeks published into a store of this test's own: the session's shared store is
    written by other tests (visits, cases, quarantine rows, reports), which the API's household
    details show, so comparing it would depend on which tests ran before on the same worker."""
    from tests.conftest import STORE_WEEKS
    from tests.databases import fresh_database_url
    from tests.store.published import publish_weeks

    tmp = tmp_path_factory.mktemp(f"golden-{request.param}")
    with fresh_database_url(request.param, tmp) as url:
        yield publish_weeks(small_county, fitted_champion, tmp / "home", url, STORE_WEEKS)


def test_published_weeks_and_api_answers_are_byte_equal_to_before(own_published_store):
    published_store = own_published_store
    kind = "postgres" if published_store.settings.database_url.startswith("postgresql") else "sqlite"
    found = digests(published_store)
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if os.environ.get("FANPIN_GOLDEN_WRITE") == "1":
        golden[kind] = found
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"wrote the {kind} digests")
    assert kind in golden, f"no golden digests for {kind}"
    changed = [name for name in golden[kind] if found.get(name) != golden[kind][name]]
    assert not changed, f"published output changed on {kind}: {changed}"
