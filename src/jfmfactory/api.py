"""Library entry points behind the CLI: each takes plain options and returns a typed result."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel

from . import __version__
from .calibration.cases import CASE_FILE, Case, CaseFile, Label, Verdict, add_label, load_case, load_cases
from .calibration.measures import agreement, dimension_measures, operator_measures
from .calibration.operators import OPERATORS, Operator, World, load_operator_data, prompt_echoes
from .calibration.run import (
    AS_LABELLED,
    CALIBRATION_JSON,
    CalibrationRecord,
    Judged,
    judge_set,
    load_floors,
    summarise,
)
from .catalog.catalog import Catalog, load_catalog
from .catalog.scaffold import NewRole
from .catalog.scaffold import new_role as scaffold_role
from .errors import BadInput, EndpointError, JfmError
from .inputs.guard import screen
from .inputs.importing import extract, fetch_document, is_url, read_document
from .inputs.project import Project
from .inputs.prompts import Prompts
from .inputs.prose import ProseJudge, load_prose_rules, prompt_runs
from .inputs.seeds import LEVELS, RoleSeeds, SourceEntry, append_source, list_roles, load_role
from .inputs.text import Vocabulary, load_word_lists
from .llm.batch import POLL_S, BatchEndpoint, BatchProgress, Dispatcher, ExportedBatches
from .llm.cassette import check_replay, recording, replaying
from .llm.client import LLM, describe_failure
from .llm.limits import RateLimiter
from .llm.parallel import note_busy, ordered_map, tracking
from .llm.prices import load_prices
from .llm.provider import (
    DIRECT,
    REQUEST_TIMEOUT_S,
    Connection,
    EndpointSettings,
    PanelEndpointSettings,
    Route,
    batch_client,
    connect_pair,
    model_names,
    public_url,
)
from .pipeline.checks import CheckInputs, load_check_messages
from .pipeline.drafter import DRAFT_MODELS, Drafter, DraftingContext, example_words, section_keys
from .pipeline.evidence import gather, load_queries
from .pipeline.loop import (
    DEFAULT_MAX_ROUNDS,
    Loop,
    LoopSettings,
    QuietReporter,
    Reporter,
    failures_recorded,
    round_record,
)
from .pipeline.panel import DEFAULT_THRESHOLD, Panel, PanelSettings, ReviewDraft, Reviewer, load_panel
from .pipeline.schema import SchemaText, load_schema_text
from .records.batches import (
    ANSWERS_DIR,
    CATALOG_DIR,
    EXPORT_DIR,
    IMPORT_DIR,
    LEDGER_FILE,
    BatchEntry,
    BatchLedger,
    LedgerOptions,
    read_ledger,
    write_ledger,
)
from .records.evidence import Evidence
from .records.profile import Profile, code_placeholder
from .records.runlog import RunRecord, StopReason, Usage, Withheld, now
from .records.store import PROFILE_JSON, RunStore, read_profile_file, write_atomic

SERVER_LOG = "embedded-server.log"
REVIEW_DIR = "review"
MAX_SAMPLES = 10
MAX_CONCURRENCY = 16
#: Calls at once against an endpoint that serves requests in parallel, unless --concurrency says.
DEFAULT_CONCURRENCY = 4
#: Calls at once of one role in a batched run: all that a step of its round asks.
BATCHED_CALLS = 1000
#: As many threads as there are items.
ALL_AT_ONCE = 1 << 30
# Room for the longest answer each response model allows, so that no valid answer is cut off.
DRAFT_MAX_TOKENS = 700
REVIEW_MAX_TOKENS = 1000
#: Every response model a run asks for: what prompts/schema.toml describes.
RESPONSE_MODELS: list[type[BaseModel]] = [*DRAFT_MODELS, ReviewDraft]


@dataclass(frozen=True)
class DraftOptions:
    """Everything `jfm draft` and `jfm review` take (review ignores max_rounds)."""

    role: str
    out: Path | None = None
    max_rounds: int = DEFAULT_MAX_ROUNDS
    threshold: int = DEFAULT_THRESHOLD
    model: str | None = None
    base_url: str | None = None
    record: Path | None = None
    replay: Path | None = None
    samples: int = 1
    panel_model: str | None = None
    panel_base_url: str | None = None
    profile: Path | None = None
    timeout_s: float = REQUEST_TIMEOUT_S
    resume: bool = False
    concurrency: int | None = None
    #: Draft every level's responsibilities in one call first (`jfm draft --ladder`).
    ladder: bool = False
    #: Most requests a minute (`--rpm`), and tokens a minute (`--tpm`), a live run sends.
    rpm: int | None = None
    tpm: int | None = None


def check_options(options: DraftOptions) -> None:
    if not 1 <= options.threshold <= 5:
        raise BadInput(f"--threshold {options.threshold}: must be 1 to 5")
    if options.max_rounds < 1:
        raise BadInput(f"--max-rounds {options.max_rounds}: must be at least 1")
    if not 1 <= options.samples <= MAX_SAMPLES:
        raise BadInput(f"--samples {options.samples}: must be 1 to {MAX_SAMPLES}")
    if options.resume and (options.record or options.replay):
        raise BadInput("--resume: cannot be combined with --record or --replay")
    if options.record and options.replay:
        raise BadInput("--record and --replay: use one or the other")
    if options.record and options.record.is_dir():
        raise BadInput(f"--record {options.record}: is a folder; name a cassette file")
    if options.replay:
        check_replay(options.replay)
    if options.concurrency is not None and not 1 <= options.concurrency <= MAX_CONCURRENCY:
        raise BadInput(f"--concurrency {options.concurrency}: must be 1 to {MAX_CONCURRENCY}")
    for flag, limit in (("--rpm", options.rpm), ("--tpm", options.tpm)):
        if limit is not None and limit < 1:
            raise BadInput(f"{flag} {limit}: must be at least 1")
    if not math.isfinite(options.timeout_s) or options.timeout_s <= 0:
        raise BadInput(f"--timeout {options.timeout_s:g}: must be more than 0 seconds, and finite")
    for flag, value in (
        ("--model", options.model),
        ("--base-url", options.base_url),
        ("--panel-model", options.panel_model),
        ("--panel-base-url", options.panel_base_url),
    ):
        if value is not None and not value.strip():
            # An empty name would fall back to a default (the embedded model's) without a word.
            raise BadInput(f"{flag}: is empty; name one, or leave the flag out")


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
class RoleInputs:
    """A role's inputs, read and checked: what its drafter and its panel work from."""

    seeds: RoleSeeds
    withheld: list[Withheld]
    prompts: Prompts
    catalog: Catalog | None
    schema_text: SchemaText
    checks: CheckInputs

    @property
    def evidence(self) -> Evidence:
        """The quotes the role's sources hold, ranked per section (the evidence stage's output)."""
        assert self.checks.evidence is not None  # read_inputs gathers it
        return self.checks.evidence

    def with_evidence(self, evidence: Evidence) -> RoleInputs:
        """These inputs judging by `evidence` (a resumed run's evidence.json)."""
        return replace(self, checks=replace(self.checks, evidence=evidence))

    def panel(
        self, judge: LLM, reviewers: list[Reviewer], sections: list[str], settings: PanelSettings
    ) -> Panel:
        return Panel(judge, self.prompts, reviewers, self.checks, sections, settings, self.schema_text)

    def drafting_context(self, ladder: bool = False) -> DraftingContext:
        """The evidence, the rubric's years and the catalog's neighbouring foci the drafter uses."""
        catalog = self.catalog
        levels = self.seeds.manifest.levels
        if catalog is None:
            return DraftingContext(self.evidence, {}, [], ladder)
        years = {level: catalog.rubric.block(level).years for level in levels}
        focus = catalog.for_role(self.seeds.role)
        neighbours = [
            {"function": other.name, "boundary": ", ".join(other.entry.territory[:3])}
            for other in (catalog.neighbours(focus) if focus is not None else [])
        ]
        return DraftingContext(self.evidence, years, neighbours, ladder)

    @property
    def code(self) -> str:
        """The role's catalog code with LEVEL for the level; a readable placeholder off-catalog."""
        focus = self.catalog.for_role(self.seeds.role) if self.catalog else None
        manifest = self.seeds.manifest
        return focus.code("LEVEL") if focus else code_placeholder(manifest.family, manifest.focus)


