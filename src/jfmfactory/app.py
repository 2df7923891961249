"""Library entry points behind the CLI: each takes plain options and returns a typed result."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .cassette import check_replay, recording, replaying
from .drafter import Drafter, system_prompt
from .errors import BadInput
from .guard import screen
from .llm import LLM
from .loop import Loop, LoopSettings, Reporter, now
from .panel import Panel, PanelSettings, Reviewer, load_panel
from .project import Project
from .prompts import Prompts
from .provider import EndpointSettings, PanelEndpointSettings, connect_pair
from .runlog import RunRecord
from .seeds import RoleSeeds, list_roles, load_role
from .store import RunStore

SERVER_LOG = "embedded-server.log"
REVIEW_DIR = "review"
MAX_SAMPLES = 10
# Room for the longest answer each response model allows, so that no valid answer is cut off.
DRAFT_MAX_TOKENS = 700
REVIEW_MAX_TOKENS = 1000


@dataclass(frozen=True)
class DraftOptions:
    """Everything `jfm draft` and `jfm review` take (review ignores max_rounds)."""

    role: str
    out: Path | None = None
    max_rounds: int = 3
    threshold: int = 4
    model: str | None = None
    base_url: str | None = None
    record: Path | None = None
    replay: Path | None = None
    samples: int = 1
    panel_model: str | None = None
    panel_base_url: str | None = None
    profile: Path | None = None


def check_options(options: DraftOptions) -> None:
    if not 1 <= options.threshold <= 5:
        raise BadInput(f"--threshold {options.threshold}: must be 1 to 5")
    if options.max_rounds < 1:
        raise BadInput(f"--max-rounds {options.max_rounds}: must be at least 1")
    if not 1 <= options.samples <= MAX_SAMPLES:
        raise BadInput(f"--samples {options.samples}: must be 1 to {MAX_SAMPLES}")
    if options.record and options.replay:
        raise BadInput("--record and --replay: use one or the other")
    if options.record and options.record.is_dir():
        raise BadInput(f"--record {options.record}: is a folder; name a cassette file")
    if options.replay:
        check_replay(options.replay)


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


@dataclass
class Session:
    """What a run works with once its inputs are read and its endpoints are open."""

    seeds: RoleSeeds
    prompts: Prompts
    writer: LLM
    judge: LLM
    run: RunRecord

    def panel(self, reviewers: list[Reviewer], sections: list[str], options: DraftOptions) -> Panel:
        return Panel(
            self.judge,
            self.prompts,
            reviewers,
            system_prompt(self.prompts, self.seeds),
            self.seeds,
            sections,
            PanelSettings(threshold=options.threshold, samples=options.samples),
        )


@contextlib.contextmanager
def session(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    store: RunStore,
    reviewers: list[Reviewer],
) -> Iterator[Session]:
    """Read and check every input, open the endpoints (and the cassette), and start the record."""
    seeds, withheld = screen(load_role(project.seeds, options.role))
    prompts = Prompts(project.prompts)
    settings = EndpointSettings.resolve(options.base_url, options.model, env)
    panel_endpoint = PanelEndpointSettings.resolve(options.panel_base_url, options.panel_model, env)
    store.prepare()
    # The cassette opens after the embedded server answers, so it holds model calls only.
    endpoints = connect_pair(
        settings, panel_endpoint, replaying=options.replay is not None, server_log=store.folder / SERVER_LOG
    )
    with endpoints as (writer, judge), _cassette(options):
        run = RunRecord(
            jfm_version=__version__,
            role=options.role,
            status="running",
            threshold=options.threshold,
            max_rounds=options.max_rounds,
            drafter=writer.endpoint,
            panel=judge.endpoint,
            dimensions=[reviewer.name for reviewer in reviewers],
            withheld=withheld,
            samples=options.samples,
            started_at=now(),
        )
        yield Session(
            seeds=seeds,
            prompts=prompts,
            writer=LLM(
                writer.client, writer.endpoint.model, writer.endpoint.base_url, max_tokens=DRAFT_MAX_TOKENS
            ),
            judge=LLM(
                judge.client, judge.endpoint.model, judge.endpoint.base_url, max_tokens=REVIEW_MAX_TOKENS
            ),
            run=run,
        )


def draft(
    project: Project, options: DraftOptions, env: Mapping[str, str], reporter: Reporter | None = None
) -> RunRecord:
    """Draft, review and revise one role's profile; write every output; return the run record."""
    check_options(options)
    reviewers = load_panel(project.panel)
    store = RunStore(project.out_dir(options.role, options.out))
    with session(project, options, env, store, reviewers) as work:
        drafter = Drafter(work.writer, work.prompts, work.seeds)
        panel = work.panel(reviewers, drafter.section_keys, options)
        store.begin()
        limits = LoopSettings(threshold=options.threshold, max_rounds=options.max_rounds)
        return Loop(drafter, panel, store, limits, work.run, reporter).execute()


@dataclass(frozen=True)
class RoleState:
    """A role found in seeds/ and the state of its outputs."""

    role: str
    status: str
    best_round: int | None
    min_score: float | None
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
        best = next((r for r in run.rounds if r.round == run.best_round), None) if run else None
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
