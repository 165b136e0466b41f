"""Migrations: from empty to head, and from every earlier revision to head, on each database."""

from __future__ import annotations

from sqlalchemy import inspect

from serving.store import database
from serving.store.models import Base


def test_upgrade_from_empty_creates_every_table(store_url):
    engine = database.make_engine(store_url)
    assert database.current_revision(engine) is None
    database.upgrade(engine)
    assert database.current_revision(engine) == database.revisions()[-1]
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_upgrade_from_every_earlier_revision(store_url):
    from alembic import command

    engine = database.make_engine(store_url)
    revisions = database.revisions()
    assert len(revisions) >= 2
    for start in revisions:
        database.upgrade(engine, start)
        assert database.current_revision(engine) == start
        database.upgrade(engine)
        assert database.current_revision(engine) == revisions[-1]
        # Back to empty for the next starting point (downgrades are exercised too).
        config = database.alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_match_migrations(store_url):
    """Autogenerate finds nothing to add: the ORM models and the migration scripts agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = database.make_engine(store_url)
    database.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()