def read_inputs(project: Project, role: str) -> RoleInputs:
    """Read and check everything a run of `role` reads but the endpoints: the screened sources,
    prompts, schema text, catalog, word lists and check data; and gather the role's evidence."""
    loaded = load_role(project.seeds, role)
    if not loaded.sources:
        raise BadInput(f"{project.seeds / role}: no sources yet; add one with jfm add-source {role} FILE|URL")
    seeds, withheld = screen(loaded)
    prompts = Prompts(project.prompts)
    vocabulary = Vocabulary(load_word_lists(project.panel))
    catalog = load_catalog(project.catalog) if project.catalog.is_dir() else None
    titles = {level: catalog.rubric.block(level).titles for level in LEVELS} if catalog else {}
    evidence = gather(seeds, titles, load_queries(project.prompts), vocabulary)
    prose = ProseJudge(
        load_prose_rules(project.panel),
        prompt_runs(project.prompts),
        [*LEVELS, *seeds.source_ids, *(quote.id for quote in evidence.quotes)],
    )
    source_terms = {term for source in seeds.sources for term in vocabulary.terms(source.text)}
    example_terms = frozenset(vocabulary.terms(example_words(project.prompts))) - source_terms
    checks = CheckInputs(
        seeds, catalog, vocabulary, load_check_messages(project.panel), prose, evidence, example_terms
    )
    schema_text = load_schema_text(prompts, RESPONSE_MODELS)
    return RoleInputs(seeds, withheld, prompts, catalog, schema_text, checks)


