"""`fanpin demo`: everything `make demo` promises, each step skipped when its result exists.

simulate a county -> train and register the champion -> seed the history -> run the weekly job for
the last weeks (the last one carries a drift scenario) -> demo users per role -> serve the app,
with the MLflow UI on the same tracking store on loopback beside it (the data page links to it).
A second run finds the county, the champion and the published weeks and goes straight to serving.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from datetime import date, timedelta
from typing import Annotated, Any

import typer

from serving.commands.mlflow_ui import DEFAULT_PORT, free_port, start_ui, stop_ui
from serving.output import emit, stderr

log = logging.getLogger(__name__)
DEMO_WEEKS = 8
# The last demo week carries a unit error in one township (income typed in 万元): the drift
# monitor should raise a high alert for it, so the demo shows what an alert looks like.
DEMO_SCENARIO = "unit-error"
DEMO_USERS = (
    ("admin", "admin", None),
    ("officer", "county_officer", None),
    ("leader", "township_leader", "first"),
    ("researcher", "researcher", None),
)


def _step(title: str) -> float:
    stderr.rule(f"[bold]{title}")
    return time.perf_counter()


def _published_weeks(settings) -> set[str]:
    from serving.store import queries
    from serving.store.database import get_engine, session_factory, upgrade

    engine = get_engine(settings)
    upgrade(engine)
    with session_factory(engine)() as session:
        return {w["week"] for w in queries.weeks(session)}


def _has_champion(settings) -> bool:
    import mlflow
    from mlflow.exceptions import MlflowException

    from serving.tracking import configure_tracking

    configure_tracking(settings)
    try:
        mlflow.MlflowClient().get_model_version_by_alias(settings.model_name, settings.model_alias)
    except MlflowException:
        return False
    return True


def _users(settings, township: str) -> list[dict[str, str]]:
    """Create (or reset) one user per role with a fresh one-time password."""
    from serving.access.auth import create_user
    from serving.store.database import get_engine, session_factory

    made = []
    with session_factory(get_engine(settings))() as session:
        for username, role, scope in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            create_user(session, username, password, role, township if scope else None, reset=True)
            made.append({"username": username, "role": role, "township": township if scope else "", "password": password})
        session.commit()
    return made


def run_demo(households: int, seed: int, weeks: int) -> dict[str, Any]:
    """Prepare the demo under FANPIN_HOME; returns what was made or reused and the users."""
    from features.weeks import week_label, week_monday
    from serving.commands.simulate import simulate_folder
    from serving.jobs.training import train_model
    from serving.jobs.weekly import run_week
    from serving.settings import get_settings
    from serving.weekly.history import import_history, load_history

    settings = get_settings()
    home = settings.ensure_home()
    county = home / "demo-county"
    timings: dict[str, float] = {}
    started = time.perf_counter()

    t = _step("1/5 模拟县域数据 / simulating a county")
    truth = county / "truth" / "simulation.json"
    if not truth.exists():
        end = date(2025, 12, 31)
        last_sunday = end - timedelta(days=end.isoweekday() % 7)
        simulate_folder(county, households, seed, date(2019, 1, 1), end,
                        scenario=DEMO_SCENARIO, scenario_week=week_label(last_sunday))
    else:
        stderr.print(f"已有 / reusing {county}")
    timings["simulate"] = time.perf_counter() - t
    all_weeks = sorted(p.name for p in (county / "exports").iterdir() if p.is_dir())
    demo_weeks = all_weeks[-weeks:]

    t = _step("2/5 训练并登记模型 / training and registering the champion")
    trained = None
    if not _has_champion(settings):
        trained = train_model(county, None, None, None, "fanpin-demo", None, None, None, None, "demo")
        if trained.get("alias") != "champion":
            # The gates kept it a challenger (their reasons are on the version and the data page);
            # the demo still needs a model to show, so it is chosen explicitly, as a researcher would.
            from training.tracking import promote

            log.warning("未通过登记门槛 / the model did not pass the gates: %s", trained.get("alias_reason"))
            promote(settings.model_name, trained["model_version"], user="demo",
                    reason=f"demo: shown despite the gates ({trained.get('alias_reason')})"[:4900])
    else:
        stderr.print(f"已有冠军模型 / reusing {settings.model_uri}")
    timings["train"] = time.perf_counter() - t

    t = _step("3/5 每周任务 / weekly runs")
    if load_history(home) is None:
        # What the registry knew the Sunday before the first demo week; the weekly exports add the rest.
        first_monday = week_monday(demo_weeks[0])
        import_history(county, home, until=str(first_monday - timedelta(days=1)))
    published = _published_weeks(settings)
    todo = [w for w in demo_weeks if w not in published]
    runs = []
    if todo:
        from features.progress import report
        from serving.tracking import load_champion

        champion = load_champion(settings)  # once, not once per week
        for i, week in enumerate(todo):
            report(log, "weekly runs", i, len(todo), week)  # each run logs its own stages
            result = run_week(county, week, settings, champion=champion, started_by="demo")
            runs.append({k: result[k] for k in ("week", "households_scored", "watchlist_size", "drift_alerts")})
        report(log, "weekly runs", len(todo), len(todo))
    for week in sorted(published & set(demo_weeks)):
        stderr.print(f"{week} 已发布 / already published")
    timings["weekly"] = time.perf_counter() - t

    t = _step("4/5 演示用户 / demo users")
    township = json.loads(truth.read_text(encoding="utf-8")).get("scenario", {}).get("township")
    if not township:
        from serving.store import queries
        from serving.store.database import get_engine, session_factory

        with session_factory(get_engine(settings))() as session:
            township = queries.townships(session, queries.published_run(session, demo_weeks[-1]))[0]
    users = _users(settings, township)
    timings["users"] = time.perf_counter() - t
    return {
        "county": str(county),
        "weeks": demo_weeks,
        "trained": trained,
        "runs": runs,
        "users": users,
        "seconds": {k: round(v, 1) for k, v in timings.items()} | {"total": round(time.perf_counter() - started, 1)},
    }


def demo(
    households: Annotated[int, typer.Option("--households", help="户数 / households")] = 20000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / seed")] = 1,
    weeks: Annotated[int, typer.Option("--weeks", help="发布周数 / weeks to publish")] = DEMO_WEEKS,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    serve_app: Annotated[bool, typer.Option("--serve/--no-serve", help="准备好后启动网页 / serve when ready")] = True,
    mlflow_port: Annotated[int, typer.Option(
        "--mlflow-port", help="MLflow 界面端口（0：不启动）/ MLflow UI port on loopback (0: none)")] = DEFAULT_PORT,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """演示：模拟、训练、每周任务、用户，然后启动网页 / the whole demo, then serve the web app."""
    result = run_demo(households, seed, weeks)
    stderr.rule("[bold]5/5 演示账号（一次性密码）/ demo accounts (one-time passwords)")
    for u in result["users"]:
        scope = f" · {u['township']}" if u["township"] else ""
        stderr.print(f"  {u['username']:<11} {u['password']:<14} {u['role']}{scope}", highlight=False)
    stderr.print(f"准备用时 / ready in {result['seconds']['total']} s: {result['seconds']}", highlight=False)
    ui = _start_mlflow_ui(mlflow_port) if serve_app and mlflow_port else None
    mlflow_url = ui[1] if ui else None
    emit({k: v for k, v in result.items() if k != "users"} | {"url": f"http://{host}:{port}/", "mlflow_url": mlflow_url},
         as_json, summary=f"打开 / open http://{host}:{port}/" + (f"  ·  MLflow {mlflow_url}/" if mlflow_url else ""))
    if serve_app:
        from serving.commands.serve import serve

        try:
            serve(host=host, port=port)
        finally:
            if ui:
                stop_ui(ui[0])


def _start_mlflow_ui(preferred_port: int):
    """The MLflow UI on the demo's store, on loopback (it has no sign-in), beside the app; the data
    page links to it through FANPIN_MLFLOW_UI_URL. None when a UI is configured already."""
    from serving.settings import get_settings

    settings = get_settings()
    if settings.mlflow_ui:
        return None
    log_path = settings.home / "mlflow-ui.log"
    with log_path.open("ab") as out:  # the child keeps its own descriptor
        process, url = start_ui(settings.tracking_uri, "127.0.0.1", free_port("127.0.0.1", preferred_port), out)
    os.environ["FANPIN_MLFLOW_UI_URL"] = url
    stderr.print(f"MLflow 界面 / UI: {url}/  (log {log_path})", highlight=False)
    return process, url

