"""The output folder (`out/<role>/`): fixed file names, each written atomically."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError

from ..errors import BadInput, first_error
from .evidence import Evidence
from .markdown import render_markdown
from .profile import Profile, shape_problem
from .runlog import CallSummary, RunRecord, Transcript, now

PROFILE_JSON = "profile.json"
PROFILE_MD = "profile.md"
RUN_JSON = "run.json"
EVIDENCE_JSON = "evidence.json"
TRANSCRIPTS = "transcripts"
DRAFTS = "drafts"
#: Where a new run sets the last run's outputs aside until it has a profile of its own.
PREVIOUS = "previous"
#: What makes up a run's outputs, set aside together (profile.json first: a folder without it
#: has nothing a new run should keep).
RUN_OUTPUTS = (PROFILE_JSON, PROFILE_MD, RUN_JSON, EVIDENCE_JSON, TRANSCRIPTS, DRAFTS)
#: Held by the run writing to the folder (an OS lock: it dies with the process, even on kill -9),
#: and by jfm new and jfm add-source in the catalog and a role's seeds folder while they write.
LOCK = ".jfm.lock"
#: Beside the lock: which process holds it, for the run refused.
LOCK_HOLDER = ".jfm.lock.holder"


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write `text` (or its pieces, in turn) so that readers see the old file or the new one,
    never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private; an output should have the mode any new file gets.
        os.fchmod(fd, 0o666 & ~UMASK)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            if isinstance(text, str):
                handle.write(text)
            else:
                handle.writelines(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _process_umask() -> int:
    # os.umask can only be read by setting it, which would race with threads writing files;
    # read once, at import, before any thread runs.
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _process_umask()


def to_json(model: BaseModel) -> str:
    return model.model_dump_json(indent=2) + "\n"


@contextlib.contextmanager
def held(folder: Path, busy: Callable[[], None]) -> Iterator[None]:
    """Hold `folder`'s lock (`LOCK`, an OS lock: released on every way out, and by the OS when
    the process dies) while files in it are read, changed and written back. When another process
    holds it, `busy` is called first: it raises to refuse, or returns to wait for the lock."""
    lock = FileLock(folder / LOCK)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        busy()
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def wait_for(folder: Path, tell: Callable[[str], None]) -> Callable[[], None]:
    """A `busy` for `held` that waits for the lock, saying so first with `tell`."""
    return lambda: tell(f"{folder}: another jfm is writing to it; waiting for it to finish")


class RunStore:
    """Reads and writes one role's outputs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def prepare(self) -> None:
        """Create the folder, or say plainly why it cannot be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".probe."):
                pass
        except OSError as exc:
            raise BadInput(f"--out {self.folder}: not writable ({exc.strerror})") from exc

    @contextlib.contextmanager
    def locked(self, other_out: bool = True) -> Iterator[None]:
        """Hold the folder for one run: another run into it is refused, naming the process that
        holds it (and suggesting another --out where a run can take one: `other_out`). Released
        on every way out; the OS releases it when the process dies."""

        def refuse() -> None:
            raise BadInput(
                f"{self.folder}: another jfm run ({self._holder()}) is writing to this folder; "
                f"wait for it to end{' or choose another --out' if other_out else ''}"
            ) from None

        with held(self.folder, refuse):
            try:
                write_atomic(
                    self.folder / LOCK_HOLDER, json.dumps({"pid": os.getpid(), "since": now()}) + "\n"
                )
                yield
            finally:
                (self.folder / LOCK_HOLDER).unlink(missing_ok=True)

    def _holder(self) -> str:
        try:
            holder = json.loads((self.folder / LOCK_HOLDER).read_text(encoding="utf-8"))
            return f"pid {int(holder['pid'])}, since {holder['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "its pid not yet written"

    def begin(self, run: RunRecord, kept_rounds: int = 0) -> None:
        """Start `run` in the folder: write its record before any model call, then clear what an
        earlier run left, so that none of it is taken for this run's.

        A resumed run keeps its first `kept_rounds` rounds. A new run sets a finished run's
        outputs aside in previous/, whole, until it writes a profile of its own: a run that fails
        before its first round ends takes nothing away. Only a folder jfm wrote (one with a
        run.json) is cleared; anything else is refused. A run killed at any point leaves a
        folder that a new run or `--resume` takes up: the record is written first, and a round
        counts only once the record lists it.
        """
        for name in (TRANSCRIPTS, DRAFTS, PROFILE_JSON, PROFILE_MD):
            if (self.folder / name).exists() and not (self.folder / RUN_JSON).is_file():
                kind = f"{name}/ folder" if name in (TRANSCRIPTS, DRAFTS) else name
                raise BadInput(f"{self.folder}: holds a {kind} that jfm did not write; choose another --out")
        if not kept_rounds:
            self._set_aside()
        self.write_run(run)
        # Temporaries of atomic writes that a killed run left behind (in its own files only: a
        # folder below, such as review/, may be another run's).
        for pattern in (".*.tmp", f"{DRAFTS}/.*.tmp", f"{TRANSCRIPTS}/round-*/.*.tmp"):
            for leftover in self.folder.glob(pattern):
                leftover.unlink(missing_ok=True)
        for pattern in (f"{TRANSCRIPTS}/round-*", f"{DRAFTS}/round-*.json"):
            for path in self.folder.glob(pattern):
                if int(path.name.removeprefix("round-").removesuffix(".json")) > kept_rounds:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()

    def _set_aside(self) -> None:
        """Move the outputs of a run that has a profile into previous/, replacing what an earlier
        run set aside there; a folder without a profile keeps previous/ as it is."""
        if not (self.folder / PROFILE_JSON).is_file():
            return
        previous = self.folder / PREVIOUS
        shutil.rmtree(previous, ignore_errors=True)
        previous.mkdir()
        for name in RUN_OUTPUTS:
            if (self.folder / name).exists():
                os.replace(self.folder / name, previous / name)

    def write_sections(self, number: int, sections: dict[str, Any]) -> None:
        """Every section as a round left it: what a resumed run starts from."""
        write_atomic(self.folder / DRAFTS / f"round-{number}.json", json.dumps(sections, indent=1) + "\n")

    def has_sections(self, number: int) -> bool:
        return (self.folder / DRAFTS / f"round-{number}.json").is_file()

    def read_sections(self, number: int) -> dict[str, Any]:
        """Every section as round `number` left it; a missing or unreadable file is an error."""
        path = self.folder / DRAFTS / f"round-{number}.json"
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise BadInput(f"{path}: cannot resume from it: {exc}") from exc

    def transcript_path(self, transcript: Transcript) -> str:
        """Where a call's transcript goes, relative to the folder."""
        name = transcript.call.replace(":", "-").replace("/", "-")
        return f"{TRANSCRIPTS}/round-{transcript.round}/{name}.json"

    def write_transcript(self, transcript: Transcript) -> str:
        relative = self.transcript_path(transcript)
        write_atomic(self.folder / relative, to_json(transcript))
        return relative

    def summarize(self, transcript: Transcript) -> CallSummary:
        """Write a call's transcript and account for it."""
        return CallSummary.of(transcript, self.write_transcript(transcript))

    def write_evidence(self, evidence: Evidence) -> None:
        """The evidence stage's file: every quote and the quotes each section may draw on."""
        write_atomic(self.folder / EVIDENCE_JSON, to_json(evidence))

    def read_evidence(self) -> Evidence | None:
        """The evidence a run in this folder drafted from; None when there is none."""
        path = self.folder / EVIDENCE_JSON
        if not path.is_file():
            return None
        try:
            return Evidence.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            detail = first_error(exc) if isinstance(exc, ValidationError) else str(exc)
            raise BadInput(f"{path}: not an evidence file jfm wrote ({detail})") from exc

    def write_run(self, run: RunRecord) -> None:
        write_atomic(self.folder / RUN_JSON, to_json(run))

    def write_profile(self, profile: Profile, evidence: Evidence | None = None) -> None:
        """profile.json, and profile.md rendered from it, each item with the quotes it rests on:
        those of `evidence`, or when none is given of the evidence.json in this folder (a file
        that cannot be read leaves the quotes out rather than the profile unwritten)."""
        if evidence is None:
            try:
                evidence = self.read_evidence()
            except BadInput:
                evidence = None
        write_atomic(self.folder / PROFILE_JSON, to_json(profile))
        write_atomic(self.folder / PROFILE_MD, render_markdown(profile, evidence))
        # The run has a profile of its own now: the one set aside is superseded.
        shutil.rmtree(self.folder / PREVIOUS, ignore_errors=True)

    def read_profile(self) -> Profile | None:
        """The run's profile.json, None when there is none; an unusable one is an error."""
        path = self.folder / PROFILE_JSON
        return read_profile_file(path, str(path)) if path.is_file() else None

    def read_run(self) -> RunRecord | None:
        """The last run's record, None when there is none; an unreadable one is an error."""
        path = self.folder / RUN_JSON
        if not path.is_file():
            return None
        try:
            return RunRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            detail = first_error(exc) if isinstance(exc, ValidationError) else str(exc)
            raise BadInput(f"{path}: unreadable run record: {detail}") from exc


def read_profile_file(
    path: Path, label: str, role: str | None = None, levels: list[str] | None = None
) -> Profile:
    """A profile file, as drafted or edited by hand, that renders and reviews; `label` names it in
    errors. With `role` and `levels`, it must be that role's profile, of those levels."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInput(f"{label}: no such profile") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{label}: cannot read: {exc}") from exc
    try:
        profile = Profile.model_validate_json(text)
    except ValidationError as exc:
        raise BadInput(f"{label}: {first_error(exc)}") from exc
    if role is not None and profile.role != role:
        raise BadInput(f"{label}: is a profile of {profile.role!r}, not {role!r}")
    if levels is not None and profile.levels != levels:
        raise BadInput(f"{label}: levels {profile.levels} differ from the role's {levels}")
    problem = shape_problem(profile)
    if problem:
        raise BadInput(f"{label}: {problem}")
    return profile
