"""Everything the CLI prints goes through here: JSON documents, human text, tables, errors.

Both paths of every command (``--json`` and the human one) call these functions, so
how user text is shown, and how a failure is reported, is decided in one place.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.client.errors import ClientError
from app.crypto import CryptoError

out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def emit(as_json: bool, data: dict[str, Any] | list[Any], human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        out.print(human)


def table(as_json: bool, rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    if as_json:
        emit(True, rows, "")
        return
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*[str(row.get(c, "")) for c in columns])
    out.print(grid)


@contextmanager
def errors(as_json: bool) -> Iterator[None]:
    """Every failure: the stable code in the message, JSON on stdout with --json, exit 1."""
    try:
        yield
    except (ClientError, CryptoError) as exc:
        code = getattr(exc, "code", None) or type(exc).__name__
        message = getattr(exc, "message", None) or str(exc)
        if as_json:
            sys.stdout.write(json.dumps({"error": {"code": code, "message": message}}) + "\n")
        err.print(f"[bold red]error[/] [{code}] {message}", markup=True, highlight=False)
        raise typer.Exit(code=1) from None


@contextmanager
def working(as_json: bool, message: str) -> Iterator[None]:
    """A spinner on the terminal while slow work runs (never with --json)."""
    if as_json:
        yield
        return
    with out.status(message):
        yield
