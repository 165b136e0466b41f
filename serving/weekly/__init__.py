"""The weekly run's own pieces, called by ``serving.jobs.weekly`` (and the Spark engine):

- ``history``: laying a week's export over the accumulated registry history;
- ``completeness``: the week's counts against the last published week, before publishing;
- ``explaining``: the watch list's explanations in batches, and on demand for one household;
- ``department_feed``: the departments' warnings the week raises.

May import: ``serving.store``, ``serving.core`` and the packages under serving
(features, models, monitoring); never the jobs, reads, cases, access, API or pages.
"""