@dataclass
class Session:
    """What a run works with once its inputs are read and its endpoints are open."""

    inputs: RoleInputs
    #: Calls at once: sections (and reviewers) in parallel.
    workers: int
    #: Calls at once within a section: its items (one, unless batched).
    item_workers: int
    writer: LLM
    judge: LLM
    run: RunRecord

    def panel(self, reviewers: list[Reviewer], sections: list[str], options: DraftOptions) -> Panel:
        settings = PanelSettings(
            threshold=options.threshold, samples=options.samples, concurrency=self.workers
        )
        return self.inputs.panel(self.judge, reviewers, sections, settings)


@contextlib.contextmanager
def endpoints(
    options: DraftOptions,
    env: Mapping[str, str],
    store: RunStore,
    route: Route = DIRECT,
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
) -> Iterator[Session]:
    """Read and check every input, open the endpoints (and the cassette), and start the record.

    With a `batch` dispatcher every call goes into its batches, all of a round's calls at once;
    else a `limiter` (or the one `--rpm`/`--tpm` ask for) spaces them.
    """
    inputs = read_inputs(project, options.role)
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
        calls = workers(options, writer.endpoint.embedded)
        yield Session(
            inputs=inputs,
            workers=BATCHED_CALLS if batch is not None else calls,
            item_workers=BATCHED_CALLS if batch is not None else 1,
            writer=llm_for(writer, DRAFT_MAX_TOKENS),
            judge=llm_for(judge, REVIEW_MAX_TOKENS),
            run=run,
        )


def rate_limiter(options: DraftOptions) -> RateLimiter | None:
    """The limiter `--rpm` and `--tpm` ask for, if they do."""
    return RateLimiter(options.rpm, options.tpm) if options.rpm or options.tpm else None


def llm_for(connection: Connection, max_tokens: int) -> LLM:
    return LLM(
        connection.client,
        connection.endpoint.model,
        connection.endpoint.base_url,
        max_tokens=max_tokens,
        secrets=connection.secrets,
    )


def workers(options: DraftOptions, embedded: bool) -> int:
    """How many calls go at once. The embedded server serves one request at a time, so one; a
    replay, one (the cassette player is not thread-safe, and answers at once anyway)."""
    if options.replay is not None or embedded:
        return 1
    return options.concurrency or DEFAULT_CONCURRENCY


def inputs_digest(project: Project, seeds: RoleSeeds, models: list[str]) -> str:
    """A digest of everything a run's answers depend on but the endpoint's behaviour."""
    digest = hashlib.sha256()
    for source in seeds.sources:
        digest.update(f"source {source.id}\n{source.text}\n".encode())
    for folder in (project.prompts, project.panel):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(f"file {path.relative_to(project.root)}\n".encode() + path.read_bytes())
    digest.update(f"models {models}".encode())
    return digest.hexdigest()


