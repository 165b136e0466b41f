"""The store: SQLAlchemy models, Alembic migrations, publishing and reading a week's results.

May import: ``serving.core``, ``serving.settings``, ``serving.private_files`` and the packages
under serving (features, models, monitoring); nothing above it (jobs, reads, access, API, pages).
"""
