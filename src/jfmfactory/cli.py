"""The `jfm` command: parses options and calls the library; no logic lives here."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import app as library
from .console import ConsoleReporter, roles_table, summary
from .errors import EXIT_NOT_PASSED, EXIT_PASSED, JfmError
from .project import Project

app = typer.Typer(
    help="Draft job-family profiles with an LLM; publish none until the review panel passes it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
# instructor logs each failed attempt; jfm reports failures itself, in one line.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False

SeedsOption = Annotated[
    Path | None,
    typer.Option("--seeds", help="Seeds folder to read roles from [default: seeds/ of the project]."),
]


class Stopped(JfmError):
    """Ctrl-C or SIGTERM: the run records what it completed, the embedded server is stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}; completed rounds are kept")
        self.exit_code = 128 + signum


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that no `except Exception` on the way swallows it."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into an exception so that every cleanup runs, as it does for Ctrl-C."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fail(error: JfmError) -> typer.Exit:
    err.print(f"jfm: error: {error}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(error.exit_code)


@app.command()
def draft(
    role: Annotated[str, typer.Option("--role", help="Role to draft: a folder name in seeds/.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder [default: out/ROLE/].")] = None,
    max_rounds: Annotated[int, typer.Option("--max-rounds", help="Most draft–review rounds.")] = 3,
    threshold: Annotated[
        int, typer.Option("--threshold", help="Score (1–5) every dimension must reach.")
    ] = 4,
    model: Annotated[
        str | None, typer.Option("--model", help="Model name [default: the embedded model].")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint [default: $OPENAI_BASE_URL].")
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="Write every HTTP exchange to this cassette.")
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Answer every request from this cassette: no model, no network."),
    ] = None,
    seeds: SeedsOption = None,
) -> None:
    """Draft a role's profile, have the panel review it, and revise until it passes or rounds run out.

    Exit status: 0 passed, 3 finished without passing, 2 bad usage or input, 1 any other failure.
    """
    options = library.DraftOptions(
        role=role, out=out_dir, max_rounds=max_rounds, threshold=threshold,
        model=model, base_url=base_url, record=record, replay=replay,
    )  # fmt: skip
    try:
        project = Project.find(Path.cwd(), seeds)
        with _sigterm_as_interrupt():
            run = library.draft(project, options, os.environ, ConsoleReporter(err))
    except KeyboardInterrupt as interrupt:
        signum = signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
        raise _fail(Stopped(signum)) from None
    except JfmError as error:
        raise _fail(error) from None
    summary(out, run, project.out_dir(role, out_dir))
    raise typer.Exit(EXIT_PASSED if run.status == "passed" else EXIT_NOT_PASSED)


@app.command()
def roles(seeds: SeedsOption = None) -> None:
    """List the roles found in seeds/ with the state of their outputs."""
    try:
        states = library.roles(Project.find(Path.cwd(), seeds))
    except JfmError as error:
        raise _fail(error) from None
    out.print(roles_table(states))
