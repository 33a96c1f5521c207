"""What every command shares: building the app from options, output, time, exit codes."""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from appwarden.adapters.clock import FixedClock
from appwarden.bootstrap import App, build
from appwarden.core.errors import (
    AppWardenError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StorageError,
    Unauthorized,
)
from appwarden.core.timeutil import TimeFormatError, parse_instant
from appwarden.settings import Settings


def _console(stderr: bool) -> Console:
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal or os.environ.get("COLUMNS") else 140
    return Console(stderr=stderr, highlight=False, width=width, soft_wrap=False)


out = _console(stderr=False)
err = _console(stderr=True)

# Exit codes (docs/cli.md). Every error class maps to exactly one code.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_STORAGE = 5
EXIT_ACCESS = 6
EXIT_DENY = 10
EXIT_UNKNOWN_IDENTITY = 11
EXIT_CHAIN_BROKEN = 12

EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (InvalidInput, EXIT_BAD_INPUT),
    (TimeFormatError, EXIT_BAD_INPUT),
    (NotFound, EXIT_NOT_FOUND),
    (Conflict, EXIT_CONFLICT),
    (StorageError, EXIT_STORAGE),
    (Unauthorized, EXIT_ACCESS),
    (Forbidden, EXIT_ACCESS),
    (AppWardenError, EXIT_BAD_INPUT),
)

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Act as if it were this instant (ISO 8601, e.g. 2020-07-11T02:00Z) to replay time.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@dataclass
class State:
    home: str | None = None
    actor: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    _app: App | None = None

    def settings(self) -> Settings:
        return Settings.load({"home": self.home, **self.overrides})

    def app(self, now: str | None = None) -> App:
        if self._app is None:
            clock = FixedClock(parse_instant(now, "UTC")) if now else None
            self._app = build(self.settings(), clock)
        return self._app

    def now(self, now: str | None) -> datetime:
        return self.app(now).clock.now().replace(microsecond=0)

    def who(self) -> str:
        if self.actor:
            return self.actor
        if os.environ.get("APPWARDEN_ACTOR"):
            return os.environ["APPWARDEN_ACTOR"]
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return f"{user}@{socket.gethostname()}"

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


STATE = State()


def engine_loaded(now: str | None = None, quiet: bool = False) -> App:
    """The app with its fleet index loaded (with a progress bar on large fleets)."""
    app = STATE.app(now)
    if not app.engine.loaded:
        with app.store.read() as uow:
            total = uow.inventory.count_devices()
        if total > 50_000 and not quiet:
            with progress_bar() as bar:
                task = bar.add_task("loading fleet", total=total)
                app.engine.load(lambda n: bar.advance(task, n))
        else:
            app.engine.load()
    return app


@contextmanager
def progress_bar() -> Iterator[Progress]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal and not os.environ.get("APPWARDEN_PROGRESS"),
    ) as bar:
        yield bar


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(error: BaseException) -> int:
    code = next((c for kind, c in EXIT_CODES if isinstance(error, kind)), EXIT_INTERNAL)
    if isinstance(error, InvalidInput):
        err.print(f"[bold red]error:[/] {len(error.problems)} problem(s)")
        for problem in error.problems:
            err.print(f"  - {problem.render()}", markup=False)
    else:
        err.print(f"[bold red]error:[/] {escape(str(error))}")
    return code
