"""The `jfm` command: parses options and calls the library; no logic lives here."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import logging
import math
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from . import api
from .api import (
    BATCHED_ROLES_AT_ONCE,
    KEY_VARIABLES,
    MIN_POLL_S,
    POLL_S,
    BatchLedger,
    Project,
    QuietReporter,
    Redactor,
    RunRecord,
    Terminated,
    load_prices,
    parse_levels,
    stop,
    write_atomic,
)
from .errors import EXIT_FAILED, EXIT_NOT_PASSED, EXIT_PASSED, BadInput, JfmError, RoleError
from .views import console, entry
from .views.console import (
    BatchBars,
    CatalogProgress,
    ConsoleReporter,
    batch_table,
    calibration_table,
    catalog_progress,
    catalog_table,
    compare_table,
    diff_lines,
    roles_table,
    sources_table,
    summary,
)
from .views.site import build_site

#: The base of the usage errors of typer's own copy of click (of which only BadParameter is public).
_USAGE_ERROR = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException")


def _usage_error_in_one_line(error: Exception) -> None:
    """Have a usage error (a flag's value, an unknown option or command) show as one line."""
    if not isinstance(error, _USAGE_ERROR) or type(error).__name__ == "NoArgsIsHelpError":
        return  # `jfm` alone prints the help, as asked

    def show(file: Any = None) -> None:
        ctx = getattr(error, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = " ".join(error.format_message().split()).rstrip(".")  # type: ignore[attr-defined]
        typer.echo(f"jfm: error: {message}{hint}", file=file, err=True)

    error.show = show  # type: ignore[attr-defined]


class OneLineGroup(TyperGroup):
    """Typer's group, with every usage error reported on one line like every other error."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except Exception as error:
            _usage_error_in_one_line(error)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            _usage_error_in_one_line(error)
            raise


app = typer.Typer(
    cls=OneLineGroup,
    help="Draft job-family profiles with an LLM; publish none until the review panel passes it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts say [default: …] in brackets; as Rich markup they would vanish.
    rich_markup_mode=None,
)
#: Every option's default, from the library: one place for each.
DEFAULTS = api.DraftOptions(role="")
# No ":name:" in a message or a profile is taken for an emoji code.
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)
# instructor logs each failed attempt; jfm reports failures itself, in one line.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False

SeedsOption = Annotated[
    Path | None,
    typer.Option("--seeds", help="Seeds folder to read roles from [default: seeds/ of the project]."),
]


class Stopped(JfmError):
    """Ctrl-C or SIGTERM: the run records what it completed, the embedded server is stopped."""

    def __init__(self, signum: int, kept: str = "completed rounds are kept") -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}; {kept}")
        self.exit_code = 128 + signum


@contextlib.contextmanager
def _stops_handled() -> Iterator[None]:
    """On Ctrl-C or SIGTERM, send no further request, then stop the run going on (`stop`) so that
    every cleanup runs: the run records what it completed, the folder is released."""
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)


def _os_error(error: OSError) -> JfmError:
    """A disk that fills or a folder that vanishes, as one line."""
    return JfmError(f"{error.filename or 'output'}: {error.strerror or error}")


def _fail(error: JfmError) -> typer.Exit:
    # No configured key is printed, whatever an endpoint echoed (the client redacts it already).
    redact = Redactor(os.environ.get(name) for name in KEY_VARIABLES)
    err.print(redact(f"jfm: error: {error}"), highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(error.exit_code)


@contextlib.contextmanager
def _reported() -> Iterator[None]:
    """Every expected failure as one line and its exit status; Ctrl-C and SIGTERM included."""
    try:
        with _stops_handled():
            yield
    except KeyboardInterrupt as interrupt:
        signum = signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
        raise _fail(Stopped(signum)) from None
    except JfmError as error:
        raise _fail(error) from None
    except OSError as error:
        raise _fail(_os_error(error)) from None


RoleOption = Annotated[str, typer.Option("--role", help="Role: a folder name in seeds/.")]
RoleArgument = Annotated[str, typer.Argument(help="Role: a folder name in seeds/.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Output folder [default: out/ROLE/].")]
ThresholdOption = Annotated[int, typer.Option("--threshold", help="Score (1–5) every dimension must reach.")]
ModelOption = Annotated[str | None, typer.Option("--model", help="Model name [default: the embedded model].")]
BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint [default: $OPENAI_BASE_URL].")
]
PanelModelOption = Annotated[
    str | None,
    typer.Option(
        "--panel-model", help="Model for the panel [default: $JFM_PANEL_MODEL, else the drafter's]."
    ),
]
PanelUrlOption = Annotated[
    str | None,
    typer.Option(
        "--panel-base-url",
        help="Endpoint for the panel, its key in $JFM_PANEL_API_KEY "
        "[default: $JFM_PANEL_BASE_URL, else the drafter's].",
    ),
]
SamplesOption = Annotated[
    int,
    typer.Option(
        "--samples", help="Ask each reviewer N times (temperature > 0); the pass rule uses the mean."
    ),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for one model answer before retrying.")
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        help="Model calls at once [default: 4; 1 for the embedded model, which serves one at a time].",
    ),
]
RpmOption = Annotated[
    int | None,
    typer.Option("--rpm", help="Most requests a minute to send (a live run; every role together)."),
]
TpmOption = Annotated[
    int | None,
    typer.Option(
        "--tpm",
        help="Most tokens a minute to send (prompt and the answer's most, a live run; every role together).",
    ),
]
RolesAtOnceOption = Annotated[
    int | None,
    typer.Option(
        "--roles-at-once",
        help=f"Roles of a batched catalog in progress at once [default: what the run in flight began "
        f"with, else {BATCHED_ROLES_AT_ONCE}]: each holds about 0.6 MB of memory; more make fewer "
        "steps of batches.",
    ),
]
RecordOption = Annotated[
    Path | None, typer.Option("--record", help="Write every HTTP exchange to this cassette.")
]
ReplayOption = Annotated[
    Path | None,
    typer.Option("--replay", help="Answer every request from this cassette: no model, no network."),
]


def _model_flags(
    threshold: ThresholdOption = DEFAULTS.threshold,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    panel_model: PanelModelOption = None,
    panel_base_url: PanelUrlOption = None,
    samples: SamplesOption = DEFAULTS.samples,
    timeout: TimeoutOption = DEFAULTS.timeout_s,
    concurrency: ConcurrencyOption = DEFAULTS.concurrency,
    rpm: RpmOption = None,
    tpm: TpmOption = None,
    record: RecordOption = None,
    replay: ReplayOption = None,
) -> dict[str, Any]:
    """The flags of every command that asks models, as `api.DraftOptions` names them."""
    return dict(
        threshold=threshold, model=model, base_url=base_url, panel_model=panel_model,
        panel_base_url=panel_base_url, samples=samples, timeout_s=timeout, concurrency=concurrency,
        rpm=rpm, tpm=tpm, record=record, replay=replay,
    )  # fmt: skip


def with_model_flags(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the flags of `_model_flags` after its own; it receives them as `flags`."""
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "flags"]
    shared = list(inspect.signature(_model_flags, eval_str=True).parameters.values())

    @functools.wraps(command)
    def wrapper(**given: Any) -> None:
        flags = _model_flags(**{p.name: given.pop(p.name) for p in shared})
        command(flags=flags, **given)

    # Typer reads the options from the signature.
    wrapper.__signature__ = inspect.Signature(own + shared)  # type: ignore[attr-defined]
    return wrapper


def _run(
    call: Callable[..., RunRecord], options: api.DraftOptions, seeds: Path | None, *default_out: str
) -> None:
    """Call a library entry point; report its result or its one-line error and exit with its status."""
    with _reported():
        project = Project.find(Path.cwd(), seeds)
        run = call(project, options, os.environ, ConsoleReporter(err))
    summary(out, run, options.out.resolve() if options.out else project.out.joinpath(*default_out))
    raise typer.Exit(EXIT_PASSED if run.status == "passed" else EXIT_NOT_PASSED)


def _run_all(
    options: api.DraftOptions, seeds: Path | None, batch: bool, poll: float, roles_at_once: int | None
) -> None:
    """`jfm draft --all`: a progress bar per role (per batch with `batch`), then one summary
    table; exit 0 when all pass."""
    with _reported():
        # Refused before the progress bars start, so an error is the only line printed.
        api.check_catalog_options(options, "--batch" if batch else "--all")
        api.check_roles_at_once(roles_at_once)
        project = Project.find(Path.cwd(), seeds)
        with catalog_progress(err) as progress:
            if batch:
                batched = api.draft_all_batched(
                    project,
                    options,
                    os.environ,
                    lambda role: QuietReporter(),
                    BatchBars(progress),
                    poll,
                    roles_at_once=roles_at_once,
                )
                results = batched.runs
            else:
                results = api.draft_all(project, options, os.environ, CatalogProgress(progress).reporter_for)
    _catalog_result(results, batched.ledger if batch else None, project)


def _catalog_result(results: list[api.CatalogRun], ledger: BatchLedger | None, project: Project) -> None:
    """The catalog's table (and its batches'); exit 0 when every role passed."""
    out.print(catalog_table(results))
    if ledger is not None:
        out.print(batch_table(ledger, load_prices(project.root)))
    failed = any(r.error for r in results)
    passed = all(r.run is not None and r.run.status == "passed" for r in results)
    raise typer.Exit(EXIT_FAILED if failed else EXIT_PASSED if passed else EXIT_NOT_PASSED)


@app.command()
@with_model_flags
def draft(
    role: Annotated[
        str | None, typer.Option("--role", help="Role to draft: a folder name in seeds/.")
    ] = None,
    all_roles: Annotated[
        bool,
        typer.Option(
            "--all", help="Draft every role in seeds/, skipping those whose outputs are up to date."
        ),
    ] = False,
    out_dir: OutOption = None,
    max_rounds: Annotated[
        int, typer.Option("--max-rounds", help="Most draft–review rounds.")
    ] = DEFAULTS.max_rounds,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Go on with an interrupted or failed run after its last completed round."
        ),
    ] = False,
    ladder: Annotated[
        bool,
        typer.Option(
            "--ladder",
            help="Draft every level's responsibilities in one call from all levels' quotes "
            "(for a model that can plan the whole ladder); revisions still go item by item.",
        ),
    ] = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="With --all: send every role's calls through the endpoint's Batch API, a few batches a "
            "round (half the price, answers within 24 h); run it again after a stop to pick up the "
            "batches in flight.",
        ),
    ] = False,
    poll: Annotated[
        float, typer.Option("--poll", help="With --batch: seconds between looks at the batches in flight.")
    ] = POLL_S,
    roles_at_once: RolesAtOnceOption = None,
    seeds: SeedsOption = None,
    *,
    flags: dict[str, Any],
) -> None:
    """Draft a role's profile, have the panel review it, and revise until it passes or stalls.

    Exit status: 0 passed, 3 finished without passing, 2 bad usage or input, 1 any other failure,
    130 or 143 when stopped by Ctrl-C or SIGTERM (completed rounds are kept).
    """
    if all_roles == (role is not None):
        raise _fail(BadInput("name one --role, or --all"))
    if batch and not all_roles:
        raise _fail(BadInput("--batch: drafts a catalog; use it with --all"))
    if roles_at_once is not None and not batch:
        raise _fail(BadInput("--roles-at-once: bounds a batched catalog; use it with --all --batch"))
    if not math.isfinite(poll) or poll < MIN_POLL_S:
        raise _fail(BadInput(f"--poll {poll:g}: must be {MIN_POLL_S:g} seconds or more, and finite"))
    options = api.DraftOptions(
        role=role or "", out=out_dir, max_rounds=max_rounds, resume=resume, ladder=ladder, **flags
    )
    if all_roles:
        _run_all(options, seeds, batch, poll, roles_at_once)
    assert role is not None
    _run(api.draft, options, seeds, role)


