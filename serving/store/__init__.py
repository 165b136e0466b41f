"""The store: SQLAlchemy models, Alembic migrations, publishing and reading a week's results."""
