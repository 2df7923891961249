"""The batched catalog: `draft_all_batched` sends every role's calls through a Batch API, or
exports them for an engine elsewhere; `import_batch` files that engine's answers and goes on."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput, EndpointError
from ..inputs.project import Project
from ..llm.batch import POLL_S, BatchEndpoint, BatchProgress, Dispatcher, ExportedBatches
from ..llm.client import describe_failure
from ..llm.parallel import run_to_completion, tracking
from ..llm.provider import EndpointSettings, batch_client, public_url
from ..pipeline.loop import Reporter
from ..records.batches import (
    ANSWERS_DIR,
    CATALOG_DIR,
    EXPORT_DIR,
    EXPORTED,
    IMPORT_DIR,
    LEDGER_FILE,
    BatchEntry,
    BatchLedger,
    LedgerOptions,
    read_ledger,
    write_ledger,
)
from ..records.jsonl import JsonlError, jsonl_text, parse_jsonl
from ..records.store import RunStore, write_atomic
from .catalog import CatalogRun, draft_roles
from .options import BATCHED_ROLES_AT_ONCE, DraftOptions, check_catalog_options, check_roles_at_once


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
    return project.out / CATALOG_DIR


def draft_all_batched(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    reporter_for: Callable[[str], Reporter],
    progress: Callable[[BatchProgress], None] = lambda state: None,
    poll_s: float = POLL_S,
    offline: bool = False,
    roles_at_once: int | None = None,
) -> BatchedCatalog:
    """`draft_all` with every role's calls in the endpoint's Batch API (see `llm.batch`).

    Up to `roles_at_once` roles run at once (default: what the run in flight began with, else
    `BATCHED_ROLES_AT_ONCE`), every call of theirs in the batches; a round costs them a batch of
    drafter calls (and one per wave of items drafted again where the gate would flag them), one
    of reviewers, and one per wave of re-asks. A role that ends makes way for the next, whose
    calls go into the next batch with the others': a catalog of more roles than that costs as
    many more steps of batches, one after the other. The batches in flight are kept
    in out/_catalog/batches.json: the same command run again after a kill waits for them instead
    of submitting their requests again.

    `offline`: no endpoint is asked; each batch is written to out/_catalog/export/ for an engine
    elsewhere (vLLM's run-batch), and the run stops there until `import_batch` brings its output.
    """
    check_catalog_options(options, "--batch")
    check_roles_at_once(roles_at_once)
    settings = EndpointSettings.resolve(options.base_url, options.model, env, options.timeout_s)
    if settings.embedded and not offline:
        raise BadInput("--batch: the embedded model has no Batch API; name an endpoint with --base-url")
    if options.panel_base_url or env.get("JFM_PANEL_BASE_URL"):
        raise BadInput(
            "--batch: the panel asks the drafter's endpoint in a batched run; leave --panel-base-url out"
        )
    if options.rpm or options.tpm:
        raise BadInput("--rpm, --tpm: limit a live run; a batched run's pace is the endpoint's")
    folder = catalog_folder(project)
    store = RunStore(folder)
    store.prepare()
    endpoint_name = EXPORTED if offline else public_url(settings.base_url or "")
    with store.locked(other_out=False):
        ledger = read_ledger(folder / LEDGER_FILE)
        if all(batch.collected for batch in ledger.batches):
            # A finished catalog run's ledger, if any: this run starts its own.
            ledger = BatchLedger(endpoint=endpoint_name, options=ledger_options(options))
        else:
            check_in_flight(folder / LEDGER_FILE, ledger, endpoint_name, ledger_options(options))
        window = ledger.roles_at_once = roles_at_once or ledger.roles_at_once or BATCHED_ROLES_AT_ONCE
        write_ledger(folder / LEDGER_FILE, ledger)

        async def batched() -> tuple[Dispatcher, list[CatalogRun] | None]:
            with tracking() as activity:
                endpoint = ExportedBatches(folder) if offline else BatchEndpoint(batch_client(settings))
                dispatcher = Dispatcher(endpoint, folder, activity, poll_s, progress)
                roles = draft_roles(project, options, env, reporter_for, window, batch=dispatcher)
                return dispatcher, await dispatcher.drive(roles)

        dispatcher, runs = run_to_completion(batched())
        if dispatcher.failure is not None:
            failure = describe_failure(dispatcher.failure)
            raise EndpointError(f"{public_url(settings.base_url or '')}: the Batch API failed: {failure}")
        waiting = [batch for batch in dispatcher.ledger.batches if not batch.collected]
        if runs is not None and not any(run.error for run in runs):
            for done in (ANSWERS_DIR, EXPORT_DIR, IMPORT_DIR):  # every answer is in a transcript now
                shutil.rmtree(folder / done, ignore_errors=True)
        return BatchedCatalog(runs or [], dispatcher.ledger, waiting)


def check_in_flight(path: Path, ledger: BatchLedger, endpoint: str, options: LedgerOptions) -> None:
    """Refuse a run that could not collect the batches in flight: one to another endpoint, or with
    options that ask other requests (theirs would wait for ever, and be billed for nothing)."""
    count = sum(not batch.collected for batch in ledger.batches)
    abandon = f"or move {path} aside to abandon them (an endpoint still bills them)"
    if ledger.endpoint != endpoint:
        where, collect = (
            ("exported for an engine elsewhere", "import their answers with jfm batch import")
            if ledger.endpoint == EXPORTED
            else (f"in flight at {ledger.endpoint}", f"run against {ledger.endpoint} to collect them")
        )
        raise BadInput(f"{path}: {count} batch(es) {where}, not sent to {endpoint}; {collect}, {abandon}")
    if ledger.options is not None and ledger.options != options:
        began, now_asked = ledger.options.model_dump(), options.model_dump()
        changed = [name for name in began if began[name] != now_asked[name]]
        flags = ", ".join(_flag(name, began[name]) for name in changed)
        raise BadInput(
            f"{path}: {count} batch(es) in flight were asked with {flags}; "
            f"run with the same options to collect them, {abandon}"
        )


def _flag(name: str, value: object) -> str:
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else f"no {flag}"
    return f"{flag} {value}" if value is not None else f"no {flag}"


def ledger_options(options: DraftOptions) -> LedgerOptions:
    """The options that shape a run's requests, as its ledger keeps them."""
    return LedgerOptions(**{name: getattr(options, name) for name in LedgerOptions.model_fields})


def import_batch(
    project: Project,
    path: Path,
    env: Mapping[str, str],
    reporter_for: Callable[[str], Reporter],
    roles_at_once: int | None = None,
) -> BatchedCatalog:
    """File the output of an exported batch run elsewhere (a JSONL of `{custom_id, response}`
    lines, as vLLM's run-batch writes), then go on with the run it belongs to, with the options
    it began with (and its roles at once, unless `roles_at_once` says), until its next batch is
    exported or every role is done."""
    check_roles_at_once(roles_at_once)  # refused before anything is filed
    folder = catalog_folder(project)
    ledger = read_ledger(folder / LEDGER_FILE)
    waiting = [batch for batch in ledger.batches if not batch.collected]
    if not waiting or ledger.options is None:
        raise BadInput(f"{path}: no exported batch waits for answers in {folder}; run jfm batch export first")
    try:
        # utf-8-sig: a byte-order mark an editor put first is not part of the first line.
        lines = parse_jsonl(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
    except JsonlError as error:
        raise BadInput(f"{path}: {error}") from None
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
        # A custom_id ends in its request's digest: a line answers one export's request only.
        mine = [line for line in lines if line["custom_id"] in batch.requests]
        if mine and batch.id is not None:
            write_atomic(folder / IMPORT_DIR / f"{batch.id}.jsonl", jsonl_text(mine))
            filed += len(mine)
    if not filed:
        names = ", ".join(batch.id or batch.tag for batch in waiting)
        raise BadInput(f"{path}: answers none of the requests of {names}")
    options = DraftOptions(role="", **ledger.options.model_dump())
    return draft_all_batched(project, options, env, reporter_for, offline=True, roles_at_once=roles_at_once)
