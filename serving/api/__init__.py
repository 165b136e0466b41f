"""The JSON API under /api/v1 (FastAPI routers; the app itself is built in ``serving.app``).

May import: ``serving.reads``, ``serving.cases`` and everything under them; never the pages,
the app module's builders or the commands.
"""
