"""Shared output helpers: Rich for people, JSON for scripts, errors on stderr with an exit code."""

import json
import sys

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int) -> "typer.Exit":
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def print_json(payload) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
