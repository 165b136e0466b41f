"""The scoring core: pure functions from a household frame to a scored week (no I/O).

Both weekly engines (``serving.jobs.weekly`` on one machine, ``serving.jobs.spark_weekly`` per
township partition) call :func:`serving.core.scoring.score_week`; everything that reads or writes
files, the registry or the store lives in ``serving.jobs``.
"""
