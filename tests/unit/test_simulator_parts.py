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
