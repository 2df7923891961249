"""instructor's refusal of async validators, asked once per response model instead of per call.

instructor (1.17) refuses a response model that carries one of its async validators, which its
runtime would not run, by walking the model's whole class tree (every attribute of every base
class, every field's type) three times a request: about 0.35 ms a request, a twentieth of a
batched catalog's CPU. The answer depends on the class alone, so it is kept per class; a class it
refuses raises every time, as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from instructor.v2.core import patch
from instructor.v2.validation import async_validators

#: Response models whose check is kept: more than a process makes (`client.MODELS_KEPT` a kind).
CHECKS_KEPT = 1024


def memoise() -> None:
    """Put the kept check where instructor looks it up: its module, and the one module that
    imported it by name (the others import it inside each call, so they find it there)."""
    check: Callable[[Any], None] = getattr(async_validators.reject_async_validators, "__wrapped__", None) or (
        async_validators.reject_async_validators
    )
    kept = functools.lru_cache(maxsize=CHECKS_KEPT)(check)

    @functools.wraps(check)
    def once_per_model(response_model: Any) -> None:
        try:
            kept(response_model)
        except TypeError as error:  # an unhashable model is checked every time
            if "unhashable" not in str(error):
                raise
            check(response_model)

    async_validators.reject_async_validators = once_per_model
    patch.reject_async_validators = once_per_model
