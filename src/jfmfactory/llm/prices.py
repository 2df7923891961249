"""An optional price table (`prices.toml` in the project) that turns tokens into an estimated cost.

[models."gpt-4o-mini"]        # USD per million tokens
prompt = 0.15
cached_prompt = 0.075         # optional; defaults to the prompt price
completion = 0.60
batch_prompt = 0.075          # optional, for `--batch`; defaults to half the prompt price
batch_completion = 0.30       # optional, for `--batch`; defaults to half the completion price
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..inputs.datafile import load_model
from ..records.runlog import CallSummary, Usage

PRICES_FILE = "prices.toml"
#: What a batch request costs of a live one, where prices.toml gives no batch price: the Batch
#: API's documented discount.
BATCH_SHARE = 0.5


class ModelPrice(BaseModel):
    """USD per million tokens for one model."""

    model_config = ConfigDict(extra="forbid")

    prompt: float = Field(ge=0, description="Prompt tokens not served from a cache.")
    completion: float = Field(ge=0, description="Completion tokens.")
    cached_prompt: float | None = Field(default=None, ge=0, description="Prompt tokens served from a cache.")
    batch_prompt: float | None = Field(
        default=None, ge=0, description="Prompt tokens of a batch request; half the prompt price if none."
    )
    batch_completion: float | None = Field(
        default=None,
        ge=0,
        description="Batch completion tokens; half the completion price if none.",
    )

    def at_batch_rates(self) -> ModelPrice:
        """This model's prices for batch requests (cached prompt tokens at the batch prompt price)."""
        prompt = self.prompt * BATCH_SHARE if self.batch_prompt is None else self.batch_prompt
        completion = self.completion * BATCH_SHARE if self.batch_completion is None else self.batch_completion
        cached = min(prompt, self.cached_prompt or prompt)
        return ModelPrice(prompt=prompt, completion=completion, cached_prompt=cached)


class PriceTable(BaseModel):
    """`prices.toml`."""

    model_config = ConfigDict(extra="forbid")

    models: dict[str, ModelPrice] = Field(default_factory=dict)

    def at_batch_rates(self) -> PriceTable:
        """The table a batched run is priced by."""
        return PriceTable(models={name: price.at_batch_rates() for name, price in self.models.items()})

    def cost(self, calls: list[CallSummary]) -> float | None:
        """The calls' estimated cost in USD; None when a model used has no price."""
        return self.usage_cost([(call.model, call.usage) for call in calls])

    def usage_cost(self, spent: list[tuple[str, Usage]]) -> float | None:
        """The estimated cost in USD of tokens spent, each with its model; None when a model has
        no price."""
        total = 0.0
        for model, usage in spent:
            price = self.models.get(model)
            if price is None:
                return None
            cached_price = price.prompt if price.cached_prompt is None else price.cached_prompt
            total += (usage.prompt_tokens - usage.cached_tokens) * price.prompt
            total += usage.cached_tokens * cached_price + usage.completion_tokens * price.completion
        return round(total / 1_000_000, 6)


def load_prices(root: Path) -> PriceTable | None:
    path = root / PRICES_FILE
    return load_model(path, PriceTable, "price table") if path.is_file() else None
