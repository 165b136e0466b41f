"""The county's full state: arrays over member slots, households and villages.

Latent traits (frailty, work ethic, luck, ability) live here beside the registry fields; they
drive the dynamics and are never exported. Everything is a NumPy array so one weekly step is a
handful of vectorised operations over the whole county, and the oracle can stack many copies of
a household's future as one batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

# Coded fields are stored as small integers indexing these code tuples (vocabulary order).
CATEGORY = ("exited", "marginal", "general")
POLICY = ("continuing", "ended", "not_applicable")
SOCIAL = ("none", "dibao", "tekun")
HOUSING = ("A", "B", "C", "D")
RELATION = ("head", "spouse", "child", "child_in_law", "grandchild", "parent", "sibling", "other")
SEX = ("male", "female")
ETHNICITY = ("han", "miao", "yao", "tujia", "dong", "zhuang", "yi", "hui", "other")
EDUCATION = ("preschool", "illiterate", "primary", "junior", "senior", "vocational", "college")
SCHOOLING = ("not_in_school", "preschool", "compulsory", "senior_high", "vocational", "higher", "dropout")
HEALTH = ("healthy", "chronic", "major")
DISABILITY = ("none", "physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple")
SKILL = ("ordinary", "skilled", "weak", "lost", "none")
PLACE = ("none", "in_county", "in_province", "out_province")
MONITORING = ("unstable_exited", "marginal", "sudden_hardship")
RISK = (
    "illness",
    "disability",
    "schooling",
    "disaster",
    "accident",
    "business_failure",
    "unstable_work",
    "lack_labour",
    "housing",
    "water",
    "other",
)

NEVER = -(10**6)  # "week index" of something that never happened


@dataclass
class County:
    """Arrays of one county (or of a stacked batch of replicated futures)."""

    h: dict[str, np.ndarray]
    m: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    n_townships: int
    township_names: list[str]
    village_names: list[str]
    meta: dict = field(default_factory=dict)

    @property
    def n_households(self) -> int:
        return len(self.h["village"])

    @property
    def n_slots(self) -> int:
        return len(self.m["hh"])

    def copy(self) -> County:
        """A deep copy (the oracle snapshots the state at each cutoff)."""
        return County(
            {k: a.copy() for k, a in self.h.items()},
            {k: a.copy() for k, a in self.m.items()},
            {k: a.copy() for k, a in self.v.items()},
            self.n_townships,
            self.township_names,
            self.village_names,
            dict(self.meta),
        )

    def replicate(self, households: np.ndarray, replicas: int, spare: float = 0.06) -> County:
        """Stack ``replicas`` copies of the chosen households as one county.

        Villages and townships are replicated too (copy r of village v is a village of its own),
        so a disaster in one replica hits that replica's neighbours but not the other futures.
        Households are ordered replica-major: index ``r * len(households) + k``.
        """
        households = np.asarray(households)
        n = len(households)
        n_v = len(self.v["township"])
        hmap = np.full(self.n_households, -1, dtype=np.int64)
        hmap[households] = np.arange(n)
        members = np.flatnonzero(self.m["alive"] & (hmap[self.m["hh"]] >= 0))
        n_m = len(members)
        spare_n = int(n_m * spare) + 8
        mmap = np.full(self.n_slots, -1, dtype=np.int64)
        mmap[members] = np.arange(n_m)

        h = {k: np.tile(a[households], replicas) for k, a in self.h.items()}
        rep_h = np.repeat(np.arange(replicas), n)
        h["village"] = h["village"] + rep_h * n_v
        h["township"] = h["township"] + rep_h * self.n_townships
        h["head"] = mmap[h["head"]] + rep_h * (n_m + spare_n)

        m = {}
        for k, a in self.m.items():
            block = np.concatenate([a[members], np.zeros(spare_n, dtype=a.dtype)])
            m[k] = np.tile(block, replicas)
        rep_m = np.repeat(np.arange(replicas), n_m + spare_n)
        m["hh"] = hmap[m["hh"]] + rep_m * n  # spare slots point at household rep*n: unused (dead)
        m["hh"][m["hh"] < 0] = 0
        m["alive"][np.tile(np.arange(n_m + spare_n) >= n_m, replicas)] = False
        v = {k: np.tile(a, replicas) for k, a in self.v.items()}
        v["township"] = v["township"] + np.repeat(np.arange(replicas), n_v) * self.n_townships
        return County(
            h,
            m,
            v,
            self.n_townships * replicas,
            self.township_names,
            self.village_names,
            {**{k: v for k, v in self.meta.items() if k != "hh_alive"}, "replicas": replicas,
             "base_households": n},
        )


@lru_cache(maxsize=64)
def _lut(codes: tuple[int, ...]) -> np.ndarray:
    lut = np.zeros(256, bool)
    lut[list(codes)] = True
    return lut


def among(x: np.ndarray, codes: tuple[int, ...]) -> np.ndarray:
    """``np.isin`` for small integer codes, by table lookup (the hot path calls it often)."""
    return _lut(tuple(codes))[x]
