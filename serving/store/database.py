"""Connecting to the store and bringing its schema up to date (Alembic, configured in code)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from serving.settings import Settings


def migrations_path() -> Path:
    """Folder of the Alembic scripts shipped with the package."""
    return Path(str(resources.files("serving").joinpath("migrations")))


def alembic_config(url: str):
    """An Alembic Config built in code: no alembic.ini at the repository root."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the weekly job writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Read pages through a memory map shared by every connection (the OS page cache) rather than a
    # read() call per page into each connection's small private cache: a page of the watch list
    # reads ~50 scattered household rows, which spilled the 2 MB default cache on every request.
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.close()


class EncodedJSON(str):
    """A value already encoded as JSON text, stored as it is (the weekly job encodes each
    explanation as it is made rather than holding the week's explanation dicts)."""


def json_text(value: Any) -> str:
    if isinstance(value, EncodedJSON):
        return str(value)
    # orjson: several times faster than json.dumps on a week of explanations and snapshots; NaN
    # becomes null (PostgreSQL's JSON type refuses NaN) and numpy values encode as numbers.
    import orjson

    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str).decode()


def _json_value(text: str | bytes) -> Any:
    import orjson

    return orjson.loads(text)


def make_engine(url: str) -> Engine:
    """An engine for a store URL (SQLite file or PostgreSQL via psycopg)."""
    json_codec = {"json_serializer": json_text, "json_deserializer": _json_value}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from serving.private_files import private_file

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            private_file(Path(path))  # names, phones and ID numbers: owner-only (0600)
        # As many connections as the server has request threads (AnyIO's default 40): a request
        # thread then never waits for one. SQLite connections are cheap: a file handle and a cache.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=10, max_overflow=30, **json_codec)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **json_codec)


@lru_cache(maxsize=8)
def _cached_engine(url: str) -> Engine:
    return make_engine(url)


def get_engine(settings: Settings) -> Engine:
    """The (process-wide, per URL) engine of the configured store."""
    if settings.resolved_database_url.startswith("sqlite"):
        settings.ensure_home()
    return _cached_engine(settings.resolved_database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (default: the latest)."""
    from alembic import command

    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when empty)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]
