"""A week's drift-report samples stored as its current side plus a shared reference side.

``monitoring.evidently_report.report_samples`` gives one Parquet file with both samples (the
champion's reference and the week's current), enough to render the Evidently report later. The
reference side is the same every week a champion serves (same model, same seeded sample), so it is
stored once per content (``drift_references``, keyed by its SHA-256) and a week keeps only its
current side and the reference's digest: ~0.4 MB a week less. ``joined`` rebuilds the very table
the check wrote, so the report rendered from it is the report the check would have rendered.
"""

from __future__ import annotations

import hashlib
import io

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.orm import Session

from monitoring.evidently_report import SIDE
from serving.store import models as m


def _parquet(table) -> bytes:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def split(samples: bytes) -> tuple[bytes, bytes, str]:
    """(current side, reference side, the reference side's digest) of ``report_samples``."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(samples))
    reference = _parquet(table.filter(pc.equal(table[SIDE], "reference")))
    current = _parquet(table.filter(pc.equal(table[SIDE], "current")))
    return current, reference, hashlib.sha256(reference).hexdigest()


def joined(current: bytes, reference: bytes) -> bytes:
    """The two sides as one ``report_samples`` file again (reference rows first, as written)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ref, cur = pq.read_table(io.BytesIO(reference)), pq.read_table(io.BytesIO(current))
    return _parquet(pa.concat_tables([ref, cur]).replace_schema_metadata(cur.schema.metadata))


def stage(engine: Engine, samples: bytes | None) -> tuple[bytes | None, str | None]:
    """Store the reference side once (if new); returns (current side, digest) for the run's row.
    Samples without the two sides (none, or an older layout) are kept whole."""
    if not samples:
        return samples, None
    current, reference, digest = split(samples)
    with engine.begin() as conn:
        known = conn.execute(select(m.DriftReference.digest).where(m.DriftReference.digest == digest)).first()
        if known is None:
            conn.execute(insert(m.DriftReference).values(digest=digest, samples=reference))
    return current, digest


def samples_of(session: Session, result: m.DriftResult) -> bytes | None:
    """A run's full report samples (joined with its reference side when stored apart)."""
    if not result.report_samples or not result.report_reference:
        return result.report_samples
    reference = session.get(m.DriftReference, result.report_reference)
    return joined(result.report_samples, reference.samples) if reference is not None else None


def purge(engine: Engine) -> None:
    """Delete reference sides no run's drift result names any more. Deferred while a run is going:
    it may have stored its reference side and not yet the drift result naming it."""
    used = select(m.DriftResult.report_reference).where(m.DriftResult.report_reference.is_not(None))
    with engine.begin() as conn:
        if conn.execute(select(m.Run.id).where(m.Run.status == "running").limit(1)).first() is not None:
            return
        conn.execute(delete(m.DriftReference).where(m.DriftReference.digest.not_in(used)))