batch_app = typer.Typer(
    cls=OneLineGroup,
    help="Batches for an engine elsewhere: a vLLM cluster's run-batch, or any engine that takes "
    "the Batch API's JSONL.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(batch_app, name="batch")


def _batched(run: Callable[[Project], api.BatchedCatalog], seeds: Path | None) -> None:
    """Report a batched catalog run: the files that wait for an engine, or every role's result."""
    with _reported():
        project = Project.find(Path.cwd(), seeds)
        result = run(project)
    if result.waiting:
        model = result.ledger.options.model if result.ledger.options else None
        for batch in result.waiting:
            rounds = ", ".join(map(str, batch.rounds))
            line = f"{batch.input_file_id}: {len(batch.requests)} requests (round {rounds})"
            out.print(line, highlight=False, markup=False, soft_wrap=True)
        out.print(
            "Run each with an engine that takes the Batch API's JSONL, e.g. python -m "
            f"vllm.entrypoints.openai.run_batch -i FILE -o OUTPUT --model {model or 'MODEL'}; "
            "then: jfm batch import OUTPUT",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_PASSED)
    _catalog_result(result.runs, result.ledger, project)


@batch_app.command("export")
@with_model_flags
def batch_export(
    max_rounds: Annotated[
        int, typer.Option("--max-rounds", help="Most draft–review rounds.")
    ] = DEFAULTS.max_rounds,
    ladder: Annotated[
        bool, typer.Option("--ladder", help="Draft every level's responsibilities in one call first.")
    ] = False,
    roles_at_once: RolesAtOnceOption = None,
    seeds: SeedsOption = None,
    *,
    flags: dict[str, Any],
) -> None:
    """Draft every role until its next calls are needed, and write them as one batch file
    (out/_catalog/export/) instead of asking an endpoint.

    Exit status: 0 a batch file written (or every role done and passed), 3 done without every
    role passing, 2 bad usage or input, 1 any other failure.
    """
    options = api.DraftOptions(role="", max_rounds=max_rounds, ladder=ladder, **flags)
    quiet = lambda role: QuietReporter()  # noqa: E731
    _batched(
        lambda project: api.draft_all_batched(
            project, options, os.environ, quiet, offline=True, roles_at_once=roles_at_once
        ),
        seeds,
    )


@batch_app.command("import")
def batch_import(
    output: Annotated[
        Path, typer.Argument(help="The engine's output: JSON lines with custom_id and response.")
    ],
    roles_at_once: RolesAtOnceOption = None,
    seeds: SeedsOption = None,
) -> None:
    """File the answers of an exported batch, then go on with the run (its own options) until the
    next batch file is written or every role is done.

    Exit status: as for jfm batch export.
    """
    quiet = lambda role: QuietReporter()  # noqa: E731
    _batched(lambda project: api.import_batch(project, output, os.environ, quiet, roles_at_once), seeds)


@app.command()
@with_model_flags
def review(
    role: RoleOption,
    profile: Annotated[
        Path | None,
        typer.Option("--profile", help="Profile JSON to review [default: out/ROLE/profile.json]."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder [default: out/ROLE/review/].")
    ] = None,
    seeds: SeedsOption = None,
    *,
    flags: dict[str, Any],
) -> None:
    """Run the panel alone on an existing profile (one edited by hand, say) and record its verdict.

    Exit status: 0 passed, 3 not passed, 2 bad usage or input, 1 any other failure.
    """
    options = api.DraftOptions(role=role, out=out_dir, profile=profile, **flags)
    _run(api.review, options, seeds, role, api.REVIEW_DIR)


@app.command()
@with_model_flags
def calibrate(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder [default: out/calibration/].")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the planted faults.")] = 0,
    seeds: SeedsOption = None,
    *,
    flags: dict[str, Any],
) -> None:
    """Measure how often the panel is right: run it on every case in calibration/ and on planted faults.

    Writes calibration.json, calibration.md and calibration.html. Exit status: 0 every dimension
    meets its floors (calibration/floors.toml), 3 one does not, 2 bad usage or input, 1 any other
    failure.
    """
    options = api.DraftOptions(role="", out=out_dir, **flags)
    with _reported():
        project = _project(seeds)
        record = api.calibrate(
            project, options, os.environ, seed, lambda line: err.print(line, highlight=False)
        )
        folder = out_dir or project.out / api.CALIBRATION_OUT
        pages = entry.write_calibration_pages(folder, record)
    out.print(calibration_table(record))
    out.print(
        f"written: {folder / api.CALIBRATION_JSON}, {', '.join(str(p) for p in pages)}", highlight=False
    )
    raise typer.Exit(EXIT_PASSED if record.passed else EXIT_NOT_PASSED)


