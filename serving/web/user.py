"""The person behind a browser session (what ``serving.web.identity`` makes from an API token and
every page handler receives through ``serving.web.deps``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebUser:
    """The person behind a browser session."""

    id: int
    username: str
    role: str
    township: str | None
    token: str

    @property
    def principal(self):
        """The ``serving.access.auth.Principal`` the role matrix and masking functions take."""
        from serving.access.auth import Principal

        return Principal(self.id, self.username, self.role, self.township)
