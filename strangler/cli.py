"""Entry point of the `strangler` command (see exits.py for the exit codes)."""

import typer

from . import parity, plan, routes, sync
from .discover import discover_command
from . import offline  # noqa: F401 -- registers `parity record | replay | export` on parity.app

app = typer.Typer(help="Strangler-fig migration toolkit: route flags, parity, sync and playbooks.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(routes.app, name="routes")
app.add_typer(parity.app, name="parity")
app.add_typer(sync.app, name="sync")
app.add_typer(plan.app, name="plan")
app.command("discover")(discover_command)


def main() -> None:
    app()
