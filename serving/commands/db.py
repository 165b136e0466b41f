"""`fanpin db upgrade`: bring the store's schema to the latest migration."""

from __future__ import annotations

from typing import Annotated

import typer

from serving.output import emit

app = typer.Typer(help="数据库 / the store", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """升级数据库结构 / apply migrations up to the latest revision."""
    from serving.settings import get_settings
    from serving.store.database import current_revision, get_engine, upgrade

    settings = get_settings()
    engine = get_engine(settings)
    upgrade(engine)
    url = engine.url.render_as_string(hide_password=True)
    emit({"revision": current_revision(engine), "database": url}, as_json,
         summary=f"数据库已升级 / store at revision {current_revision(engine)} ({url})")
