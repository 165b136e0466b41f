"""Small parts of the simulator: identifiers, the calendar, the AUC, replication of futures."""

from __future__ import annotations

from datetime import date

import numpy as np
from sklearn.metrics import roc_auc_score

from features.simulator.calendar import weeks_between
from features.simulator.identity import check_digit_ok, id_numbers
from features.simulator.oracle import auc


def test_id_numbers_have_valid_check_digits():
    assert check_digit_ok("11010519491231002X")  # the GB 11643 textbook example
    assert not check_digit_ok("110105194912310021")
    ids = id_numbers(np.array(["1949-12-31", "2001-02-03"], dtype="datetime64[D]"),
                     np.array([True, False]), np.array([0, 7]))
    assert all(check_digit_ok(i) for i in ids)
    assert ids[0][6:14] == "19491231" and int(ids[0][16]) % 2 == 0
    assert ids[1][6:14] == "20010203" and int(ids[1][16]) % 2 == 1


def test_weeks_are_iso_weeks_ending_on_sunday():
    weeks = weeks_between(date(2019, 1, 1), date(2025, 12, 31))
    assert weeks[0].label == "2019-W01"
    assert weeks[-1].label == "2025-W52"
    assert sum(w.school_start for w in weeks) == 7
    assert sum(w.year_start for w in weeks) == 6


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    score = rng.integers(0, 5, 400) / 4
    label = rng.random(400) < 0.2 + 0.5 * score
    assert abs(auc(score, label) - roc_auc_score(label, score)) < 1e-12


def test_replicated_futures_are_independent_copies():
    from features.simulator.county import streams
    from features.simulator.parameters import Parameters
    from features.simulator.population import build_county
    from features.simulator.step import advance, prepare

    p = Parameters()
    weeks = weeks_between(date(2024, 1, 1), date(2024, 3, 31))
    rng = streams(0)
    c = build_county(300, weeks[0].monday, rng["population"])
    prepare(c, weeks[0], rng["population"], p)
    sample = np.array([3, 10, 50])
    rep = c.replicate(sample, 4)
    assert rep.n_households == 12
    assert (rep.h["size"].reshape(4, 3) == c.h["size"][sample]).all()
    alive = rep.m["alive"]
    assert np.bincount(rep.m["hh"][alive], minlength=12).tolist() == rep.h["size"].tolist()
    assert len(np.unique(rep.h["village"])) == 4 * len(np.unique(c.h["village"][sample]))
    for week in weeks[1:]:
        advance(rep, week, rng["oracle"], p, None)
    assert (rep.h["inc_ema"].reshape(4, 3).std(0) > 0).any()  # futures differ


def test_registry_channels_delay_lose_and_backdate():
    """Department pushes arrive in days to weeks, village checks within a month or a quarter,
    migrant work at the yearly survey unless reported; some rows are back-dated by months."""
    from features.simulator import registry as R

    rng = np.random.default_rng(0)
    n = 20000
    day = np.full(n, 19000)  # 2022-01-08
    out = {}
    for ch in (R.DEPARTMENT, R.VILLAGE, R.SELF_REPORT, R.SURVEY, R.SYSTEM):
        kept, rec, back = R.delays(np.full(n, ch), day, np.full(n, 48), np.zeros(n, bool), rng, R.Channels())
        lag = rec - day
        assert (lag >= 0).all()
        out[ch] = (kept.mean(), np.median(lag[~back]), back.mean())
    k = R.Channels()
    assert abs(out[R.DEPARTMENT][0] - (1 - k.department_loss)) < 0.01
    assert abs(out[R.SELF_REPORT][0] - (1 - k.self_report_loss)) < 0.01
    assert out[R.SYSTEM][0] == 1.0 and out[R.SYSTEM][2] == 0.0
    assert 5 <= out[R.DEPARTMENT][1] <= 20  # days to weeks
    assert out[R.VILLAGE][1] <= 30  # monthly checks (all villages monthly here)
    assert out[R.SELF_REPORT][1] > 200  # most wait for the survey in week 48
    assert abs(out[R.DEPARTMENT][2] - k.backdated_share) < 0.01


def test_next_survey_day_is_this_years_or_next():
    from features.simulator.registry import next_survey_day

    jan = np.array([19000])  # 2022-01-08
    dec = np.array([19350])  # 2022-12-24
    first = next_survey_day(jan, np.array([48]))[0]
    assert 19000 < first < 19358 and next_survey_day(dec, np.array([48]))[0] > 19358
