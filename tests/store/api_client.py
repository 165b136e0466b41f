"""Signing in against an app (TestClient or a live server's httpx client)."""

from __future__ import annotations

from contextlib import contextmanager

from tests.store.published import PASSWORD


def token(client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@contextmanager
def signed_in_api(published):
    """A TestClient on the published store's app (API only) and a token per role."""
    from fastapi.testclient import TestClient

    from serving.app import create_app

    app = create_app(published.settings, web=False, champion=published.champion)
    with TestClient(app) as client:
        yield client, {role: token(client, name) for role, name in published.users.items()}