@app.command()
def label(
    role: RoleOption,
    dimension: Annotated[
        str | None, typer.Option("--dimension", help="The dimension judged, e.g. clarity.")
    ] = None,
    passed: Annotated[
        bool | None, typer.Option("--pass/--fail", help="Your verdict on that dimension.", show_default=False)
    ] = None,
    item: Annotated[
        str | None,
        typer.Option(
            "--item", help="Or one item judged, e.g. responsibilities.P3.2, guidelines.P3.knowledge."
        ),
    ] = None,
    keep: Annotated[
        bool | None, typer.Option("--keep/--strike", help="Your verdict on that item.", show_default=False)
    ] = None,
    fault: Annotated[
        str | None, typer.Option("--fault", help="A struck item's class of fault, e.g. second-person.")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="One line on why.")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who labels it [default: $USER].")] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Profile JSON [default: out/ROLE/profile.json].")
    ] = None,
    case: Annotated[
        str | None, typer.Option("--case", help="Case name [default: ROLE and the profile's digest].")
    ] = None,
    seeds: SeedsOption = None,
) -> None:
    """Record your verdict on a drafted profile as a calibration case: on one dimension
    (--dimension with --pass or --fail), or on one item (--item with --keep, or --strike and
    --fault), beside other readers' verdicts."""
    if (dimension is None) == (item is None):
        raise _fail(BadInput("--dimension or --item: judge one dimension or one item"))
    who = by or os.environ.get("USER") or "a reviewer"
    if item is not None:
        if keep is None:
            raise _fail(BadInput("--keep or --strike: give your verdict on the item"))
        with _reported():
            folder = api.label_item(
                _project(seeds), role, item, "keep" if keep else "strike", fault, note, who, profile, case
            )
        out.print(f"labelled: {folder}", highlight=False, soft_wrap=True)
        return
    assert dimension is not None
    if passed is None:
        raise _fail(BadInput("--pass or --fail: give your verdict"))
    with _reported():
        folder = api.label(
            _project(seeds),
            role,
            dimension,
            "pass" if passed else "fail",
            note,
            who,
            profile,
            case,
            lambda line: out.print(line, highlight=False, markup=False, soft_wrap=True),
        )
    out.print(f"labelled: {folder}", highlight=False, soft_wrap=True)


