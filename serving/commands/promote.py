"""`fanpin promote`: point the champion alias at a version (promotion or rollback), saying who and why."""

from __future__ import annotations

from typing import Annotated

import typer

from serving.output import emit, fail, stderr


def promote(
    version: Annotated[int, typer.Option("--version", help="模型版本 / model version")],
    reason: Annotated[str, typer.Option("--reason", help="原因 / why (recorded on the version)")],
    name: Annotated[str | None, typer.Option("--name", help="注册模型名 / registered model name")] = None,
    alias: Annotated[str, typer.Option("--alias", help="别名 / alias")] = "champion",
    user: Annotated[str | None, typer.Option("--user", help="操作人 / who (default: $FANPIN_USER or login)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """设定冠军模型（上线或回滚）/ promote or roll back a model version."""
    from mlflow.exceptions import MlflowException

    from serving.commands.performance import print_challenger
    from serving.jobs.shadow import promotion_evidence
    from serving.settings import get_settings
    from serving.tracking import configure_tracking
    from training.tracking import promote as set_alias

    if not reason.strip():
        fail("--reason must not be empty / 必须说明原因")
        return
    settings = get_settings()
    configure_tracking(settings)
    # Shadow evidence first (`serving.jobs.shadow`): promotion without live weeks is allowed (a
    # rollback, a first deployment) but said plainly, before the alias moves.
    evidence = None
    if alias == "champion":
        try:
            evidence = promotion_evidence(settings, version)
        except Exception as error:  # noqa: BLE001 - no store here (a training machine): say so, go on
            stderr.print(f"[yellow]影子评分证据不可读[/] / shadow evidence unreadable: {type(error).__name__}: "
                         f"{str(error)[:200]}", highlight=False)
    if evidence is not None:
        print_challenger(evidence)
        if not evidence["summary"]["weeks"]:
            stderr.print(f"[yellow]警告：版本{version}未经影子评分即上线[/] / warning: version {version} has no shadow "
                         "week: it was never scored beside the champion on a live week", highlight=False)
    try:
        result = set_alias(name or settings.model_name, version, reason=reason, user=user, alias=alias)
    except MlflowException as error:
        fail(f"cannot promote version {version}: {error.message.splitlines()[0]}")
        return
    if evidence is not None:
        result["shadow"] = evidence["summary"]
    previous = result["previous"]
    summary = (f"{result['model_name']} v{result['version']} -> {alias}"
               + (f" (之前 / previously v{previous})" if previous else "")
               + f"  by {result['user']}: {reason}")
    emit(result, as_json, summary=summary)
