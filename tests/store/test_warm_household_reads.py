"""The household answer on a warm server (issue 32): one query, the same bytes as a cold read, and
never a stale answer after a week is published again (the answer, decoded registry versions and
township blobs are kept per run id)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from tests.store.api_client import bearer, signed_in_api


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_weeks(request, small_county, fitted_champion, tmp_path_factory):
    """Two weeks of the small county in a store of this module's own (it publishes a week again)."""
    from tests.conftest import STORE_WEEKS
    from tests.databases import fresh_database_url
    from tests.store.published import publish_weeks

    tmp = tmp_path_factory.mktemp(f"warm-{request.param}")
    with fresh_database_url(request.param, tmp) as url:
        yield small_county, fitted_champion, publish_weeks(small_county, fitted_champion, tmp / "home", url,
                                                          STORE_WEEKS[:2])


def _forget_everything() -> None:
    from serving.api import household_answer
    from serving.store import versions

    household_answer.clear()
    versions.clear()


class _Statements:
    """SQL statements any engine runs while counting (the audit log's batched writes left out)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if "audit_log" not in statement:
            self.seen.append(statement)


def test_a_warm_household_answer_is_one_query_and_byte_equal_to_a_cold_one(two_weeks):
    _, _, published = two_weeks
    week, household = published.weeks[-1], published.own_household
    path = f"/api/v1/households/{household}?week={week}"
    _forget_everything()
    with signed_in_api(published) as (client, tokens):
        auth = bearer(tokens["county_officer"])
        cold = client.get(path, headers=auth)
        assert cold.status_code == 200, cold.text
        visit = client.post(f"/api/v1/households/{household}/feedback", headers=auth,
                            json={"week": week, "outcome": "confirmed_at_risk", "risk_types": ["illness"],
                                  "note": "电话 13812345678"})
        assert visit.status_code == 201, visit.text
        count = _Statements()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            warm = client.get(path, headers=auth)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        assert warm.status_code == 200
        assert len(count.seen) == 1, count.seen
        assert "feedback" in count.seen[0] and "weeks" in count.seen[0]
        # The visit recorded after the answer was kept is in it, its note masked as for everyone.
        visits = warm.json()["feedback"]
        assert [v["outcome"] for v in visits] == ["confirmed_at_risk"] and "13812345678" not in warm.text
        _forget_everything()
        again = client.get(path, headers=auth)
        assert warm.content == again.content  # kept + spliced visits == built whole, byte for byte
        assert {k: v for k, v in cold.json().items() if k != "feedback"} == \
               {k: v for k, v in warm.json().items() if k != "feedback"}
        # A researcher's answer is kept apart: no identifiers, no notes.
        research = client.get(path, headers=bearer(tokens["researcher"])).json()
        assert research["household"].get("head_name") is None and research["feedback"][0]["note"] is None
        # Out of a township leader's scope, a kept answer is not found either.
        leader = bearer(tokens["township_leader"])
        other = f"/api/v1/households/{published.other_household}?week={week}"
        assert client.get(other, headers=auth).status_code == 200  # kept now
        assert client.get(other, headers=leader).status_code == 404


def _republish_with(two_weeks, week: str, household: str, probability: float) -> int:
    """Run ``week`` again (a new run id) and correct the household's probability in the new run,
    as a corrected export would."""
    from serving.jobs.weekly import run_week
    from serving.store import models as m
    from serving.store.database import get_engine

    county, champion, published = two_weeks
    run_week(county, week, published.settings, champion=champion, started_by="tests")
    engine = get_engine(published.settings)
    with engine.begin() as conn:
        run_id = conn.execute(select(m.Week.published_run_id).where(m.Week.week == week)).scalar_one()
        conn.execute(update(m.Score).where(m.Score.run_id == run_id, m.Score.household_id == household)
                     .values(probability=probability))
    return run_id


def test_a_week_published_again_is_never_answered_from_what_was_kept(two_weeks):
    _, _, published = two_weeks
    first, last = published.weeks
    household = published.own_household
    path = f"/api/v1/households/{household}?week={last}"
    with signed_in_api(published) as (client, tokens):
        auth = bearer(tokens["admin"])
        before = client.get(path, headers=auth).json()
        assert client.get(path, headers=auth).json() == before  # kept
        # The earlier week corrected: the later week's trend shows it.
        _republish_with(two_weeks, first, household, 0.123456)
        trend = client.get(path, headers=auth).json()["trend"]
        assert [p["probability"] for p in trend if p["week"] == first] == [0.123456]
        # The week itself corrected: its score shows it.
        _republish_with(two_weeks, last, household, 0.654321)
        after = client.get(path, headers=auth).json()
        assert after["score"]["probability"] == 0.654321
        assert after["facts"] == before["facts"] and after["household"] == before["household"]
