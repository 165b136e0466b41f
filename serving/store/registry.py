"""Registry rows and members stored only when they change.

Between two weeks the registry row and members of almost every household are the same; storing
them again each week was most of the store's growth. Each week the job digests every household's
registry row and members at the cutoff (vectorised hashes of every column), compares them with
the digests the previous published week kept (``serving.store.week_inputs``), and stores a
``RegistryVersion`` only for a household whose digest changed (or that is new), under the run's
id. A score row names the version it showed (``Score.registry_run``), so any published week reads
exactly what it showed then, and versions are immutable: re-running a past week or purging a
superseded run never changes what another week shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, delete, exists, select

from features.json_safe import records
from serving.store import models as m

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd constant: members' sum of hashes kept apart from the row's


@dataclass
class Registry:
    """The registry of the week's scored households at the cutoff, as the pages show it."""

    households: pd.DataFrame  # current row per household (indexed by household id; valid_to dropped)
    members: pd.DataFrame  # current members, sorted by household then member (valid_to dropped)


def at_cutoff(tables: dict[str, pd.DataFrame], household_ids: pd.Series, cutoff: pd.Timestamp) -> Registry:
    """Each household's registry row and members valid at the cutoff (latest version wins)."""
    from features.household_frame import valid_at

    ids = set(household_ids)
    hh = valid_at(tables["households"], cutoff)
    hh = hh.loc[hh["household_id"].isin(ids)].sort_values("valid_from").drop_duplicates("household_id", keep="last")
    hh = hh.drop(columns=["valid_to"]).set_index("household_id", drop=False)
    members = valid_at(tables["members"], cutoff)
    members = members.loc[members["household_id"].isin(ids)].sort_values("valid_from")
    members = members.drop_duplicates("member_id", keep="last").drop(columns=["valid_to"])
    members = members.sort_values(["household_id", "member_id"]).reset_index(drop=True)
    return Registry(hh, members)


def digests(registry: Registry, household_ids: pd.Series) -> np.ndarray:
    """A 64-bit digest per household (in ``household_ids`` order) of its registry row and members:
    every column's value and type, so any change to what the page shows changes the digest."""
    ids = pd.Index(household_ids)
    row_hash = pd.util.hash_pandas_object(registry.households, index=False).to_numpy(dtype="uint64")
    by_row = pd.Series(row_hash, index=registry.households.index).reindex(ids, fill_value=0).to_numpy(dtype="uint64")
    member_hash = pd.util.hash_pandas_object(registry.members, index=False).to_numpy(dtype="uint64")
    # Sum of member hashes (wrapping) with a count: the members are sorted, so the set is the list.
    grouped = pd.DataFrame({"h": member_hash, "household_id": registry.members["household_id"].to_numpy()})
    sums = grouped.groupby("household_id", sort=False)["h"].agg(["sum", "size"])
    member_sum = sums["sum"].reindex(ids, fill_value=0).to_numpy(dtype="uint64")
    member_n = sums["size"].reindex(ids, fill_value=0).to_numpy(dtype="uint64")
    with np.errstate(over="ignore"):
        return by_row ^ (member_sum * _MIX + member_n)


def versions_to_store(previous: pd.DataFrame | None, household_ids: pd.Series, digest: np.ndarray,
                      run_id: int) -> np.ndarray:
    """The run each household's version is read from: the previous week's when the digest is
    unchanged, else this run (which then stores it). ``previous``: household_id, registry_run,
    registry_digest of the previous published week (None when there is none)."""
    run = np.full(len(household_ids), run_id, dtype="int64")
    if previous is None or previous.empty:
        return run
    # Positions, not a reindex: a reindex with gaps turns the 64-bit digests into floats.
    pos = pd.Index(previous["household_id"]).get_indexer(pd.Index(household_ids))
    found = pos >= 0
    before = previous["registry_digest"].to_numpy(dtype="int64")
    same = found & (before[np.where(found, pos, 0)] == digest.view("int64"))
    run[same] = previous["registry_run"].to_numpy(dtype="int64")[pos[same]]
    return run


def version_rows(registry: Registry, household_ids: pd.Series, chunk: int = 20_000) -> Iterator[dict[str, Any]]:
    """New ``RegistryVersion`` rows (without ``since_run_id``) for these households, a chunk at a
    time: the registry row as ``identity`` (empty when missing) and the members as a list."""
    wanted = pd.Index(household_ids).sort_values()
    # Hash-based selection, then binary-searched slices of the sorted members (``np.isin`` on
    # string arrays is quadratic: it was most of a week's staging).
    members = registry.members.loc[registry.members["household_id"].isin(wanted)]
    member_ids = members["household_id"].to_numpy(dtype=object)
    for start in range(0, len(wanted), chunk):
        part = wanted[start:start + chunk]
        lo = np.searchsorted(member_ids, part[0], side="left")
        hi = np.searchsorted(member_ids, part[-1], side="right")
        by_household: dict[str, list[dict[str, Any]]] = {}
        for rec in records(members.iloc[lo:hi]):
            by_household.setdefault(rec["household_id"], []).append(rec)
        present = registry.households.index.intersection(part)
        identity = {r["household_id"]: r for r in records(registry.households.loc[present])}
        for household_id in part:
            yield {"household_id": household_id, "identity": identity.get(household_id, {}),
                   "members": by_household.get(household_id, [])}


def purge(engine: Engine, dead: list[int]) -> None:
    """Delete versions first stored by dead runs that no remaining score row points at (their
    scores are purged first; a later week still showing such a version keeps it). Deferred while
    any run is going."""
    if not dead:
        return
    with engine.connect() as conn:
        # A running run may already have compared against versions it has not yet pointed its
        # score rows at: collect later, when no run is going.
        if conn.execute(select(m.Run.id).where(m.Run.status == "running").limit(1)).first() is not None:
            return
    # Only published runs keep score rows here (dead runs' rows went first, none is running): probing
    # each one's primary key (run, household) needs no index of scores by household.
    v, s = m.RegistryVersion, m.Score
    live = select(m.Run.id).where(m.Run.status == "published")
    used = exists().where(and_(s.run_id.in_(live), s.household_id == v.household_id,
                               s.registry_run == v.since_run_id))
    with engine.begin() as conn:
        conn.execute(delete(v).where(v.since_run_id.in_(dead), ~used))


def version_of(conn, household_id: str, since_run_id: int | None) -> tuple[dict[str, Any], list[Any]] | None:
    """(identity, members) of one stored version."""
    if since_run_id is None:
        return None
    row = conn.execute(select(m.RegistryVersion.identity, m.RegistryVersion.members).where(
        m.RegistryVersion.household_id == household_id, m.RegistryVersion.since_run_id == since_run_id)).first()
    return (row[0], row[1]) if row else None
