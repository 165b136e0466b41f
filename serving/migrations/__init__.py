"""Alembic migrations of the store (``fanpin db upgrade``); ``env.py`` binds them to
``serving.store.models``. Revisions keep their own table definitions (a later model change must
not rewrite an old revision); a data migration may call the store's encoders of its time."""
