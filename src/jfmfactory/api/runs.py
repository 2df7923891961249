"""One role's run: `draft` (draft, review, revise) and `review` (the panel alone)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ..errors import BadInput
from ..inputs.project import Project
from ..inputs.seeds import load_role
from ..llm.batch import Dispatcher
from ..llm.limits import RateLimiter
from ..llm.parallel import run_to_completion
from ..llm.prices import load_prices
from ..pipeline.drafter import Drafter
from ..pipeline.loop import Loop, LoopSettings, QuietReporter, Reporter, failures_recorded, round_record
from ..pipeline.panel import load_panel
from ..pipeline.role_inputs import ProjectInputs
from ..records.batches import CATALOG_DIR, EXPORTED, LEDGER_FILE, read_ledger
from ..records.runlog import RunRecord, StopReason, now
from ..records.sections import section_keys
from ..records.store import PROFILE_JSON, RunStore, read_profile_file
from .options import DraftOptions, check_options
from .session import session

REVIEW_DIR = "review"


def profile_to_read(project: Project, role: str, given: Path | None) -> tuple[Path, str]:
    """The profile a command reads (`--profile`, else the role's drafted profile.json) and how an
    error names it."""
    if given is not None:
        return given, f"--profile {given}"
    path = project.out_dir(role, None) / PROFILE_JSON
    return path, f"{path} (draft the role first, or pass --profile)"


def draft(
    project: Project, options: DraftOptions, env: Mapping[str, str], reporter: Reporter | None = None
) -> RunRecord:
    """Draft, review and revise one role's profile; write every output; return the run record
    (see `draft_role`)."""
    return run_to_completion(draft_role(project, options, env, reporter))


async def draft_role(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    reporter: Reporter | None = None,
    batch: Dispatcher | None = None,
    limiter: RateLimiter | None = None,
    shared: ProjectInputs | None = None,
) -> RunRecord:
    """Draft, review and revise one role's profile; write every output; return the run record.

    With `resume`, an interrupted or failed run goes on after its last completed round, with
    the settings it began with; a finished one is returned as it is. With a `batch` dispatcher
    its calls go into batches (priced at batch rates), the rest is the same; a `limiter` shared
    with other runs spaces its calls with theirs.
    """
    check_options(options)
    if batch is None:
        refuse_while_batched(project, options.role)
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
    with session(project, options, env, store, reviewers, batch, limiter, shared) as work:
        inputs = work.inputs
        if previous is not None:  # read under the folder's lock: the evidence the run began with
            inputs = work.inputs = inputs.with_evidence(store.read_evidence() or inputs.evidence)
        drafter = Drafter(
            work.writer,
            inputs.prompts,
            inputs.seeds,
            inputs.drafting_context(options.ladder),
            inputs.code,
            inputs.schema_text,
            work.item_calls_at_once,
            kind_prompts=inputs.shared.kind_prompts,
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
            calls_at_once=work.calls_at_once,
            prices=prices.at_batch_rates() if prices is not None and batch is not None else prices,
        )
        return await Loop(drafter, panel, store, limits, run, reporter).execute()


def refuse_while_batched(project: Project, role: str | None) -> None:
    """A live run of a role whose requests wait in a batch (of any role, for `--all`: None) would
    pay for them twice."""
    path = project.out / CATALOG_DIR / LEDGER_FILE
    ledger = read_ledger(path)
    waiting = ledger.in_flight(role)
    if waiting:
        whose = f"{role}'s requests wait" if role else "requests wait"
        how = "jfm batch import" if ledger.endpoint == EXPORTED else "jfm draft --all --batch"
        raise BadInput(
            f"{path}: {whose} in {len(waiting)} batch(es); collect them with {how}, "
            f"or move {path} aside to abandon them (an endpoint still bills them)"
        )


def review(
    project: Project, options: DraftOptions, env: Mapping[str, str], reporter: Reporter | None = None
) -> RunRecord:
    """Run the panel alone on an existing profile and record the verdict like a round (see
    `review_role`)."""
    return run_to_completion(review_role(project, options, env, reporter))


async def review_role(
    project: Project, options: DraftOptions, env: Mapping[str, str], reporter: Reporter | None = None
) -> RunRecord:
    """Run the panel alone on an existing profile and record the verdict like a round.

    Reads `--profile` (default: the role's drafted profile.json) and writes to `--out`
    (default: out/ROLE/review/), leaving the drafted outputs as they are.
    """
    check_options(options)
    reviewers = load_panel(project.panel)
    path, label = profile_to_read(project, options.role, options.profile)
    # Checked before any endpoint opens: a bad profile should not wait for a model server.
    manifest = load_role(project.seeds, options.role).manifest
    profile = read_profile_file(path, label, options.role, manifest.levels)
    own_folder = project.out_dir(options.role, None) / REVIEW_DIR
    store = RunStore(options.out or own_folder)
    progress = reporter or QuietReporter()
    # The profile's items cite the quotes of the evidence.json beside it, if it has one.
    beside = RunStore(path.parent).read_evidence()
    with session(project, options, env, store, reviewers, evidence=beside) as work:
        run = work.run
        run.drafter, run.max_rounds = None, 1
        panel = work.panel(reviewers, section_keys(profile.levels), options)
        # Rendered before the last review's records are touched: a broken template leaves them be.
        calls = panel.rehearse(profile, 1)
        existing = store.read_run()  # read under the folder's lock: a draft there is finished
        if existing is not None and existing.drafter is not None:
            # Its begin would set the draft aside, and the profile under review with it.
            raise BadInput(
                f"--out {store.folder}: holds a drafted run; a review writes to a folder of its own "
                f"(by default {own_folder})"
            )
        store.begin(run)

        def finish(reason: StopReason, passed: bool = False) -> None:
            run.close(reason, passed)
            store.write_run(run)

        with failures_recorded(run, store, finish):
            verdict = await panel.judge(profile, 1, lambda call: progress.step(1, call), calls=calls)
            record = round_record(1, [], verdict, [], store, options.threshold)
        run.rounds.append(record)
        run.usage, run.latency_s = record.usage, record.latency_s
        run.best_round = 1
        finish("reviewed", record.passed)
        progress.round_done(record, options.threshold)
        return run
