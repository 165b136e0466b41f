"""Bounded load on the JSON API and the web watch-list page, on loopback: p50/p95/p99 and throughput.

Against a running server:
    python -m benchmarks.api_load --base-url http://127.0.0.1:8000 --username U --password-stdin
Without --base-url it starts `fanpin serve` on a free loopback port over the current FANPIN_HOME
store (it needs a published week, e.g. after `make demo`), creates a temporary county officer
and removes it afterwards. Each endpoint is loaded for --seconds seconds (and by the Python
client also at most --requests requests), then the script stops by itself and prints one JSON line.

The load generator is `wrk` (Debian package `wrk`) when it is installed: a C client that costs
the 2-core machine a few percent of a core, so the latency measured is the server's. Without it
the script falls back to Python threads (httpx); on a 2-core machine those threads take about
as much CPU per request as the server does and wait on each other's GIL, so their latency is
several times the server's (the result's ``client`` field says which was used).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

WRK_MARK = "WRK_JSON "
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# wrk runs this Lua in each of its threads: `paths` is cycled from a per-thread offset, and
# `done` prints the summary as JSON (latency in microseconds).
WRK_SCRIPT = """
paths = {%(paths)s}
%(headers)s
local started = 0
setup = function(thread)
  thread:set("offset", started * 7919)
  started = started + 1
end
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[((offset or 0) + counter) %% #paths + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('%(mark)s{"requests": %%d, "duration_us": %%.0f, "errors": %%d, ' ..
    '"p50_us": %%.0f, "p95_us": %%.0f, "p99_us": %%.0f, "mean_us": %%.1f, "max_us": %%.0f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
end
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for these ASCII paths


def wrk_version() -> str | None:
    """The installed wrk's version line, or None when wrk is not installed."""
    exe = shutil.which("wrk")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True)
    words = (out.stdout or out.stderr).split()
    return " ".join(words[:2]) if words else "wrk"  # "wrk debian/4.1.0-3+b2"


