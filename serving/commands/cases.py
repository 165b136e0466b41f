"""`fanpin cases`: the week's cases (the 台账) as the county office reads them."""

from __future__ import annotations

from typing import Annotated

import typer

from serving.output import emit, fail, week_or_fail


def cases(
    week: Annotated[str, typer.Option("--week", help="ISO 周，如 2025-W48 / ISO week (the clock runs to its Sunday)")],
    township: Annotated[str | None, typer.Option("--township", help="只看该乡镇 / one township only")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """案件台账汇总 / cases by stage, overdue, due for elimination, and the week's department warnings."""
    from features.department_warnings import load_warning_rules
    from serving.access.auth import Principal
    from serving.cases import service
    from serving.settings import get_settings
    from serving.store import queries
    from serving.store.database import get_engine, session_factory, upgrade

    week = week_or_fail(week)
    cutoff = week.cutoff.date()
    settings = get_settings()
    engine = get_engine(settings)
    upgrade(engine)
    operator = Principal(user_id=0, username="cli", role="admin", township=None)
    rules = list(load_warning_rules(settings.department_warnings_path))
    with session_factory(engine)() as session:
        run_id = queries.published_run(session, week)
        if run_id is None:
            fail(f"week {week} is not published / {week} 尚未发布")
            return
        rows = service.list_cases(session, operator, as_of=cutoff, township=township)
        warnings = service.week_warning_counts(session, run_id, rules, township)
    result = {"week": week, "township": township, **service.summary(rows), "department_warnings": warnings}
    emit(result, as_json, summary=(
        f"{week}{' ' + township if township else ''}: 在办 {result['open']} 件, 超期 {result['overdue']} 件, "
        f"可核查风险消除 {result['eligible_for_elimination']} 件, 部门预警 {sum(warnings.values())} 条"
    ))