def _notice(line: str) -> None:
    """A line on stderr while a command goes on (waiting for another jfm writing a folder)."""
    err.print(f"jfm: {line}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def roles(seeds: SeedsOption = None) -> None:
    """List the catalog's foci and the roles in seeds/, with codes and the state of their outputs."""
    with _reported():
        states = entry.roles(_project(seeds))
    out.print(roles_table(states))


@app.command()
def approve(
    role: Annotated[str, typer.Argument(help="The role whose kept profile (out/ROLE/) is signed off.")],
    by: Annotated[str, typer.Option("--by", help="Who signs it off.")],
    note: Annotated[str, typer.Option("--note", help="Why, or what to know, in one line.")] = "",
    override: Annotated[
        str | None,
        typer.Option(
            "--override", help="Why a profile that did not pass the panel is approved all the same."
        ),
    ] = None,
    seeds: SeedsOption = None,
) -> None:
    """Sign off a role's kept profile: it becomes the role's next version, published/ROLE/vN.json."""
    with _reported(), _role_argument():
        version = api.approve(_project(seeds), role, by, note, override)
    overridden = (
        f"; over the panel's verdict: {version.approval.override}" if version.approval.override else ""
    )
    said = f"approved {role} v{version.version} ({version.digest[:12]}) by {version.approval.by}{overridden}"
    out.print(said, highlight=False, markup=False, soft_wrap=True)


@app.command()
def reject(
    role: Annotated[str, typer.Argument(help="The role whose kept profile is refused.")],
    by: Annotated[str, typer.Option("--by", help="Who refuses it.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, in one line.")],
    item: Annotated[
        list[str] | None,
        typer.Option(
            "--item",
            help="An item refused, as ITEM:FAULT[:REASON] (e.g. responsibilities.P3.2:distorted); "
            "repeat for more. Each joins the calibration labels as a struck item.",
        ),
    ] = None,
    seeds: SeedsOption = None,
) -> None:
    """Refuse a role's kept profile, saying why (and which items, if need be)."""
    with _reported(), _role_argument():
        rejection = api.reject(_project(seeds), role, by, reason, item)
    items = f"; {len(rejection.items)} item(s) labelled struck" if rejection.items else ""
    out.print(
        f"rejected {role} ({rejection.digest[:12]}) by {rejection.by}{items}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
def diff(role: RoleArgument, seeds: SeedsOption = None) -> None:
    """The kept draft against the version people read (the latest approved): items added, removed
    and changed per section and level, the changed words marked."""
    with _reported(), _role_argument():
        found = entry.diff(_project(seeds), role)
    for line in diff_lines(found):
        out.print(line, soft_wrap=True)


@app.command()
def new(
    role: Annotated[str, typer.Argument(help="The role's folder name in seeds/, e.g. data-engineering.")],
    title: Annotated[str, typer.Option("--title", help="Role title shown on the profile.")],
    family: Annotated[str, typer.Option("--family", help="A job family of catalog/roles.toml.")],
    focus: Annotated[
        str | None, typer.Option("--focus", help="Focus in the family [default: the title].")
    ] = None,
    levels: Annotated[str, typer.Option("--levels", help="Levels drafted, a range.")] = "P2-P7",
    seeds: SeedsOption = None,
) -> None:
    """Start a role: seeds/ROLE/manifest.toml and its focus in catalog/roles.toml (its SOC code
    suggested from the family, for content ops to confirm). Then add sources with jfm add-source."""
    with _reported():
        project = _project(seeds)
        made = api.new_role(project, role, title, family, focus or title, parse_levels(levels), _notice)
    said = (
        f"created {made.manifest}, attached to the existing focus {made.focus.name} "
        f"({made.focus.code('P?')}) of catalog/roles.toml, which is unchanged"
        if made.attached
        else f"created {made.manifest} and the focus {made.focus.name} ({made.focus.code('P?')}); its SOC "
        f"code is a suggestion from {made.suggested_from}: confirm it in catalog/roles.toml"
    )
    out.print(said, highlight=False, markup=False, soft_wrap=True)


@contextlib.contextmanager
def _role_argument() -> Iterator[None]:
    """The library names a role as `jfm draft` takes it, `--role X`; here it is the argument ROLE."""
    try:
        yield
    except RoleError as error:
        raise error.given_as("ROLE") from None


@contextlib.contextmanager
def _site_kept(folder: Path) -> Iterator[None]:
    """A stop of `jfm site` leaves the site that was there (it is built beside it)."""
    try:
        yield
    except KeyboardInterrupt as interrupt:
        signum = signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
        raise Stopped(signum, f"{folder} was left as it was") from None


@contextlib.contextmanager
def _nothing_added(role: str) -> Iterator[None]:
    """A stop of `jfm add-source` comes while it fetches or reads the document, or waits for the
    role's folder: it writes (for some milliseconds) only at its end, so nothing was added."""
    try:
        yield
    except KeyboardInterrupt as interrupt:
        signum = signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
        raise Stopped(signum, f"nothing was added to {role}") from None


@app.command("add-source")
def add_source(
    role: Annotated[str, typer.Argument(help="The role: a folder name in seeds/.")],
    location: Annotated[
        str, typer.Argument(help="A file (.html, .pdf, .docx, .md, .txt) or an http(s) URL.")
    ],
    title: Annotated[str | None, typer.Option("--title", help="Title [default: the document's own].")] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Publication date, YYYY-MM-DD [default: today].")
    ] = None,
    seeds: SeedsOption = None,
) -> None:
    """Add a web page, PDF, Word file, Markdown or text to a role's sources: its main content only
    (menus, footers and cookie banners dropped), listed in the manifest with its origin and digest."""
    with _reported(), _nothing_added(role), _role_argument():
        try:
            when = dt.date.fromisoformat(date) if date is not None else None
        except ValueError:
            raise BadInput(f"--date {date}: use YYYY-MM-DD") from None
        added = api.add_source(_project(seeds), role, location, title, when, _notice)
    out.print(
        f"added {added.id}: {added.title} ({added.file}, from {added.origin})", highlight=False, markup=False
    )


@app.command()
def sources(
    role: Annotated[str, typer.Argument(help="The role: a folder name in seeds/.")],
    seeds: SeedsOption = None,
) -> None:
    """List a role's sources: id, title, origin, date, size, and what the last run made of each."""
    with _reported(), _role_argument():
        states = entry.sources(_project(seeds), role)
    out.print(sources_table(role, states))


OutputsOption = Annotated[
    Path | None, typer.Option("--out", help="The run's output folder [default: out/ROLE/].")
]


def _project(seeds: Path | None) -> Project:
    return Project.find(Path.cwd(), seeds)


@app.command()
def show(
    role: RoleOption,
    round_number: Annotated[
        int | None, typer.Option("--round", help="Round to detail [default: the kept one].")
    ] = None,
    out_dir: OutputsOption = None,
    seeds: SeedsOption = None,
) -> None:
    """Show a run on the terminal: status, scores per round, one round's verdicts and the sources."""
    with _reported():
        outputs = entry.outputs_for(_project(seeds), role, out_dir)
        if outputs.note:
            typer.echo(f"jfm: note: {outputs.note}", err=True)
        console.show(out, outputs, round_number)


@app.command()
def report(role: RoleOption, out_dir: OutputsOption = None, seeds: SeedsOption = None) -> None:
    """Write report.html beside the run: one self-contained file that works offline."""
    with _reported():
        path = entry.write_report(_project(seeds), role, out_dir)
    out.print(f"report: {path}", highlight=False, soft_wrap=True)


@app.command()
def render(
    role: RoleOption,
    level: Annotated[str, typer.Option("--level", help="The level to publish, e.g. P6.")],
    fmt: Annotated[str, typer.Option("--format", help="md, html or json.")] = "md",
    out_dir: OutputsOption = None,
    seeds: SeedsOption = None,
) -> None:
    """Publish the profile for one level, that level highlighted; writes ROLE-LEVEL.FORMAT beside the run."""
    with _reported():
        path, text = entry.render_level(_project(seeds), role, out_dir, level, fmt)
    if fmt == "md":
        out.print(text, highlight=False, markup=False, soft_wrap=True)
    out.print(f"written: {path}", highlight=False, soft_wrap=True)


@app.command()
def compare(
    left: Annotated[str, typer.Argument(help="ROLE or ROLE@LEVEL, e.g. product-management@P5.")],
    right: Annotated[str, typer.Argument(help="ROLE or ROLE@LEVEL, e.g. product-management@P6.")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the comparison as an HTML page.")
    ] = None,
    seeds: SeedsOption = None,
) -> None:
    """Two roles, or two levels of one role, side by side (a side without a level takes the other's)."""
    with _reported():
        comparison = entry.compare(_project(seeds), left, right)
        if html is not None:
            try:
                write_atomic(html, entry.compare_html(comparison))
            except OSError as exc:
                raise BadInput(f"--html {html}: cannot be written ({exc.strerror or exc})") from exc
    out.print(compare_table(comparison))
    if html is not None:
        out.print(f"written: {html}", highlight=False, soft_wrap=True)


@app.command()
def site(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="OUT", help="Folder for the site: new, empty, or a site jfm wrote (replaced whole)."
        ),
    ],
    seeds: SeedsOption = None,
) -> None:
    """Write a static site of the approved roles (published/): the catalog by domain, family and
    focus, a page per role and level with its quotes, verdict and approval, a compare page and a
    search that works offline. Serve it with any static server: python -m http.server -d OUT."""
    with _reported(), _site_kept(folder):
        built = build_site(_project(seeds), folder)
    out.print(
        f"site: {built.folder} (approved roles: {built.roles}; pages: {built.pages})",
        highlight=False,
        soft_wrap=True,
    )