def draft(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    reporter: Reporter | None = None,
    batch: Dispatcher | None = None,
    limiter: RateLimiter | None = None,
) -> RunRecord:
    """Draft, review and revise one role's profile; write every output; return the run record.

    With `resume`, an interrupted or failed run goes on after its last completed round, with
    the settings it began with; a finished one is returned as it is. With a `batch` dispatcher
    its calls go into batches (priced at batch rates), the rest is the same; a `limiter` shared
    with other runs spaces its calls with theirs.
    """
    check_options(options)
    reviewers = load_panel(project.panel)
    store = RunStore(project.out_dir(options.role, options.out))
    previous = store.read_run() if options.resume else None
    if options.resume and previous is None:
        raise BadInput(f"--resume: no run to resume in {store.folder}")
    if previous is not None and previous.status in ("passed", "not_passed"):
        return previous
    if previous is not None:
        options = replace(
            options,
            threshold=previous.threshold,
            max_rounds=previous.max_rounds,
            samples=previous.samples,
            ladder=previous.drafting == "ladder",
        )
    with session(project, options, env, store, reviewers, batch, limiter) as work:
        inputs = work.inputs
        if previous is not None:  # a resumed run goes on from the evidence it began with
            inputs = work.inputs = inputs.with_evidence(store.read_evidence() or inputs.evidence)
        drafter = Drafter(
            work.writer,
            inputs.prompts,
            inputs.seeds,
            inputs.drafting_context(options.ladder),
            inputs.code,
            inputs.schema_text,
            work.item_workers,
        )
        panel = work.panel(reviewers, drafter.section_keys, options)
        # Every prompt template rendered once before the first call: a broken one fails now.
        drafter.rehearse()
        panel.rehearse(drafter.specimen())
        run = work.run
        if previous is not None:
            if previous.inputs_sha256 != run.inputs_sha256:
                raise BadInput(
                    "--resume: the sources, prompts, panel or models changed since the run began; "
                    "start a new run"
                )
            run = previous.model_copy(
                update={
                    "status": "running",
                    "stop_reason": None,
                    "error": None,
                    "finished_at": None,
                    "drafter": run.drafter,
                    "panel": run.panel,
                    "resumed_at": [*previous.resumed_at, now()],
                }
            )
        store.begin(run, kept_rounds=len(run.rounds))
        store.write_evidence(inputs.evidence)
        prices = load_prices(project.root)
        limits = LoopSettings(
            threshold=options.threshold,
            max_rounds=options.max_rounds,
            concurrency=work.workers,
            prices=prices.at_batch_rates() if prices is not None and batch is not None else prices,
        )
        return Loop(drafter, panel, store, limits, run, reporter).execute()


@dataclass(frozen=True)
class CatalogRun:
    """One role of `jfm draft --all`: its run record, or why it was skipped, and its wall time."""

    role: str
    run: RunRecord | None
    skipped: str | None
    error: str | None
    seconds: float


def up_to_date(project: Project, options: DraftOptions, env: Mapping[str, str]) -> RunRecord | None:
    """The role's finished run when nothing it depends on changed since: seeds, prompts, panel,
    models and settings (compared by the digest recorded in run.json)."""
    previous = RunStore(project.out_dir(options.role, None)).read_run()
    if previous is None or previous.status not in ("passed", "not_passed"):
        return None
    settings = EndpointSettings.resolve(options.base_url, options.model, env, options.timeout_s)
    panel = PanelEndpointSettings.resolve(options.panel_base_url, options.panel_model, env)
    models = list(model_names(settings, panel))
    seeds, _ = screen(load_role(project.seeds, options.role))
    same_settings = (previous.threshold, previous.max_rounds, previous.samples) == (
        options.threshold,
        options.max_rounds,
        options.samples,
    )
    return (
        previous
        if same_settings and previous.inputs_sha256 == inputs_digest(project, seeds, models)
        else None
    )


def draft_all(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    reporter_for: Callable[[str], Reporter],
) -> list[CatalogRun]:
    """Draft every role in seeds/, skipping those whose outputs are up to date.

    Roles run `--concurrency` at a time against an endpoint that serves requests in parallel,
    one at a time on the embedded model (each role would start a server of its own).
    """
    check_options(options)
    settings = EndpointSettings.resolve(options.base_url, options.model, env, options.timeout_s)
    # One limiter for every role: the limits are the endpoint's, not a role's.
    limiter = rate_limiter(options)
    parallel_roles = workers(options, settings.embedded)
    return _draft_roles(project, options, env, reporter_for, parallel_roles, limiter=limiter)


