"""instructor's refusal of async validators, asked once per response model instead of per call.

instructor (1.17) refuses a response model that carries one of its async validators, which its
runtime would not run, by walking the model's whole class tree (every attribute of every base
class, every field's type) three times a request: about 0.35 ms a request, a twentieth of a
batched catalog's CPU. The answer depends on the class alone, so a class that passed is
remembered for as long as it lives (weakly: a role's own models are not held); a class it refuses
raises every time, as before.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any


def memoise() -> None:
    """Put the remembering check where instructor looks it up: its module, and the one module
    that imported it by name (the others import it inside each call, so they find it there).
    An instructor laid out otherwise keeps its own check."""
    try:
        from instructor.v2.core import patch
        from instructor.v2.validation import async_validators

        found = async_validators.reject_async_validators
    except (ImportError, AttributeError):
        return
    check: Callable[[Any], None] = getattr(found, "__wrapped__", found)
    passed: weakref.WeakSet[type] = weakref.WeakSet()

    @functools.wraps(check)
    def once_per_model(response_model: Any) -> None:
        if not isinstance(response_model, type):  # list[Model], a union: walked each time
            check(response_model)
        elif response_model not in passed:
            check(response_model)
            passed.add(response_model)

    async_validators.reject_async_validators = once_per_model
    patch.reject_async_validators = once_per_model
