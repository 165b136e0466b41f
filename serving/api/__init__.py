"""The JSON API under /api/v1 (FastAPI routers; the app itself is built in ``serving.app``)."""
