"""An optional price table (`prices.toml` in the project) that turns tokens into an estimated cost.

[models."gpt-4o-mini"]        # USD per million tokens
prompt = 0.15
cached_prompt = 0.075         # optional; defaults to the prompt price
completion = 0.60
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..inputs.datafile import load_model
from ..records.runlog import CallSummary

PRICES_FILE = "prices.toml"


class ModelPrice(BaseModel):
    """USD per million tokens for one model."""

    model_config = ConfigDict(extra="forbid")

    prompt: float = Field(ge=0, description="Prompt tokens not served from a cache.")
    completion: float = Field(ge=0, description="Completion tokens.")
    cached_prompt: float | None = Field(default=None, ge=0, description="Prompt tokens served from a cache.")


class PriceTable(BaseModel):
    """`prices.toml`."""

    model_config = ConfigDict(extra="forbid")

    models: dict[str, ModelPrice] = Field(default_factory=dict)

    def cost(self, calls: list[CallSummary]) -> float | None:
        """The calls' estimated cost in USD; None when a model used has no price."""
        total = 0.0
        for call in calls:
            price = self.models.get(call.model)
            if price is None:
                return None
            usage = call.usage
            cached_price = price.prompt if price.cached_prompt is None else price.cached_prompt
            total += (usage.prompt_tokens - usage.cached_tokens) * price.prompt
            total += usage.cached_tokens * cached_price + usage.completion_tokens * price.completion
        return round(total / 1_000_000, 6)


def load_prices(root: Path) -> PriceTable | None:
    path = root / PRICES_FILE
    return load_model(path, PriceTable, "price table") if path.is_file() else None
