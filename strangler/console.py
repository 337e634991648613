"""Shared output helpers: Rich for people, JSON for scripts, errors on stderr with an exit code.

Every error goes through `fail`, which masks the passwords of the URLs and connection strings in it
(a database error often quotes the URL it could not use)."""

import json
import sys

import typer
from rich.console import Console

from router.masking import mask_secrets

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int) -> "typer.Exit":
    err.print(f"[bold red]error:[/] {mask_secrets(message)}", highlight=False)
    return typer.Exit(code)


def print_json(payload) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
