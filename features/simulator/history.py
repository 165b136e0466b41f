"""The registry's memory: records every version of a household or member row, every event,
survey and monitoring outcome while the county is simulated, and turns them into contract tables.

Versions are written only when a contract field changes, so a member whose state does not change
keeps one row for the whole history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import vocabulary as voc
from features.simulator import identity
from features.simulator import registry as R
from features.simulator import state as S
from features.simulator.calendar import Week, to_datetime64

EVENTS = tuple(voc.EVENT_TYPE)
EV = {code: i for i, code in enumerate(EVENTS)}
SOURCES = {
    "hospitalisation": "医保局", "major_illness_diagnosis": "医保局", "chronic_diagnosis": "卫健局",
    "disability_certified": "残联", "death": "民政局", "birth": "卫健局",
    "disaster_damage": "应急管理局", "accident": "医保局", "job_loss": "人社局",
    "job_start": "人社局", "school_enrolment": "教育局", "school_dropout": "教育局",
    "housing_downgrade": "住建局", "housing_rebuilt": "住建局", "business_failure": "农业农村局",
    "assistance_granted": "乡村振兴局",
}
MEMBER_FIELDS = ("rel", "edu", "school", "health", "dis_type", "dis_grade", "skill",
                 "mig_months_rep", "place_rep", "ins_med", "ins_pen")
HOUSEHOLD_FIELDS = ("category", "exit_year", "policy", "relocated", "crit_alone", "crit_dis",
                    "crit_major", "crit_rebuilt", "social", "land", "housing", "water", "credit",
                    "industry", "pwj", "head")
SURVEY_FIELDS = ("wage_income", "business_income", "property_income", "transfer_income",
                 "business_costs", "medical_out_of_pocket", "schooling_spending")


class Recorder:
    """Collects the registry history of the main simulated run (the oracle runs without one)."""

    def __init__(self, county: S.County, start_day: int, rng: np.random.Generator,
                 channels: R.Channels | None = None):
        self.rng = rng
        self.start_day = start_day
        self.channels = channels or R.Channels()
        self.survey_week = county.h["survey_week"]
        self.quarterly = rng.random(len(county.v["township"])) < self.channels.village_quarterly_share
        self.village = county.h["village"]
        self.lags: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # channel, days, back-dated
        self.off = np.zeros(county.n_households, np.int64)
        self.week: Week | None = None
        self.m_chunks: list[tuple[np.ndarray, np.ndarray, dict]] = []
        self.h_chunks: list[tuple[np.ndarray, np.ndarray, dict]] = []
        self.ev: list[tuple] = []
        self.surveys: list[tuple] = []
        self.entries: list[tuple] = []
        self.eliminations: list[tuple] = []
        self.lead_weeks: list[np.ndarray] = []  # weeks each entrant had met a criterion
        self.hardship: list[tuple[int, np.ndarray]] = []  # (Sunday, households in true hardship)
        self.h_end = np.full(county.n_households, -(10**9), np.int64)
        # the registry as it stood when the history starts: recorded that day
        used = np.flatnonzero(county.m["used"])
        self.m_chunks.append((used, np.full(len(used), start_day),
                              {**self._take(county.m, MEMBER_FIELDS, used), "recorded": np.full(len(used), start_day)}))
        hs = np.flatnonzero(county.h["used"])
        self.h_chunks.append((hs, np.full(len(hs), start_day),
                              {**self._take(county.h, HOUSEHOLD_FIELDS, hs), "recorded": np.full(len(hs), start_day)}))
        self.prev_m = {k: county.m[k].copy() for k in MEMBER_FIELDS}
        self.prev_used = county.m["used"].copy()
        self.prev_h = {k: county.h[k].copy() for k in HOUSEHOLD_FIELDS}
        self.prev_used_h = county.h["used"].copy()

    @staticmethod
    def _take(arrays: dict, keys, idx) -> dict:
        return {k: arrays[k][idx].copy() for k in keys}

    def begin_week(self, week: Week) -> None:
        """Each household's changes this week happen on one day of the week."""
        self.week = week
        self.off = self.rng.integers(0, 7, len(self.off))

    def day_of(self, households: np.ndarray) -> np.ndarray:
        # the first week may start before the history does: nothing is dated before its start
        return np.maximum(self.week.monday + self.off[households], self.start_day)

    def recording(self, channel: np.ndarray, households: np.ndarray, day: np.ndarray):
        """(kept, recorded day) of changes reaching the registry through ``channel``."""
        kept, recorded, back = R.delays(channel, day, self.survey_week[households],
                                        self.quarterly[self.village[households]], self.rng, self.channels)
        self.lags.append((channel[kept], (recorded - day)[kept], back[kept]))
        return kept, recorded

    def event(self, code: str, households, members=None, amount=None) -> None:
        households = np.asarray(households, dtype=np.int64)
        if len(households) == 0:
            return
        n = len(households)
        members = np.full(n, -1, np.int64) if members is None else np.asarray(members, np.int64)
        amount = np.full(n, np.nan) if amount is None else np.broadcast_to(np.asarray(amount, float), (n,)).copy()
        day = self.day_of(households)
        kept, recorded = self.recording(np.full(n, R.EVENT_CHANNEL[code]), households, day)
        if not kept.any():
            return  # the change never reached the registry
        self.ev.append((np.full(n, EV[code], np.int16)[kept], households[kept], members[kept],
                        day[kept], amount[kept], recorded[kept]))

    def survey(self, households, year: int, values: dict) -> None:
        day = self.day_of(households)
        _, recorded = self.recording(np.full(len(households), R.SURVEY), households, day)
        self.surveys.append((households, np.full(len(households), year), day, values, recorded))

    def entry(self, households, category, risks) -> None:
        self.entries.append((households, self.day_of(households), category, risks))

    def hardship_week(self, households: np.ndarray) -> None:
        """The households in true hardship this week (the simulator's truth, not the registry)."""
        self.hardship.append((self.week.sunday, np.asarray(households, np.int64)))

    def hardship_table(self, household_ids: np.ndarray) -> pd.DataFrame:
        """truth/hardship.parquet: one row per household and week (its Sunday) in true hardship."""
        if not self.hardship:
            return pd.DataFrame({"household_id": pd.Series([], dtype=object),
                                 "week_end": pd.Series([], dtype="datetime64[ns]")})
        hh = np.concatenate([x[1] for x in self.hardship])
        day = np.concatenate([np.full(len(x[1]), x[0], np.int64) for x in self.hardship])
        return pd.DataFrame({"household_id": household_ids[hh], "week_end": to_datetime64(day)})

    def elimination(self, households) -> None:
        self.eliminations.append((households, self.day_of(households)))

    def end_week(self, county: S.County) -> None:
        """Write a new version for every member or household whose contract fields changed."""
        m = county.m
        used = m["used"]
        changed = np.zeros(len(used), bool)
        for k in MEMBER_FIELDS:
            changed |= m[k] != self.prev_m[k]
        new = used & ~self.prev_used
        changed &= used & m["alive"] & ~new
        idx = np.flatnonzero(changed)
        if len(idx):
            # health, disability and school records come from departments, last year's migrant
            # months with the survey round, the rest from village checks
            dept = np.zeros(len(idx), bool)
            for k in ("health", "dis_type", "dis_grade", "school", "ins_med"):
                dept |= m[k][idx] != self.prev_m[k][idx]
            yearly = (m["mig_months_rep"][idx] != self.prev_m["mig_months_rep"][idx]) & ~dept
            channel = np.where(dept, R.DEPARTMENT, np.where(yearly, R.SURVEY, R.VILLAGE))
            self._version(self.m_chunks, m, MEMBER_FIELDS, idx, m["hh"][idx], channel)
        nidx = np.flatnonzero(new)
        if len(nidx):
            # births (registered by the health bureau) and members of a household formed this week
            self._version(self.m_chunks, m, MEMBER_FIELDS, nidx, m["hh"][nidx], np.full(len(nidx), R.DEPARTMENT))
        for k in MEMBER_FIELDS:
            if len(idx) or len(nidx):
                self.prev_m[k] = m[k].copy()
        self.prev_used = used.copy()
        h = county.h
        hch = np.zeros(county.n_households, bool)
        for k in HOUSEHOLD_FIELDS:
            hch |= h[k] != self.prev_h[k]
        hch |= h["used"] & ~self.prev_used_h  # a household formed this week
        hch &= h["size"] > 0
        self.prev_used_h = h["used"].copy()
        hidx = np.flatnonzero(hch)
        if len(hidx):
            # new 低保/特困 is pushed by civil affairs; everything else comes from village checks
            social = h["social"][hidx] != self.prev_h["social"][hidx]
            self._version(self.h_chunks, h, HOUSEHOLD_FIELDS, hidx, hidx,
                          np.where(social, R.DEPARTMENT, R.VILLAGE))
            for k in HOUSEHOLD_FIELDS:
                self.prev_h[k] = h[k].copy()
        gone = (h["size"] == 0) & h["used"] & (self.h_end < -10**8)
        self.h_end[gone] = self.day_of(np.flatnonzero(gone))

    def _version(self, chunks: list, arrays: dict, keys, idx: np.ndarray, households: np.ndarray,
                 channel: np.ndarray) -> None:
        """A new version of each row in ``idx``; it reaches the registry through its channel
        (a version is never lost: it arrives late at worst, at the next home visit)."""
        day = self.day_of(households)
        _, recorded = self.recording(channel, households, day)
        chunks.append((idx, day, {**self._take(arrays, keys, idx), "recorded": recorded}))

    # ------------------------------------------------------------------ tables
    def tables(self, county: S.County, household_ids: np.ndarray) -> dict[str, pd.DataFrame]:
        """The contract tables (English codes) of the recorded history."""
        return {
            "households": self._households(county, household_ids),
            "members": self._members(county, household_ids),
            "income_surveys": self._surveys(household_ids),
            "events": self._events(county, household_ids),
            "outcomes": self._outcomes(household_ids),
        }

    @staticmethod
    def _versions(chunks, end_day: np.ndarray, keys) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        idx = np.concatenate([c[0] for c in chunks])
        day = np.concatenate([c[1] for c in chunks]).astype(np.int64)
        vals = {k: np.concatenate([c[2][k] for c in chunks]) for k in keys}
        seq = np.arange(len(idx))
        order = np.lexsort((seq, day, idx))
        idx, day = idx[order], day[order]
        vals = {k: v[order] for k, v in vals.items()}
        # several changes of one row on one day: the last one stands
        last = np.ones(len(idx), bool)
        last[:-1] = (idx[1:] != idx[:-1]) | (day[1:] != day[:-1])
        idx, day = idx[last], day[last]
        vals = {k: v[last] for k, v in vals.items()}
        nxt = np.full(len(idx), -(10**9), np.int64)
        same = idx[1:] == idx[:-1]
        nxt[:-1] = np.where(same, day[1:], -(10**9))
        is_last = np.ones(len(idx), bool)
        is_last[:-1] = ~same
        nxt[is_last] = end_day[idx[is_last]]
        return idx, day, nxt, vals

    def _members(self, county: S.County, household_ids: np.ndarray) -> pd.DataFrame:
        m = county.m
        idx, day, nxt, vals = self._versions(self.m_chunks, m["died"], (*MEMBER_FIELDS, "recorded"))
        hh = m["hh"][idx]
        hid = household_ids[hh]
        born = m["born"][idx]
        female = m["sex"][idx] == 1
        mid = np.char.add(hid.astype(str), np.char.zfill(m["serial"][idx].astype(str), 2))
        ids = identity.id_numbers(born.astype("datetime64[D]"), female, self._id_serial(county)[idx])
        nm = identity.names(m["surname"][idx], m["given_a"][idx], m["given_b"][idx],
                            county.h["miao"][hh] & (m["eth"][idx] == 1))
        df = pd.DataFrame({
            "household_id": hid,
            "member_id": mid,
            "relation": np.array(S.RELATION)[vals["rel"]],
            "sex": np.array(S.SEX)[m["sex"][idx]],
            "birth_date": to_datetime64(born),
            "ethnicity": np.array(S.ETHNICITY)[m["eth"][idx]],
            "education": np.array(S.EDUCATION)[vals["edu"]],
            "schooling_status": np.array(S.SCHOOLING)[vals["school"]],
            "health": np.array(S.HEALTH)[vals["health"]],
            "disability_type": np.array(S.DISABILITY)[vals["dis_type"]],
            "disability_grade": pd.array(np.where(vals["dis_grade"] > 0, vals["dis_grade"], 0), dtype="Int64"),
            "labour_skill": np.array(S.SKILL)[vals["skill"]],
            "migrant_months": pd.array(vals["mig_months_rep"].astype(np.int64), dtype="Int64"),
            "migrant_place": np.array(S.PLACE)[vals["place_rep"]],
            "medical_insurance": pd.array(vals["ins_med"], dtype="boolean"),
            "pension_insurance": pd.array(vals["ins_pen"], dtype="boolean"),
            "name": nm,
            "id_number": ids,
            "valid_from": to_datetime64(day),
            "valid_to": to_datetime64(nxt),
            "recorded_at": to_datetime64(vals["recorded"]),
        })
        df.loc[vals["dis_grade"] == 0, "disability_grade"] = pd.NA
        return df.sort_values(["member_id", "valid_from"], kind="stable").reset_index(drop=True)

    @staticmethod
    def _id_serial(county: S.County) -> np.ndarray:
        # Distinct serials for people of the same sex born on the same day.
        m = county.m
        key = m["born"] * 2 + m["sex"]
        order = np.lexsort((np.arange(len(key)), key))
        sk = key[order]
        start = np.r_[0, np.flatnonzero(sk[1:] != sk[:-1]) + 1]
        rank = np.arange(len(sk)) - np.repeat(start, np.diff(np.r_[start, len(sk)]))
        serial = np.empty(len(key), np.int64)
        # a per-day offset so sequence numbers do not all start at 001; rank keeps them distinct
        serial[order] = rank + (sk * 2654435761) % 400
        return serial[m["person"]]  # a member who moved keeps their ID number

    def _households(self, county: S.County, household_ids: np.ndarray) -> pd.DataFrame:
        h = county.h
        idx, day, nxt, vals = self._versions(self.h_chunks, self.h_end, (*HOUSEHOLD_FIELDS, "recorded"))
        head = vals["head"]
        m = county.m
        head_name = identity.names(m["surname"][head], m["given_a"][head], m["given_b"][head],
                                   h["miao"][idx] & (m["eth"][head] == 1))
        head_id = identity.id_numbers(m["born"][head].astype("datetime64[D]"), m["sex"][head] == 1,
                                      self._id_serial(county)[head])
        exit_year = vals["exit_year"].astype(np.int64)
        df = pd.DataFrame({
            "household_id": household_ids[idx],
            "township": np.array(county.township_names)[h["township"][idx]],
            "village": np.array(county.village_names)[h["village"][idx]],
            "category": np.array(S.CATEGORY)[vals["category"]],
            "exit_year": pd.array(np.where(exit_year > 0, exit_year, 0), dtype="Int64"),
            "policy_status": np.array(S.POLICY)[vals["policy"]],
            "relocated": pd.array(vals["relocated"], dtype="boolean"),
            "critical_living_alone_elderly": pd.array(vals["crit_alone"], dtype="boolean"),
            "critical_disabled": pd.array(vals["crit_dis"], dtype="boolean"),
            "critical_major_illness": pd.array(vals["crit_major"], dtype="boolean"),
            "critical_housing_rebuilt": pd.array(vals["crit_rebuilt"], dtype="boolean"),
            "social_assistance": np.array(S.SOCIAL)[vals["social"]],
            "land_mu": vals["land"].astype(np.float64).round(1),
            "housing_grade": np.array(S.HOUSING)[vals["housing"]],
            "safe_water": pd.array(vals["water"], dtype="boolean"),
            "micro_credit": pd.array(vals["credit"], dtype="boolean"),
            "industry_project": pd.array(vals["industry"], dtype="boolean"),
            "public_welfare_job": pd.array(vals["pwj"], dtype="boolean"),
            "head_name": head_name,
            "head_id_number": head_id,
            # optional fields are sometimes left blank (the same households every version)
            "phone": np.where(h["phone"][idx] % 1000 < 1000 * self.channels.blank_phone, None,
                              identity.phones(h["phone"][idx])),
            "valid_from": to_datetime64(day),
            "valid_to": to_datetime64(nxt),
            "recorded_at": to_datetime64(vals["recorded"]),
        })
        df.loc[exit_year == 0, "exit_year"] = pd.NA
        return df.sort_values(["household_id", "valid_from"], kind="stable").reset_index(drop=True)

    def _surveys(self, household_ids: np.ndarray) -> pd.DataFrame:
        surveys = self.surveys or [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                                    {k: np.zeros(0) for k in SURVEY_FIELDS}, np.zeros(0, np.int64))]
        hh = np.concatenate([s[0] for s in surveys])
        df = pd.DataFrame({
            "household_id": pd.array(household_ids[hh], dtype="str"),
            "survey_year": pd.array(np.concatenate([s[1] for s in surveys]).astype(np.int64), dtype="Int64"),
            "survey_date": to_datetime64(np.concatenate([s[2] for s in surveys])),
            **{k: np.concatenate([s[3][k] for s in surveys]).astype(np.float64).round(0)
               for k in SURVEY_FIELDS},
            "recorded_at": to_datetime64(np.concatenate([s[4] for s in surveys])),
        })
        return df.sort_values(["household_id", "survey_year"], kind="stable").reset_index(drop=True)

    def _events(self, county: S.County, household_ids: np.ndarray) -> pd.DataFrame:
        code = np.concatenate([e[0] for e in self.ev]) if self.ev else np.zeros(0, np.int16)
        hh = np.concatenate([e[1] for e in self.ev]) if self.ev else np.zeros(0, np.int64)
        mem = np.concatenate([e[2] for e in self.ev]) if self.ev else np.zeros(0, np.int64)
        day = np.concatenate([e[3] for e in self.ev]) if self.ev else np.zeros(0, np.int64)
        amount = np.concatenate([e[4] for e in self.ev]) if self.ev else np.zeros(0)
        recorded = np.concatenate([e[5] for e in self.ev]) if self.ev else np.zeros(0, np.int64)
        hid = household_ids[hh]
        order = np.lexsort((code, mem, hid, day))
        code, hh, mem, day, amount, hid, recorded = (a[order] for a in (code, hh, mem, day, amount, hid, recorded))
        # optional fields left blank now and then (drawn after the simulation: the same stream
        # position every run)
        u = self.rng.random((2, len(code)))
        amount = np.where(u[0] < self.channels.blank_amount, np.nan, amount)
        m = county.m
        safe = np.maximum(mem, 0)
        mid = np.char.add(household_ids[m["hh"][safe]].astype(str),
                          np.char.zfill(m["serial"][safe].astype(str), 2)).astype(object)
        mid[mem < 0] = None
        types = np.array(EVENTS)[code]
        return pd.DataFrame({
            "event_id": np.char.add("E", np.char.zfill(np.arange(1, len(code) + 1).astype(str), 9)),
            "household_id": hid,
            "member_id": mid,
            "event_date": to_datetime64(day),
            "event_type": types,
            "amount": np.round(amount, 0),
            "source": np.where(u[1] < self.channels.blank_source, None,
                               np.array([SOURCES[t] for t in EVENTS], dtype=object)[code]) if len(code) else np.zeros(0, object),
            "recorded_at": to_datetime64(recorded),
        })

    def _outcomes(self, household_ids: np.ndarray) -> pd.DataFrame:
        entries = self.entries or [(np.zeros(0, np.int64), np.zeros(0, np.int64),
                                    np.zeros(0, np.int8), np.zeros((0, 5), np.int16))]
        hh = np.concatenate([e[0] for e in entries])
        day = np.concatenate([e[1] for e in entries])
        cat = np.concatenate([e[2] for e in entries])
        risks = np.concatenate([e[3] for e in entries])
        elim = np.full(len(hh), -(10**9), np.int64)
        if self.eliminations:
            ehh = np.concatenate([e[0] for e in self.eliminations])
            eday = np.concatenate([e[1] for e in self.eliminations])
            # each elimination closes the household's latest entry before it
            order = np.lexsort((day, hh))
            sorted_hh = hh[order]
            for h_, d_ in zip(ehh, eday, strict=True):  # a few thousand rows: not the hot path
                lo, hi = np.searchsorted(sorted_hh, [h_, h_ + 1])
                cand = order[lo:hi]
                cand = cand[(day[cand] <= d_) & (elim[cand] < -10**8)]
                if len(cand):
                    elim[cand[-1]] = d_
        risk_codes = np.array(list(S.RISK) + [None], dtype=object)
        df = pd.DataFrame({
            "household_id": household_ids[hh],
            "entry_date": to_datetime64(day),
            "monitoring_category": np.array(S.MONITORING)[cat],
            **{f"risk_type_{i + 1}": pd.array(
                risk_codes[np.where(risks[:, i] < 0, len(S.RISK), risks[:, i])], dtype="str")
               for i in range(5)},
            "elimination_date": to_datetime64(elim),
        })
        return df.sort_values(["household_id", "entry_date"], kind="stable").reset_index(drop=True)
