"""A run's session: its inputs read, its endpoints (and cassette) open, its record started."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .. import __version__
from ..inputs.datafile import edited_files
from ..inputs.project import Project
from ..inputs.seeds import RoleSeeds
from ..llm.batch import Dispatcher
from ..llm.cassette import recording, replaying
from ..llm.client import LLM
from ..llm.limits import RateLimiter
from ..llm.provider import Connection, EndpointSettings, PanelEndpointSettings, Route, connect_pair
from ..pipeline.panel import Panel, PanelSettings, Reviewer
from ..pipeline.role_inputs import ProjectInputs, RoleInputs, read_inputs
from ..records.evidence import Evidence
from ..records.runlog import RunRecord, now
from ..records.store import RunStore
from .options import BATCHED_CALLS_AT_ONCE, DraftOptions, calls_at_once, rate_limiter

SERVER_LOG = "embedded-server.log"
# Room for the longest answer each response model allows, so that no valid answer is cut off.
DRAFT_MAX_TOKENS = 700
REVIEW_MAX_TOKENS = 1000


@contextlib.contextmanager
def _cassette(options: DraftOptions, secrets: tuple[str, ...]) -> Iterator[None]:
    if options.record:
        with recording(options.record, secrets):
            yield
    elif options.replay:
        with replaying(options.replay):
            yield
    else:
        yield


@dataclass
class Session:
    """What a run works with once its inputs are read and its endpoints are open."""

    inputs: RoleInputs
    #: Calls at once: sections (and reviewers) in parallel.
    calls_at_once: int
    #: Calls at once within a section: its items (one, unless batched).
    item_calls_at_once: int
    writer: LLM
    judge: LLM
    run: RunRecord

    def panel(self, reviewers: list[Reviewer], sections: list[str], options: DraftOptions) -> Panel:
        settings = PanelSettings(
            threshold=options.threshold, samples=options.samples, calls_at_once=self.calls_at_once
        )
        return self.inputs.panel(self.judge, reviewers, sections, settings)


@contextlib.contextmanager
def endpoints(
    options: DraftOptions, env: Mapping[str, str], store: RunStore, route: Route
) -> Iterator[tuple[EndpointSettings, Connection, Connection]]:
    """Open the drafter's and the panel's endpoints (and the cassette) for a run writing to `store`,
    their requests sent by `route`."""
    settings = EndpointSettings.resolve(options.base_url, options.model, env, options.timeout_s)
    panel_endpoint = PanelEndpointSettings.resolve(options.panel_base_url, options.panel_model, env)
    store.prepare()
    with store.locked():  # one run per folder
        # The cassette opens after the embedded server answers, so it holds model calls only.
        pair = connect_pair(
            settings,
            panel_endpoint,
            replaying=options.replay is not None,
            server_log=store.folder / SERVER_LOG,
            route=route,
        )
        with pair as (writer, judge), _cassette(options, writer.secrets):
            yield settings, writer, judge


@contextlib.contextmanager
def session(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    store: RunStore,
    reviewers: list[Reviewer],
    batch: Dispatcher | None = None,
    limiter: RateLimiter | None = None,
    shared: ProjectInputs | None = None,
    evidence: Evidence | None = None,
) -> Iterator[Session]:
    """Read and check every input, open the endpoints (and the cassette), and start the record.

    With a `batch` dispatcher every call goes into its batches, all of a round's calls at once;
    else a `limiter` (or the one `--rpm`/`--tpm` ask for) spaces them. `shared`: what every role
    of the project reads alike, when a catalog run has read it already. `evidence`: the quotes the
    run judges by, when they are not to be gathered again (see `read_inputs`).
    """
    inputs = read_inputs(project, options.role, shared, evidence)
    if batch is not None:
        route = Route(transport=batch.transport(options.role))
    else:
        route = Route(limiter=limiter or rate_limiter(options))
    with endpoints(options, env, store, route) as (_, writer, judge):
        run = RunRecord(
            jfm_version=__version__,
            role=options.role,
            status="running",
            threshold=options.threshold,
            max_rounds=options.max_rounds,
            drafter=writer.endpoint,
            panel=judge.endpoint,
            dimensions=[reviewer.name for reviewer in reviewers],
            withheld=inputs.withheld,
            samples=options.samples,
            drafting="ladder" if options.ladder else "items",
            inputs_sha256=inputs_digest(project, inputs.seeds, [writer.endpoint.model, judge.endpoint.model]),
            started_at=now(),
        )
        calls = calls_at_once(options, writer.endpoint.embedded)
        yield Session(
            inputs=inputs,
            calls_at_once=BATCHED_CALLS_AT_ONCE if batch is not None else calls,
            item_calls_at_once=BATCHED_CALLS_AT_ONCE if batch is not None else 1,
            writer=llm_for(writer, DRAFT_MAX_TOKENS),
            judge=llm_for(judge, REVIEW_MAX_TOKENS),
            run=run,
        )


def llm_for(connection: Connection, max_tokens: int) -> LLM:
    return LLM(
        connection.client,
        connection.endpoint.model,
        connection.endpoint.base_url,
        max_tokens=max_tokens,
        secrets=connection.secrets,
    )


def inputs_digest(project: Project, seeds: RoleSeeds, models: list[str]) -> str:
    """A digest of everything a run's answers depend on but the endpoint's behaviour."""
    digest = hashlib.sha256()
    for source in seeds.sources:
        digest.update(f"source {source.id}\n{source.text}\n".encode())
    for folder in (project.prompts, project.panel):
        for path in edited_files(folder, "**/*"):
            digest.update(f"file {path.relative_to(project.root)}\n".encode() + path.read_bytes())
    digest.update(f"models {models}".encode())
    return digest.hexdigest()
