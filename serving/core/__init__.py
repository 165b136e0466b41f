"""The scoring core: pure functions from a household frame to a scored week (no I/O).

- ``scoring``: ``score_week`` (probability, level, rules, watch list and ranks); both weekly engines
  (``serving.jobs.weekly`` on one machine, ``serving.jobs.spark_weekly`` per township partition)
  call it;
- ``watchlist``: which households make the week's list and why (capacities from
  ``serving/watchlist.yaml``);
- ``explanation_reuse``: which TreeSHAP values of last week still hold (same model, same split cell);
- ``case_lifecycle``: a case's stages, steps and clocks (``serving.cases.lifecycle`` re-exports it).

May import: features, models and monitoring only; everything that reads or writes files, the
registry or the store lives above it (``serving.jobs``, ``serving.store``).
"""
