"""The library behind the CLI: each entry point takes plain options and returns a typed result.

- options: `DraftOptions` and their checks;
- session and endpoints: `session` reads a role's inputs, opens its endpoints and starts its record;
- single runs: `draft`, `review`;
- the live catalog: `draft_all`;
- the batched catalog: `draft_all_batched`, `import_batch`;
- calibration: `calibrate`, `label`;
- seeds: `new_role`, `add_source`;
- publishing: `approve`, `reject`.

The CLI imports this package, the views and `errors`, nothing else of jfm: what it needs from
the layers below (a project, a reporter, the key variables to redact) is re-exported here.
"""

from ..calibration.run import CALIBRATION_JSON
from ..catalog.scaffold import NewRole, parse_levels
from ..inputs.project import Project
from ..llm.batch import MIN_POLL_S, POLL_S, BatchProgress
from ..llm.client import Redactor
from ..llm.prices import PriceTable, load_prices
from ..llm.provider import KEY_VARIABLES
from ..llm.stopping import Terminated, stop
from ..pipeline.loop import QuietReporter, Reporter
from ..records.batches import BatchLedger
from ..records.catalog_run import RunSummary
from ..records.runlog import RunRecord
from ..records.store import write_atomic
from .batched import BatchedCatalog, catalog_folder, draft_all_batched, import_batch
from .calibration import CALIBRATION_OUT, calibrate, label, label_item
from .catalog import CatalogRun, draft_all
from .options import BATCHED_ROLES_AT_ONCE, DraftOptions, check_catalog_options, check_roles_at_once
from .publish import approve, reject
from .runs import REVIEW_DIR, draft, review
from .seeds import add_source, new_role
from .session import Session, endpoints, session

__all__ = [
    "BATCHED_ROLES_AT_ONCE",
    "CALIBRATION_JSON",
    "CALIBRATION_OUT",
    "KEY_VARIABLES",
    "MIN_POLL_S",
    "POLL_S",
    "REVIEW_DIR",
    "BatchLedger",
    "BatchProgress",
    "BatchedCatalog",
    "CatalogRun",
    "DraftOptions",
    "NewRole",
    "PriceTable",
    "Project",
    "QuietReporter",
    "Redactor",
    "Reporter",
    "RunRecord",
    "RunSummary",
    "Session",
    "Terminated",
    "add_source",
    "approve",
    "calibrate",
    "catalog_folder",
    "check_catalog_options",
    "check_roles_at_once",
    "draft",
    "draft_all",
    "draft_all_batched",
    "endpoints",
    "import_batch",
    "label",
    "label_item",
    "load_prices",
    "new_role",
    "parse_levels",
    "reject",
    "review",
    "session",
    "stop",
    "write_atomic",
]
