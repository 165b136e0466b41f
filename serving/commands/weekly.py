"""`fanpin weekly`: score one ISO week's export and publish it to the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, fail, os_error_line, stderr

SUMMARY_KEYS = ("week", "households_in", "households_scored", "rows_quarantined", "watchlist_size",
                "model_version", "drift_alerts", "seconds")


def summary_of(result: dict) -> dict:
    """What `fanpin weekly --json` prints of a run's result (either engine: the same keys)."""
    summary = {k: result[k] for k in SUMMARY_KEYS}
    # Department warnings (rule -> count), from either engine (serving.jobs.week_finish).
    summary["department_warnings"] = result.get("department_warnings", {})
    summary["model_health"] = result["stages"].get("model_health")  # age, libraries, estimated and matured quality
    # Where the run's time went, from the process's start: start-up (interpreter, imports, store,
    # champion), then each stage; they add up to ``seconds``.
    summary["stage_seconds"] = result["stages"].get("seconds", {})
    # From warning to help (serving.store.follow_through): the 13 weeks up to this one.
    for key in ("follow_through", "missed_share", "alerts_per_officer_week"):
        summary[key] = result.get(key)
    summary["work"] = result["stages"].get("work")  # new work / known / held back this week
    # The shock response (hit townships, adjustment, capacity proposals) and the quarter's audit.
    for key in ("shock", "audit_sample", "hidden_hardship_share"):
        summary[key] = result.get(key)
    summary["profile"] = result["stages"].get("profile")  # the mapping profile read with (path, sha256)
    return summary


def weekly(
    data: Annotated[Path, typer.Option("--data", help="县文件夹或本周导出文件夹 / county or export folder")],
    week: Annotated[str, typer.Option("--week", help="ISO 周，如 2025-W48 / ISO week")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
    engine: Annotated[str, typer.Option("--engine", help="local（单机）或 spark / local or spark")] = "local",
    master: Annotated[str | None, typer.Option("--master", help="Spark master（默认 SPARK_MASTER 或 local[*]）")] = None,
    accept_incomplete: Annotated[str | None, typer.Option(
        "--accept-incomplete", help="确认发布不完整的一周及原因（记入审计日志）/ publish a week outside the "
                                    "completeness bounds, for this reason (audited)")] = None,
    profile: Annotated[Path | None, typer.Option(
        "--profile", help="映射配置（本县表头与取值 → 数据约定）/ mapping profile (YAML; default "
                          "FANPIN_PROFILE_PATH), recorded on the run")] = None,
) -> None:
    """每周评分并发布 / score a week's export and publish it (one transaction)."""
    from serving.jobs.week_run import WeeklyError, process_started
    from serving.jobs.weekly import run_week
    from serving.settings import get_settings
    from serving.store.lease import LeaseHeld, LeaseLost

    if engine not in ("local", "spark"):
        fail(f"unknown engine {engine!r}: local or spark / 引擎应为 local 或 spark")
        return
    if engine == "spark":
        import importlib.util

        if importlib.util.find_spec("pyspark") is None:
            fail("pyspark is not installed: pip install 'fanpin[spark]' / 未安装 pyspark")
            return
        from serving.jobs.spark_weekly import run_week_spark as run_week  # noqa: F811 - same contract
    try:
        with stderr.status("weekly run") as status:
            # Either engine's stage seconds start at the process's start (``start-up``).
            kwargs = {"master": master, "started": process_started()} if engine == "spark" \
                else {"started": process_started()}
            settings = get_settings()
            if profile is not None:
                settings = settings.model_copy(update={"profile_path": profile})
            result = run_week(data, week, settings,
                              progress=lambda stage: status.update(f"weekly {week}: {stage}"),
                              accept_incomplete=accept_incomplete, **kwargs)
    except (WeeklyError, LeaseHeld, LeaseLost) as error:
        fail(str(error))
        return
    except OSError as error:  # a full disk or a read-only folder: one line, not a traceback
        fail(f"{os_error_line(error)}; nothing was published / 未发布")
        return
    except Exception as error:
        from sqlalchemy.exc import OperationalError

        from features.mapping_profile import ProfileError
        from features.reading import ContractError
        from models.sanity import ScoreSanityError

        if isinstance(error, (ContractError, ScoreSanityError, ProfileError)):
            fail(str(error))
            return
        if isinstance(error, OperationalError) and "full" in str(error.orig):  # SQLite's full disk
            fail("the store's disk is full: free space and run again / 磁盘已满; nothing was published / 未发布")
            return
        raise
    summary = summary_of(result)
    emit(summary, as_json, summary=(
        f"{week}: 读入 {result['households_in']} 户, 评分 {result['households_scored']} 户, "
        f"隔离 {result['rows_quarantined']} 行, 名单 {result['watchlist_size']} 户, "
        f"模型 v{result['model_version']}, 漂移告警 {result['drift_alerts']}, {result['seconds']} s"
    ))
