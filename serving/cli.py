"""The `fanpin` command line. Each command lives in serving/commands/<name>.py; this file only
registers them, so `fanpin --help` stays fast (heavy imports happen inside the commands)."""

from __future__ import annotations

import typer


class _Fanpin(typer.Typer):
    """The CLI app, ending an OS error (a full disk, a read-only folder) with one line, not a traceback."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:
            from serving.output import os_error_line, stderr

            if isinstance(error, OSError):
                line = os_error_line(error)
            elif "database or disk is full" in str(error):  # SQLite's own words (not an OSError)
                line = "the store's disk is full: free space and run the command again / 磁盘已满"
            else:
                raise
            stderr.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
            raise SystemExit(2) from None


app = _Fanpin(
    name="fanpin",
    help="防止返贫监测预警 / early warning of households returning to poverty",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)



@app.callback()
def _before_every_command() -> None:
    """Runs before every command: the packages' log records (progress of long steps) go to stderr,
    as bars on a terminal and plain lines elsewhere (serving.commands.console_log). And pandera imports
    pyspark.pandas whenever pyspark is installed (the Spark extra), and pyspark warns about the
    pandas version on every start: noise for an officer reading the output, so it is silenced
    here rather than at import time."""
    import warnings

    from serving.commands.console_log import configure
    from serving.output import stderr

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    configure(stderr)

# Commands: one import and one registration line each (imports are light; heavy ones are inside).
from serving.commands import db, feedback, history, users  # noqa: E402
from serving.commands.capacity_move import capacity_move  # noqa: E402
from serving.commands.cases import cases  # noqa: E402
from serving.commands.contract_doc import contract_doc  # noqa: E402
from serving.commands.demo import demo  # noqa: E402
from serving.commands.drift import drift  # noqa: E402
from serving.commands.explain import explain  # noqa: E402
from serving.commands.mlflow_ui import mlflow_ui  # noqa: E402
from serving.commands.performance import performance  # noqa: E402
from serving.commands.promote import promote  # noqa: E402
from serving.commands.serve import serve  # noqa: E402
from serving.commands.simulate import simulate  # noqa: E402
from serving.commands.simulated_officers import simulate_officers  # noqa: E402
from serving.commands.suggest_profile import suggest_profile  # noqa: E402
from serving.commands.train import train  # noqa: E402
from serving.commands.validate import validate  # noqa: E402
from serving.commands.visit_sheets import visit_sheets  # noqa: E402
from serving.commands.weekly import weekly  # noqa: E402

app.command("validate")(validate)
app.command("contract-doc")(contract_doc)
app.command("suggest-profile")(suggest_profile)
app.command("simulate")(simulate)
app.command("weekly")(weekly)
app.command("serve")(serve)
app.command("drift")(drift)
app.command("performance")(performance)
app.command("train")(train)
app.command("promote")(promote)
app.command("explain")(explain)
app.command("visit-sheets")(visit_sheets)
app.command("demo")(demo)
app.command("mlflow-ui")(mlflow_ui)
app.command("cases")(cases)
app.command("capacity-move")(capacity_move)
app.command("simulate-officers")(simulate_officers)
app.add_typer(history.app, name="history")
app.add_typer(users.app, name="users")
app.add_typer(feedback.app, name="feedback")
app.add_typer(db.app, name="db")