@dataclass(frozen=True)
class BatchedCatalog:
    """`jfm draft --all --batch` or `jfm batch export`/`import`: each role's run (none while
    batches wait to be run elsewhere), the batches they went in, and the files that wait."""

    runs: list[CatalogRun]
    ledger: BatchLedger
    #: Batches written for an engine elsewhere whose answers are still to be imported.
    waiting: list[BatchEntry]


def catalog_folder(project: Project) -> Path:
    """Where a catalog run keeps what spans its roles (out/_catalog/)."""
    return project.root / "out" / CATALOG_DIR


def draft_all_batched(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    reporter_for: Callable[[str], Reporter],
    progress: Callable[[BatchProgress], None] = lambda state: None,
    poll_s: float = POLL_S,
    offline: bool = False,
) -> BatchedCatalog:
    """`draft_all` with every role's calls in the endpoint's Batch API (see `llm.batch`).

    Every role runs at once; a round costs a batch of drafter calls, one of reviewers, and one
    per wave of re-asks. The batches in flight are kept in out/_catalog/batches.json: the same
    command run again after a kill waits for them instead of submitting their requests again.

    `offline`: no endpoint is asked; each batch is written to out/_catalog/export/ for an engine
    elsewhere (vLLM's run-batch), and the run stops there until `import_batch` brings its output.
    """
    check_options(options)
    settings = EndpointSettings.resolve(options.base_url, options.model, env, options.timeout_s)
    if settings.embedded and not offline:
        raise BadInput("--batch: the embedded model has no Batch API; name an endpoint with --base-url")
    if options.panel_base_url or env.get("JFM_PANEL_BASE_URL"):
        raise BadInput(
            "--batch: the panel asks the drafter's endpoint in a batched run; leave --panel-base-url out"
        )
    if options.rpm or options.tpm:
        raise BadInput("--rpm, --tpm: limit a live run; a batched run's pace is the endpoint's")
    if options.record or options.replay or options.resume or options.out:
        raise BadInput(
            "--batch: drafts into out/ROLE/ for each role; --out, --resume, --record, --replay name one run"
        )
    folder = catalog_folder(project)
    store = RunStore(folder)
    store.prepare()
    with store.locked(), tracking() as activity:
        previous = read_ledger(folder / LEDGER_FILE)
        if all(batch.collected for batch in previous.batches):
            # A finished catalog run's ledger, if any: this run starts its own.
            write_ledger(folder / LEDGER_FILE, BatchLedger(options=ledger_options(options)))
        endpoint = ExportedBatches(folder) if offline else BatchEndpoint(batch_client(settings))
        dispatcher = Dispatcher(endpoint, folder, activity, poll_s, progress)
        runs = _draft_batched(project, options, env, reporter_for, dispatcher)
        if dispatcher.failure is not None:
            failure = describe_failure(dispatcher.failure)
            raise EndpointError(f"{public_url(settings.base_url or '')}: the Batch API failed: {failure}")
        waiting = [batch for batch in dispatcher.ledger.batches if not batch.collected]
        if runs is not None and not any(run.error for run in runs):
            for done in (ANSWERS_DIR, EXPORT_DIR, IMPORT_DIR):  # every answer is in a transcript now
                shutil.rmtree(folder / done, ignore_errors=True)
        return BatchedCatalog(runs or [], dispatcher.ledger, waiting)


def _draft_batched(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    reporter_for: Callable[[str], Reporter],
    dispatcher: Dispatcher,
) -> list[CatalogRun] | None:
    """Every role, its calls through `dispatcher`; None when the run stopped at batches exported
    for an engine elsewhere (the roles' threads are left waiting: the process is about to end)."""
    runs: list[list[CatalogRun]] = []
    ended = threading.Event()

    def roles() -> None:
        try:
            # Every role at once: a role left to start later would need batches of its own.
            runs.append(_draft_roles(project, options, env, reporter_for, ALL_AT_ONCE, batch=dispatcher))
        finally:
            ended.set()
            note_busy(-1)

    batches = threading.Thread(target=dispatcher.run, name="jfm-batches", daemon=True)
    batches.start()
    note_busy(1)  # the roles' thread
    threading.Thread(target=roles, name="jfm-roles", daemon=True).start()
    note_busy(-1)  # this one waits
    try:
        while not ended.wait(0.1) and not dispatcher.exported.is_set():
            pass
    except BaseException:  # Ctrl-C or SIGTERM: the ledger already names the batches in flight
        dispatcher.finished.set()
        raise
    dispatcher.finished.set()
    batches.join()
    if not ended.is_set():
        return None
    if not runs:  # the roles' thread failed: a bug, named by its traceback on stderr
        raise JfmError("the batched run ended without its roles' results")
    return runs[0]


