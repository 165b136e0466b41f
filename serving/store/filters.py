"""The watch list's filters: one value type for the pages and the API (both read the store with it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Filters:
    """The watch list's filters, read from the query string by the pages (``serving.web.pages.watchlist``)
    and the API (``serving.api.weeks``) alike; ``status`` (follow-up) is the pages' only."""

    township: str | None = None
    village: str | None = None
    level: str | None = None
    flags: list[str] = field(default_factory=list)
    status: str | None = None
    work: str | None = None  # new | known: this week's new work or the households already known
    sort: str = "rank"
    descending: bool = False

    def as_query(self) -> dict[str, Any]:
        return {
            "township": self.township,
            "village": self.village,
            "level": self.level,
            "flag": list(self.flags),
            "status": self.status,
            "work": self.work,
            "sort": self.sort if self.sort != "rank" else None,
            "dir": "desc" if self.descending else None,
        }
