"""Signing in against an app (TestClient or a live server's httpx client)."""

from __future__ import annotations

from tests.store.published import PASSWORD


def token(client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}