def ledger_options(options: DraftOptions) -> LedgerOptions:
    """The options that shape a run's requests, as its ledger keeps them."""
    return LedgerOptions(**{name: getattr(options, name) for name in LedgerOptions.model_fields})


def import_batch(
    project: Project,
    path: Path,
    env: Mapping[str, str],
    reporter_for: Callable[[str], Reporter],
) -> BatchedCatalog:
    """File the output of an exported batch run elsewhere (a JSONL of `{custom_id, response}`
    lines, as vLLM's run-batch writes), then go on with the run it belongs to, with the options
    it began with, until its next batch is exported or every role is done."""
    folder = catalog_folder(project)
    ledger = read_ledger(folder / LEDGER_FILE)
    waiting = [batch for batch in ledger.batches if not batch.collected]
    if not waiting or ledger.options is None:
        raise BadInput(f"{path}: no exported batch waits for answers in {folder}; run jfm batch export first")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except ValueError as error:
            raise BadInput(f"{path}: line {number} is not JSON ({error})") from None
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, dict) or "custom_id" not in line:
            raise BadInput(f"{path}: every line must be an object with a custom_id")
        response = line.get("response")
        if response is not None and not (
            isinstance(response, dict) and isinstance(response.get("status_code"), int)
        ):
            raise BadInput(f"{path}: answer {number} ({line['custom_id']}): its response has no status_code")
    filed = 0
    for batch in waiting:
        mine = [line for line in lines if line["custom_id"] in batch.requests]
        if mine:
            text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in mine)
            write_atomic(folder / IMPORT_DIR / f"{batch.id}.jsonl", text)
            filed += len(mine)
    if not filed:
        names = ", ".join(batch.id for batch in waiting)
        raise BadInput(f"{path}: answers none of the requests of {names}")
    options = DraftOptions(role="", **ledger.options.model_dump())
    return draft_all_batched(project, options, env, reporter_for, offline=True)


def _draft_roles(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    reporter_for: Callable[[str], Reporter],
    parallel_roles: int,
    batch: Dispatcher | None = None,
    limiter: RateLimiter | None = None,
) -> list[CatalogRun]:
    roles = list_roles(project.seeds)
    if not roles:
        raise BadInput(f"{project.seeds}: no roles to draft")

    def one(role: str) -> CatalogRun:
        started = time.monotonic()
        role_options = replace(options, role=role, out=None)
        previous = up_to_date(project, role_options, env)
        if previous is not None:
            return CatalogRun(role, previous, "up to date", None, 0.0)
        try:
            run = draft(project, role_options, env, reporter_for(role), batch, limiter)
        except JfmError as error:
            return CatalogRun(role, RunStore(project.out_dir(role, None)).read_run(), None, str(error), 0.0)
        return CatalogRun(role, run, None, None, round(time.monotonic() - started, 1))

    return ordered_map(one, roles, parallel_roles)