def load_with_wrk(base: str, headers: dict[str, str], paths: list[str], *, clients: int,
                  seconds: float) -> dict:
    """``clients`` keep-alive connections from wrk for ``seconds`` seconds; latency in ms."""
    script = WRK_SCRIPT % {
        "paths": ",".join(_lua_string(p) for p in paths),
        "headers": "\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()),
        "mark": WRK_MARK,
    }
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "load.lua"
        lua.write_text(script)
        threads = max(1, min(2, clients))
        cmd = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
               "-s", str(lua), base]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith(WRK_MARK))
    raw = json.loads(line[len(WRK_MARK):])
    wall = raw["duration_us"] / 1e6
    return {
        "clients": clients,
        "requests": raw["requests"],
        "errors": raw["errors"],
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "mean_ms": round(raw["mean_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "throughput_rps": round(raw["requests"] / wall, 1) if wall else None,
        "seconds": round(wall, 2),
    }


def load_with_threads(base: str, headers: dict[str, str], paths: list[str], *, clients: int,
                      seconds: float, requests: int) -> dict:
    """GET ``paths`` in turn from ``clients`` Python threads until ``requests`` are made or ``seconds``
    pass. A timeout under overload counts as an error, not a crash."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = [0]
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            i = n
            while time.perf_counter() < stop_at:
                with lock:
                    if counter[0] >= requests:
                        return
                    counter[0] += 1
                path = paths[i % len(paths)]
                i += clients
                t0 = time.perf_counter()
                try:
                    ok = client.get(path).status_code == 200
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
        "clients": clients,
        "requests": len(latencies),
        "errors": errors[0],
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
        "p99_ms": round(_percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "throughput_rps": round(len(latencies) / wall, 1) if wall else None,
        "seconds": round(wall, 2),
    }


def load(base: str, endpoint: str, headers: dict[str, str], paths: list[str], *, clients: int = 20,
         seconds: float = 20.0, requests: int = 4000) -> dict:
    """One endpoint under load with wrk when installed, else with Python threads."""
    version = wrk_version()
    if version is not None:
        result = load_with_wrk(base, headers, paths, clients=clients, seconds=seconds)
    else:
        result = load_with_threads(base, headers, paths, clients=clients, seconds=seconds, requests=requests)
    return {"endpoint": endpoint, "client": version or "python httpx threads", **result}


def web_cookie(base: str, username: str, password: str) -> str:
    """Sign in through the login form (with its CSRF token); the session cookie as a header value."""
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/login")
        match = CSRF.search(form.text)
        if match is None:
            raise SystemExit("the login page has no CSRF token")
        done = client.post("/login", data={"username": username, "password": password, "csrf_token": match[1]},
                           follow_redirects=False)
        if done.status_code != 303:
            raise SystemExit(f"web sign-in failed: HTTP {done.status_code}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_server_and_user() -> tuple[subprocess.Popen, str, str, str]:
    """`fanpin serve` on a free loopback port over FANPIN_HOME and a temporary county officer."""
    from serving.access.auth import create_user
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


def remove_user(username: str) -> None:
    from sqlalchemy import delete

    from serving.settings import get_settings
    from serving.store.database import get_engine
    from serving.store.models import User

    with get_engine(get_settings()).begin() as conn:
        conn.execute(delete(User).where(User.username == username))


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # still draining queued requests: stop it hard
        proc.kill()
        proc.wait(timeout=30)


def measure(base: str, username: str, password: str, *, week: str | None = None, clients: int = 20,
            seconds: float = 20.0, requests: int = 4000) -> dict:
    """Household detail, the JSON watch list and the web watch-list page, one after another."""
    # The first reads of a cold server on a loaded machine take seconds (httpx's default timeout is 5 s).
    token = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": password},
                       timeout=120).json()
    api = {"Authorization": f"Bearer {token['access_token']}"}
    weeks = httpx.get(f"{base}/api/v1/weeks", headers=api, timeout=120).json()
    if not weeks:
        raise SystemExit("no published week: run `fanpin weekly` first")
    week = week or weeks[0]["week"]
    first = httpx.get(f"{base}/api/v1/weeks/{week}/watchlist", params={"limit": 500}, headers=api, timeout=120).json()
    ids = [i["household_id"] for i in first["items"]]
    total = int(first.get("total") or len(ids))
    pages = max(1, total // 50)
    detail = [f"/api/v1/households/{hid}?week={week}" for hid in ids]
    listing = [f"/api/v1/weeks/{week}/watchlist?limit=50&offset={50 * p}" for p in range(pages)]
    web = {"Cookie": web_cookie(base, username, password)}
    page = [f"/watchlist?week={week}&page={p + 1}" for p in range(pages)]
    runs = [("GET /api/v1/households/{id}", api, detail),
            ("GET /api/v1/weeks/{week}/watchlist", api, listing),
            ("GET /watchlist (web page)", web, page)]
    # Warm up: the first reads of each worker process load the per-run caches (township blobs, a
    # household's kept answer). The same load for half the time, over as many connections, so
    # every worker process gets its share (one client's keep-alive connection reaches one worker).
    for name, headers, paths in runs:
        load(base, name, headers, paths, clients=clients, seconds=max(1.0, seconds / 2), requests=requests)
    return {"week": week, "households": len(ids), "watchlist": total,
            "endpoints": [load(base, name, headers, paths, clients=clients, seconds=seconds, requests=requests)
                          for name, headers, paths in runs]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url")
    parser.add_argument("--username")
    parser.add_argument("--password-stdin", action="store_true")
    parser.add_argument("--week", help="ISO week (default: the latest published)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000, help="bound for the Python client")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)

    proc = None
    temp_user = None
    try:
        if args.base_url:
            base, username = args.base_url.rstrip("/"), args.username
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else ""
        else:
            proc, base, username, password = local_server_and_user()
            temp_user = username
        result = measure(base, username, password, week=args.week, clients=args.clients, seconds=args.seconds,
                         requests=args.requests)
    finally:
        if proc is not None:
            stop_server(proc)
        if temp_user:
            remove_user(temp_user)
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
