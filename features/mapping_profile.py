"""A county's mapping profile: its own headers and coded values, mapped to the data contract.

Some registry systems name columns their own way (农户编码 for 户编号) or write coded values the
contract does not know (一般户 for 一般农户). Rather than reshaping every week's files by hand, a
county keeps one YAML file::

    # fanpin mapping profile
    households:
      headers:
        农户编码: household_id      # header as written -> contract column
      values:
        category:
          一般户: general           # label as written -> contract code
    members:
      headers:
        证件号: id_number

``fanpin suggest-profile`` proposes one from an export (``features.profile_suggestion``); a person
confirms it, and ``fanpin validate --profile`` / ``fanpin weekly --profile`` (or the
``FANPIN_PROFILE_PATH`` setting) read with it. Headers and labels are matched after the same
normalisation as everywhere else (full-width, spaces, case).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from features import contract
from features import normalising as norm


class ProfileError(ValueError):
    """A profile that cannot be used; one line naming the file and the entry."""


@dataclass(frozen=True)
class Profile:
    """Per table: header -> contract column, and column -> {label -> code}."""

    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    path: str | None = None
    sha256: str | None = None

    def header_map(self, table: str) -> dict[str, str]:
        """Normalised header -> contract column for ``table``."""
        return {norm.header_key(h): c for h, c in self.headers.get(table, {}).items()}

    def value_map(self, table: str, column: str) -> dict[str, str]:
        """Normalised label -> code for one column (empty when the profile has none)."""
        return {norm.squeeze(str(k)).lower(): str(v) for k, v in self.values.get(table, {}).get(column, {}).items()}

    def record(self) -> dict[str, Any] | None:
        """What a run records about the profile it read with."""
        if self.path is None:
            return None
        return {"path": self.path, "sha256": self.sha256,
                "headers": sum(len(h) for h in self.headers.values()),
                "values": sum(len(v) for t in self.values.values() for v in t.values())}

    def to_yaml(self) -> str:
        body: dict[str, Any] = {}
        for table in contract.TABLES:
            entry: dict[str, Any] = {}
            if self.headers.get(table):
                entry["headers"] = dict(self.headers[table])
            if self.values.get(table):
                entry["values"] = {c: dict(v) for c, v in self.values[table].items()}
            if entry:
                body[table] = entry
        text = yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
        return "# fanpin mapping profile: a county's headers and labels -> the data contract\n" + text


EMPTY = Profile()


def parse_profile(text: str, name: str = "profile") -> Profile:
    """A profile from its YAML text; ``ProfileError`` names the entry that is wrong."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ProfileError(f"{name}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{name}: expected table names at the top level / 顶层应为表名")
    headers: dict[str, dict[str, str]] = {}
    values: dict[str, dict[str, dict[str, str]]] = {}
    for table, entry in data.items():
        if table not in contract.TABLES:
            raise ProfileError(f"{name}: unknown table {table!r} (one of {', '.join(contract.TABLES)}) / 未知表")
        columns = {f.name: f for f in contract.fields(table)}
        entry = entry or {}
        if not isinstance(entry, dict) or set(entry) - {"headers", "values"}:
            raise ProfileError(f"{name}: {table}: expected 'headers' and 'values' / 应为 headers 和 values")
        for header, column in (entry.get("headers") or {}).items():
            if column not in columns:
                raise ProfileError(f"{name}: {table}.headers.{header}: unknown column {column!r} / 未知列")
            headers.setdefault(table, {})[str(header)] = column
        for column, labels in (entry.get("values") or {}).items():
            f = columns.get(column)
            if f is None or not isinstance(labels, dict):
                raise ProfileError(f"{name}: {table}.values.{column}: unknown column or not a mapping / 未知列")
            allowed = {str(k) for k in (f.allowed or {})} if f.kind == "code" else None
            for label, code in labels.items():
                if allowed is not None and str(code) not in allowed:
                    raise ProfileError(f"{name}: {table}.values.{column}.{label}: {code!r} is not a code of "
                                       f"{column} ({', '.join(sorted(allowed))}) / 不是允许的代码")
            values.setdefault(table, {})[column] = {str(k): str(v) for k, v in labels.items()}
    return Profile(headers, values)


def load_profile(path: str | Path | None) -> Profile:
    """The profile at ``path`` (EMPTY for None), with its path and SHA-256 for the run record."""
    if path is None:
        return EMPTY
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ProfileError(f"{path}: cannot read the profile ({error.strerror}) / 无法读取映射配置") from None
    profile = parse_profile(data.decode("utf-8", errors="replace"), path.name)
    return Profile(profile.headers, profile.values, str(path), hashlib.sha256(data).hexdigest())


def map_values(raw: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """A raw column with the profile's labels replaced by their codes (other cells as written)."""
    if not mapping:
        return raw

    def one(value: object) -> object:
        if not isinstance(value, str):
            return value
        return mapping.get(norm.squeeze(value).lower(), value)

    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    mapped = pd.Series([one(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped.to_numpy()[codes], index=raw.index, dtype=object)