def review(
    project: Project, options: DraftOptions, env: Mapping[str, str], reporter: Reporter | None = None
) -> RunRecord:
    """Run the panel alone on an existing profile and record the verdict like a round.

    Reads `--profile` (default: the role's drafted profile.json) and writes to `--out`
    (default: out/ROLE/review/), leaving the drafted outputs as they are.
    """
    check_options(options)
    reviewers = load_panel(project.panel)
    drafted = project.out_dir(options.role, None)
    path = options.profile or drafted / PROFILE_JSON
    label = f"--profile {path}" if options.profile else f"{path} (draft the role first, or pass --profile)"
    # Checked before any endpoint opens: a bad profile should not wait for a model server.
    manifest = load_role(project.seeds, options.role).manifest
    profile = read_profile_file(path, label, options.role, manifest.levels)
    store = RunStore(options.out or drafted / REVIEW_DIR)
    progress = reporter or QuietReporter()
    with session(project, options, env, store, reviewers) as work:
        run = work.run
        run.drafter, run.max_rounds = None, 1
        # The profile's items cite the quotes of the evidence.json beside it, if it has one.
        beside = RunStore(path.parent).read_evidence()
        if beside is not None:
            work.inputs = work.inputs.with_evidence(beside)
        panel = work.panel(reviewers, section_keys(profile.levels), options)
        panel.rehearse(profile)  # every reviewer's templates rendered once before the first call
        store.begin(run)

        def finish(reason: StopReason, passed: bool = False) -> None:
            run.close(reason, passed)
            store.write_run(run)

        with failures_recorded(run, store, finish):
            verdict = panel.judge(profile, 1, lambda call: progress.step(1, call))
            record = round_record(1, [], verdict, [], store, options.threshold)
        run.rounds.append(record)
        run.usage, run.latency_s = record.usage, record.latency_s
        run.best_round = 1
        finish("reviewed", record.passed)
        progress.round_done(record, options.threshold)
        return run


CALIBRATION_OUT = "calibration"
CASES_DIR = "cases"
FLOORS_FILE = "floors.toml"


def calibrate(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    seed: int = 0,
    progress: Callable[[str], None] = lambda line: None,
) -> CalibrationRecord:
    """Run the panel on every case of `calibration/` and every planted fault; measure how often it
    agrees with the labels; write `calibration.json` (default out/calibration/) and return it.

    Cases as labelled are judged by the whole panel; a planted fault by its dimension's members.
    """
    check_options(options)
    reviewers = load_panel(project.panel)
    dimensions = [reviewer.name for reviewer in reviewers]
    cases = load_cases(project.calibration / CASES_DIR, dimensions)
    floors = load_floors(project.calibration / FLOORS_FILE, dimensions)
    data = load_operator_data(project.calibration)
    echoes = prompt_echoes(project.prompts)
    inputs = {role: read_inputs(project, role) for role in {c.spec.role for c in cases}}
    store = RunStore(options.out or project.root / "out" / CALIBRATION_OUT)
    by_name = {reviewer.name: reviewer for reviewer in reviewers}

    def world_for(role: str) -> World:
        role_inputs = inputs[role]
        catalog = role_inputs.catalog
        focus = catalog.for_role(role) if catalog else None
        others = (
            [t for f in catalog.foci if f is not focus for t in (f.name, *f.entry.aliases)] if catalog else []
        )
        return World(data, role_inputs.seeds, echoes, others)

    with endpoints(options, env, store, Route(limiter=rate_limiter(options))) as (_, _, judge_connection):
        judge_llm = llm_for(judge_connection, REVIEW_MAX_TOKENS)
        settings = PanelSettings(
            threshold=options.threshold,
            samples=options.samples,
            concurrency=workers(options, judge_connection.endpoint.embedded),
        )

        def judge(case: Case, operator: Operator | None, names: list[str], profile: Profile) -> Judged:
            asked = [by_name[name] for name in names]
            # Items rest on the case's own quotes (evidence.json); a case without one, on none.
            role_inputs = inputs[case.spec.role].with_evidence(case.quotes)
            panel = role_inputs.panel(judge_llm, asked, section_keys(profile.levels), settings)
            where = f"{case.name}/{operator.name if operator else AS_LABELLED}"
            # A planted fault's trial is decided once a check fails its dimension.
            verdict = panel.judge(
                profile, 1, lambda call: progress(f"{where} {call}"), only_undecided=operator is not None
            )
            variant = RunStore(store.folder / "judged" / where)
            for transcript in verdict.transcripts:
                variant.write_transcript(transcript)
            usage = sum((a.usage for t in verdict.transcripts for a in t.attempts), Usage())
            return Judged(
                case=case.name,
                operator=operator.name if operator else None,
                scores=verdict.scores,
                reviews=verdict.reviews,
                usage=usage,
            )

        judged, trials = judge_set(cases, dimensions, world_for, judge, options.threshold, seed)
        endpoint = judge_connection.endpoint
    measures = dimension_measures(
        trials, dimensions, {d: (f.gold_pass, f.fault_catch) for d, f in floors.items()}
    )
    record = CalibrationRecord(
        jfm_version=__version__,
        # A port the embedded server happened to get would make no two records alike.
        panel=endpoint.model_copy(update={"base_url": "embedded"}) if endpoint.embedded else endpoint,
        threshold=options.threshold,
        samples=options.samples,
        seed=seed,
        dimensions=dimensions,
        floors=floors,
        cases=[summarise(case) for case in cases],
        operators=operator_measures(trials, {o.name: (o.dimension, o.does) for o in OPERATORS}),
        measures=measures,
        agreement=agreement(trials),
        passed=all(m.meets_floors for m in measures),
        usage=sum((j.usage for j in judged), Usage()),
        trials=trials,
        judged=judged,
    )
    write_atomic(store.folder / CALIBRATION_JSON, record.model_dump_json(indent=2) + "\n")
    return record


