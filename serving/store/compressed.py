"""zstd for what the store keeps as bytes: week documents, and JSON columns that rarely repeat
(``CompressedJSON``: a registry version's row and members, ~2.4x smaller than their JSON)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator


def compress(data: bytes, level: int = 3) -> bytes:
    """One zstd frame (its size is in the frame header, so ``decompress`` needs nothing else)."""
    import pyarrow as pa

    return pa.Codec("zstd", compression_level=level).compress(data, asbytes=True)


def decompress(blob: bytes) -> bytes:
    import pyarrow as pa

    with pa.CompressedInputStream(pa.BufferReader(bytes(blob)), "zstd") as stream:
        return stream.read()


class CompressedJSON(TypeDecorator):
    """A JSON value stored as zstd-compressed JSON text (``bytea``/BLOB): read and written as the
    value itself, like ``sqlalchemy.JSON``, so queries and callers do not change."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        from serving.store.database import json_text

        return None if value is None else compress(json_text(value).encode())

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        import orjson

        return None if value is None else orjson.loads(decompress(value))
