"""A week's per-household JSON documents (explanations, rule triggers) as one compressed blob per
township, kind and run, instead of a JSON row per household and week.

Listed households' explanations were the largest part of a week's growth (~7.7 KB of JSON each);
one township's explanations share their keys, labels and assistance measures' wording, so zstd
over the whole township stores them in about a twentieth of that. A blob is a zstd stream of
lines ``household_id <TAB> JSON``; the JSON is the text the row used to hold, so a document read
back is the dict the row gave. The weekly job writes the blobs as explanations are made (a
township's stream holds only its compressed bytes), and readers cache a decoded township per run
(a published run never changes). Explanations computed on demand for a page stay rows of
``explanations``: they are added after the week is published.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from serving.store import models as m
from serving.store.compressed import compress, decompress
from serving.store.database import json_text
from serving.store.run_cache import per_run

EXPLANATION = "explanation"
RULE_TRIGGERS = "rule_triggers"
LEVEL = 9  # zstd level of the stored blob: a fifth smaller than the stream's default, ~50 MB/s


class DocumentWriter:
    """Per-township zstd streams of one kind of document, filled household by household."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._streams: dict[str, tuple[Any, Any]] = {}
        self._counts: dict[str, int] = {}

    def add(self, township: str, household_id: str, document: Any) -> None:
        """Append one household's document (a dict, or JSON text already encoded)."""
        import pyarrow as pa

        if township not in self._streams:
            sink = pa.BufferOutputStream()
            self._streams[township] = (sink, pa.CompressedOutputStream(sink, "zstd"))
            self._counts[township] = 0
        line = f"{household_id}\t{json_text(document)}\n".encode()
        self._streams[township][1].write(line)
        self._counts[township] += 1

    def rows(self) -> Iterator[dict[str, Any]]:
        """``WeekDocument`` rows (without ``run_id``), one per township; closes the streams.

        The streams compress fast as documents arrive (pyarrow's stream takes no level); each
        township is then compressed again at ``LEVEL``, one township in memory at a time."""
        for township in sorted(self._streams):
            sink, stream = self._streams.pop(township)
            stream.close()
            # One plain zstd frame: ``decode``'s streaming reader reads it like the stream's.
            blob = compress(decompress(sink.getvalue().to_pybytes()), LEVEL)
            yield {"township": township, "kind": self.kind, "households": self._counts[township], "blob": blob}


def encode(kind: str, documents: Iterable[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    """``WeekDocument`` rows of (township, household id, document) triples."""
    writer = DocumentWriter(kind)
    for township, household_id, document in documents:
        writer.add(township, household_id, document)
    return list(writer.rows())


def decode(blob: bytes) -> dict[str, str]:
    """household id -> its document's JSON text."""
    out = {}
    for line in io.StringIO(decompress(blob).decode()):
        household_id, _, document = line.rstrip("\n").partition("\t")
        out[household_id] = document
    return out


def _loads(text: str) -> Any:
    import orjson

    return orjson.loads(text)


# Bounded by the decoded JSON text held (explanations ~7.7 KB each): 256 MB per process.
@per_run(256 * 2**20, getsizeof=lambda texts: 64 + sum(len(t) for t in texts.values()))
def _township(session: Session, run_id: int, township: str, kind: str) -> dict[str, str]:
    blob = session.execute(select(m.WeekDocument.blob).where(
        m.WeekDocument.run_id == run_id, m.WeekDocument.township == township, m.WeekDocument.kind == kind)).scalar()
    return decode(blob) if blob is not None else {}


def document(session: Session, run_id: int, township: str, kind: str, household_id: str) -> Any | None:
    """One household's document of a run (a fresh dict: callers may change it), or None."""
    text = _township(session, run_id, township, kind).get(household_id)
    return None if text is None else _loads(text)


def documents_of_run(engine: Engine, run_id: int, kind: str, household_ids: Iterable[str]) -> dict[str, Any]:
    """household id -> document, for those of ``household_ids`` the run holds (whatever township)."""
    wanted = set(household_ids)
    found: dict[str, Any] = {}
    with engine.connect() as conn:
        blobs = conn.execute(select(m.WeekDocument.blob).where(m.WeekDocument.run_id == run_id,
                                                               m.WeekDocument.kind == kind)).scalars()
        for blob in blobs:
            for household_id, text in decode(blob).items():
                if household_id in wanted:
                    found[household_id] = _loads(text)
    return found


def explanation(session: Session, run_id: int, household_id: str, township: str | None = None) -> Any | None:
    """A household's explanation in a run: the weekly job's (listed households), else one computed
    on demand for a page (``explanations`` rows), else None."""
    if township is None:
        township = session.scalar(select(m.Score.township).where(m.Score.run_id == run_id,
                                                                 m.Score.household_id == household_id))
        if township is None:
            return None
    found = document(session, run_id, township, EXPLANATION, household_id)
    if found is not None:
        return found
    row = session.get(m.Explanation, (run_id, household_id))
    return row.payload if row else None
