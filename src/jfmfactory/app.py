"""Library entry points behind the CLI: each takes plain options and returns a typed result."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .cassette import recording, replaying
from .drafter import Drafter
from .errors import BadInput
from .llm import LLM
from .loop import Loop, LoopSettings, Reporter, now
from .panel import Panel, load_panel
from .project import Project
from .prompts import Prompts
from .provider import EndpointSettings, connect
from .runlog import RunRecord
from .seeds import list_roles, load_role
from .store import RunStore

SERVER_LOG = "embedded-server.log"


@dataclass(frozen=True)
class DraftOptions:
    """Everything `jfm draft` takes."""

    role: str
    out: Path | None = None
    max_rounds: int = 3
    threshold: int = 4
    model: str | None = None
    base_url: str | None = None
    record: Path | None = None
    replay: Path | None = None


def check_options(options: DraftOptions) -> None:
    if not 1 <= options.threshold <= 5:
        raise BadInput(f"--threshold {options.threshold}: must be 1 to 5")
    if options.max_rounds < 1:
        raise BadInput(f"--max-rounds {options.max_rounds}: must be at least 1")
    if options.record and options.replay:
        raise BadInput("--record and --replay: use one or the other")
    if options.record and options.record.is_dir():
        raise BadInput(f"--record {options.record}: is a folder; name a cassette file")


@contextlib.contextmanager
def _cassette(options: DraftOptions) -> Iterator[None]:
    if options.record:
        with recording(options.record):
            yield
    elif options.replay:
        with replaying(options.replay):
            yield
    else:
        yield


def draft(
    project: Project, options: DraftOptions, env: Mapping[str, str], reporter: Reporter | None = None
) -> RunRecord:
    """Draft, review and revise one role's profile; write every output; return the run record."""
    check_options(options)
    seeds = load_role(project.seeds, options.role)
    prompts = Prompts(project.prompts)
    reviewers = load_panel(project.panel)
    settings = EndpointSettings.resolve(options.base_url, options.model, env)
    store = RunStore(project.out_dir(options.role, options.out))
    store.prepare()
    replay = options.replay is not None
    # The cassette opens after the embedded server answers, so it holds model calls only.
    server_log = store.folder / SERVER_LOG
    with connect(settings, replaying=replay, server_log=server_log) as conn, _cassette(options):
        llm = LLM(conn.client, conn.endpoint.model, conn.endpoint.base_url)
        drafter = Drafter(llm, prompts, seeds)
        panel = Panel(llm, prompts, reviewers, drafter.system, drafter.section_keys)
        run = RunRecord(
            jfm_version=__version__,
            role=options.role,
            status="running",
            threshold=options.threshold,
            max_rounds=options.max_rounds,
            drafter=conn.endpoint,
            panel=conn.endpoint,
            dimensions=panel.dimensions,
            started_at=now(),
        )
        store.begin()
        limits = LoopSettings(threshold=options.threshold, max_rounds=options.max_rounds)
        return Loop(drafter, panel, store, limits, run, reporter).execute()


@dataclass(frozen=True)
class RoleState:
    """A role found in seeds/ and the state of its outputs."""

    role: str
    status: str
    best_round: int | None
    min_score: int | None
    finished_at: str | None


def roles(project: Project) -> list[RoleState]:
    """Every role in the project's seeds, with what its last run left in out/."""
    states = []
    for role in list_roles(project.seeds):
        status: str
        try:
            run = RunStore(project.out_dir(role, None)).read_run()
            status = run.status if run else "not drafted"
        except BadInput:
            run, status = None, "unreadable run.json"
        best = run.rounds[run.best_round - 1] if run and run.best_round else None
        states.append(
            RoleState(
                role=role,
                status=status,
                best_round=run.best_round if run else None,
                min_score=best.min_score if best else None,
                finished_at=run.finished_at if run else None,
            )
        )
    return states
