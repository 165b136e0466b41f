"""Load on GET /api/v1/households/{id}: 20 concurrent clients on loopback, bounded, p50/p95/p99.

Against a running server:
    python -m benchmarks.api_load --base-url http://127.0.0.1:8000 --username U --password-stdin
Without --base-url it starts `fanpin serve` on a free loopback port over the current FANPIN_HOME
store (it needs a published week, e.g. after `make demo`), creates a temporary county officer
and removes it afterwards. It stops by itself after --requests requests or --seconds seconds,
whichever comes first, and prints one JSON line (p50/p95/p99 in ms, throughput in requests/s).
"""

from __future__ import annotations

import argparse
import json
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def load_endpoint(base: str, token: str, endpoint: str, url_for: Callable[[int], tuple[str, dict]], *,
                  clients: int = 20, requests: int = 4000, seconds: float = 30.0) -> dict:
    """GET ``url_for(i)`` from ``clients`` threads until ``requests`` are made or ``seconds`` pass.

    Returns latency percentiles (ms), throughput and the error count; a timeout under overload counts
    as an error, not a crash.
    """
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = [0]
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            i = n
            while time.perf_counter() < stop_at:
                with lock:
                    if counter[0] >= requests:
                        return
                    counter[0] += 1
                path, params = url_for(i)
                i += clients
                t0 = time.perf_counter()
                try:
                    ok = client.get(path, params=params).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "endpoint": endpoint,
        "clients": clients,
        "requests": len(latencies),
        "errors": errors[0],
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
        "p99_ms": round(_percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "throughput_rps": round(len(latencies) / wall, 1) if wall else None,
        "seconds": round(wall, 2),
    }


def load(base: str, token: str, household_ids: list[str], week: str, *, clients: int = 20,
         requests: int = 4000, seconds: float = 30.0) -> dict:
    """Household detail pages, cycling through ``household_ids``."""
    return load_endpoint(
        base, token, "GET /api/v1/households/{id}",
        lambda i: (f"/api/v1/households/{household_ids[i % len(household_ids)]}", {"week": week}),
        clients=clients, requests=requests, seconds=seconds,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _local_server_and_user() -> tuple[subprocess.Popen, str, str, str]:
    from serving.auth import create_user
    from serving.settings import get_settings
    from serving.store.database import get_engine, session_factory, upgrade

    engine = get_engine(get_settings())
    upgrade(engine)
    username, password = f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    with session_factory(engine)() as session:
        create_user(session, username, password, "county_officer")
        session.commit()
    port = _free_port()
    fanpin = str(Path(sys.executable).parent / "fanpin")
    proc = subprocess.Popen([fanpin, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return proc, base, username, password


def _remove_user(username: str) -> None:
    from sqlalchemy import delete

    from serving.settings import get_settings
    from serving.store.database import get_engine
    from serving.store.models import User

    with get_engine(get_settings()).begin() as conn:
        conn.execute(delete(User).where(User.username == username))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url")
    parser.add_argument("--username")
    parser.add_argument("--password-stdin", action="store_true")
    parser.add_argument("--week", help="ISO week (default: the latest published)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)

    proc = None
    temp_user = None
    try:
        if args.base_url:
            base, username = args.base_url.rstrip("/"), args.username
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else ""
        else:
            proc, base, username, password = _local_server_and_user()
            temp_user = username
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": password}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        weeks = httpx.get(f"{base}/api/v1/weeks", headers=headers).json()
        if not weeks:
            raise SystemExit("no published week: run `fanpin weekly` first")
        week = args.week or weeks[0]["week"]
        page = httpx.get(f"{base}/api/v1/weeks/{week}/watchlist", params={"limit": 500}, headers=headers).json()
        ids = [i["household_id"] for i in page["items"]]
        # Warm up (first reads of a process, on-demand explanations are cached after this).
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for hid in ids:
                client.get(f"/api/v1/households/{hid}", params={"week": week})
        result = {"week": week, "households": len(ids),
                  **load(base, token["access_token"], ids, week, clients=args.clients, requests=args.requests,
                         seconds=args.seconds)}
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        if temp_user:
            _remove_user(temp_user)
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
