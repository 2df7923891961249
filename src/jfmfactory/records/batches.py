"""The batches of `jfm draft --all --batch`: what was submitted, what came back (out/_catalog/).

The ledger is rewritten atomically whenever a batch is submitted or collected, so a killed run
knows which batches are in flight and picks them up instead of submitting their requests again.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BadInput
from .runlog import Usage
from .store import write_atomic

LEDGER_VERSION = 2
#: Where a catalog run keeps what spans its roles.
CATALOG_DIR = "_catalog"
LEDGER_FILE = "batches.json"
#: Each collected batch's answers, one JSON line per request: `<batch id>.jsonl`.
ANSWERS_DIR = "answers"
#: Batches written for an engine elsewhere (`jfm batch export`), and that engine's output.
EXPORT_DIR = "export"
IMPORT_DIR = "import"
#: How the ledger names the endpoint of batches exported for an engine elsewhere.
EXPORTED = "export"
#: Statuses after which a batch changes no more.
ENDED = ("completed", "failed", "expired", "cancelled")


class BatchEntry(BaseModel):
    """One batch as submitted, and as last seen."""

    model_config = ConfigDict(extra="forbid")

    tag: str = Field(
        description="The tag the batch carries in its metadata: written here before the batch is "
        "created, so that a run stopped while creating it finds it at the endpoint."
    )
    id: str | None = Field(description="The batch's id at the endpoint; none until it confirms the batch.")
    input_file_id: str | None = Field(description="The id of the uploaded JSONL file of its requests.")
    model: str = Field(description="The model every request of the batch asks (one per batch).")
    submitted_at: str = Field(description="When it was submitted (UTC, ISO 8601).")
    status: str = Field(
        description="Its status when last polled: in_progress, completed, expired…; creating until "
        "the endpoint confirms it."
    )
    requests: dict[str, str] = Field(
        description="Each request's custom_id (role:round:call:attempt:digest, the first 12 "
        "characters of its body's digest) and the whole digest."
    )
    collected: bool = Field(default=False, description="Its results were read and handed to the roles.")
    answered: int = Field(default=0, description="Requests it answered (an HTTP error included).")
    unfinished: int = Field(default=0, description="Requests it did not finish: they went into a later one.")
    usage: Usage = Field(default_factory=Usage, description="Tokens of the requests it answered.")

    @property
    def rounds(self) -> list[int]:
        """The rounds its requests belong to."""
        return sorted({int(custom_id.split(":")[1]) for custom_id in self.requests})


class LedgerOptions(BaseModel):
    """What shapes a catalog run's requests: the run picked up again (`jfm batch import`) keeps to it."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(description="The drafter's model (--model); none: the embedded default's name.")
    panel_model: str | None = Field(description="The panel's model (--panel-model); none: the drafter's.")
    threshold: int = Field(description="Score every dimension must reach (--threshold).")
    max_rounds: int = Field(description="Most draft-review rounds (--max-rounds).")
    samples: int = Field(description="Answers asked of each reviewer (--samples).")
    ladder: bool = Field(description="Responsibilities first drafted in one call for every level (--ladder).")


class BatchLedger(BaseModel):
    """`out/_catalog/batches.json`: every batch of the catalog run, in the order submitted."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=LEDGER_VERSION, description="The ledger format's version.")
    endpoint: str | None = Field(
        default=None,
        description="Where its batches go: the endpoint's public URL, or `export` for an engine elsewhere.",
    )
    options: LedgerOptions | None = Field(default=None, description="The options the run began with.")
    roles_at_once: int | None = Field(
        default=None,
        description="Roles in progress at once (--roles-at-once); a run picked up again without the "
        "flag keeps to it.",
    )
    batches: list[BatchEntry] = Field(default_factory=list, description="Every batch, oldest first.")

    @property
    def usage(self) -> Usage:
        return sum((batch.usage for batch in self.batches), Usage())

    def costed(self) -> list[tuple[str, Usage]]:
        """Each batch's tokens with the model they were spent on, for a price table."""
        return [(batch.model, batch.usage) for batch in self.batches]

    def in_flight(self, role: str | None = None) -> list[BatchEntry]:
        """The batches not yet collected (that hold requests of `role`, when one is named)."""
        prefix = f"{role}:" if role else ""
        return [
            batch
            for batch in self.batches
            if not batch.collected and any(custom_id.startswith(prefix) for custom_id in batch.requests)
        ]

    def per_round(self) -> dict[int, int]:
        """How many batches carried requests of each round."""
        counts: dict[int, int] = {}
        for batch in self.batches:
            for number in batch.rounds:
                counts[number] = counts.get(number, 0) + 1
        return dict(sorted(counts.items()))


def read_ledger(path: Path) -> BatchLedger:
    """The ledger at `path`, empty when there is none yet."""
    if not path.is_file():
        return BatchLedger()
    try:
        ledger = BatchLedger.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        raise BadInput(f"{path}: not a batch ledger of this version ({error.error_count()} errors)") from None
    if ledger.version != LEDGER_VERSION:
        raise BadInput(f"{path}: a batch ledger of version {ledger.version}, not {LEDGER_VERSION}")
    return ledger


def write_ledger(path: Path, ledger: BatchLedger) -> None:
    write_atomic(path, ledger.model_dump_json(indent=2) + "\n")