def label(
    project: Project,
    role: str,
    dimension: str,
    verdict: Verdict,
    note: str,
    by: str,
    profile_path: Path | None = None,
    case_name: str | None = None,
) -> Path:
    """Record a person's verdict on one dimension of a drafted profile as a calibration case.

    The case keeps the evidence.json beside the profile (the quotes its items rest on), if there
    is one. It is named after the role and the digest of the profile and its evidence unless
    `case_name` says, so labels of the same profile gather in one case. Returns the case's folder.
    """
    reviewers = load_panel(project.panel)
    dimensions = [reviewer.name for reviewer in reviewers]
    if dimension not in dimensions:
        raise BadInput(f"--dimension {dimension}: the panel's dimensions are {', '.join(dimensions)}")
    if not note.strip():
        raise BadInput("--note: say in one line why")
    manifest = load_role(project.seeds, role).manifest
    path = profile_path or project.out_dir(role, None) / PROFILE_JSON
    where = f"--profile {path}" if profile_path else f"{path} (draft the role first, or pass --profile)"
    profile = read_profile_file(path, where, role, manifest.levels).model_copy(update={"provenance": None})
    evidence = RunStore(path.parent).read_evidence()
    text = profile.model_dump_json(indent=2)
    evidence_text = evidence.model_dump_json(indent=2) if evidence is not None else ""
    digest = hashlib.sha256((text + evidence_text).encode()).hexdigest()
    name = case_name or f"{role}-{digest[:8]}"
    folder = project.calibration / CASES_DIR
    new_label = Label(verdict=verdict, by=by, why=" ".join(note.split()))
    if (folder / name / CASE_FILE).is_file():
        case = load_case(folder / name)
        if case.profile.model_dump_json(indent=2) != text:
            raise BadInput(f"--case {name}: {folder / name} holds another profile; name a new case")
        if (case.evidence.model_dump_json(indent=2) if case.evidence else "") != evidence_text:
            raise BadInput(
                f"--case {name}: {folder / name} holds the profile with other evidence; name a new case"
            )
        spec = case.spec.model_copy(update={"labels": {**case.spec.labels, dimension: new_label}})
    else:
        shown = (
            path.resolve().relative_to(project.root.resolve())
            if path.resolve().is_relative_to(project.root.resolve())
            else path
        )
        spec = CaseFile(role=role, gold=False, origin=f"jfm label: {shown}", labels={dimension: new_label})
    return add_label(folder, name, spec, profile, evidence)


def add_source(
    project: Project, role: str, location: str, title: str | None = None, date: dt.date | None = None
) -> SourceEntry:
    """Turn a document (a path or an http(s) URL: HTML, PDF, DOCX, Markdown or text) into a
    source of `role`: its main text kept beside the manifest, listed there with its origin, date,
    title (the document's own unless `title` is given) and digest."""
    document = fetch_document(location) if is_url(location) else read_document(Path(location))
    extracted = extract(document)
    name = title or extracted.title or Path(document.origin).stem.replace("-", " ").replace("_", " ")
    when = date or dt.date.today()
    return append_source(project.seeds, role, extracted.text, name, document.origin, when)


def new_role(project: Project, role: str, title: str, family: str, focus: str, levels: list[str]) -> NewRole:
    """Scaffold a role: its manifest in seeds/ and its focus in the catalog (see `catalog.scaffold`)."""
    return scaffold_role(project.seeds, project.catalog, role, title, family, focus, levels)
