"""`fanpin capacity-move`: the county confirms or declines a week's proposed shock capacity move."""

from __future__ import annotations

from typing import Annotated

import typer

from serving.output import emit, fail, week_or_fail


def capacity_move(
    week: Annotated[str, typer.Option("--week", help="提出建议的 ISO 周，如 2025-W48 / the week that proposed it")],
    township: Annotated[str, typer.Option("--township", help="受灾乡镇 / the hit township")],
    user: Annotated[str, typer.Option("--user", help="决定人 / who decides")],
    confirm: Annotated[bool, typer.Option("--confirm/--decline", help="确认或不采纳 / confirm or decline")] = True,
    reason: Annotated[str, typer.Option("--reason", help="说明 / note")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """确认或不采纳受灾走访力量调配建议 / confirm or decline a proposed shock capacity move (the next weeks' lists read it)."""
    from serving.settings import get_settings
    from serving.store.capacity_moves import decide
    from serving.store.database import get_engine, session_factory, upgrade

    week = week_or_fail(week)
    engine = get_engine(get_settings())
    upgrade(engine)
    username = user.strip()
    if not username:
        fail("--user is empty / 请填写决定人")
        return
    with session_factory(engine)() as session:
        try:
            result = decide(session, username, "county", week, township, "confirmed" if confirm else "declined", reason)
        except ValueError as error:
            fail(str(error))
            return
        session.commit()
    done = "已确认" if confirm else "不采纳"
    emit(result, as_json, summary=(
        f"{week} {township}: {done} / {result['decision']} by {result['by']} — 每周 +{result['extra_per_week']} 户, "
        f"{result['first_week']}..{result['last_week']}"))
