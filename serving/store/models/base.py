"""The declarative base of every fanpin table (Alembic's ``target_metadata``) and the run statuses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

RUN_STATUSES = ("running", "published", "superseded", "failed")


class Base(DeclarativeBase):
    """Metadata of every fanpin table (Alembic's ``target_metadata``)."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}
