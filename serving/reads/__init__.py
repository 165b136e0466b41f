"""Reads shared by the JSON API and the web pages.

- ``household``: one household's read (week resolution, bundle, township scope, the stored or
  on-demand explanation, the audited read);
- ``drift_reports``: a week's Evidently drift report, rendered on first view and kept.

May import: ``serving.access``, ``serving.jobs``' layer and everything under it (``weekly``,
``documents``, ``store``, ``core``); never the API, the pages, the app or the commands.
"""
