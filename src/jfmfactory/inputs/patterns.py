"""The guard's regular expressions, parsed once per Python instead of once per process.

A guard pattern spells out word classes and runs to thousands of characters. `re.compile` parses
each and turns its tree into the engine's code at the start of every command: a quarter of a
second for the guard's 107 patterns, and the prefilter parsed them all again for its strings.
`read` parses a pattern once, for both: the strings a match needs (`prefilter.needed`) and the
engine's code, a list of ints with the group tables, exactly what `re.compile` hands the engine.
`compiled` makes the pattern from that code with no parsing, 3 ms for all 107; `guard` keeps
what `read` returns on disk (`disk_cache`).

The code is the engine's private format. So it is used only by the Python that made it (the
disk cache is keyed by its version and the engine's magic number), the engine checks the code as
it takes it, and wherever any of this fails the pattern is compiled as usual. The pattern made is
`re.compile`'s own: `re.Pattern` equality compares the code, and tests/inputs/test_patterns.py
holds every guard pattern and many random ones to it.
"""

from __future__ import annotations

import re
from typing import Any

from .prefilter import Atoms, needed

try:  # the engine's own parser and compiler: private, so read with care
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]

    ENGINE = f"sre {_sre.MAGIC}"
except (ImportError, AttributeError):  # another Python's engine: every pattern compiled as usual
    ENGINE = ""

#: The engine's code for a pattern: its flags, the code, the number of groups and their names
#: both ways (the arguments `re.compile` passes the engine after its own pattern text).
Code = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]


def read(regex: str, flags: int) -> tuple[Atoms, Code | None]:
    """The strings one of which a match must hold, and the engine's code, from one parse.

    Raises `re.error` for a pattern the engine refuses, as `re.compile` would.
    """
    if not ENGINE:
        re.compile(regex, flags)  # checked as ever; every sentence is searched for it
        return None, None
    tree = _parser.parse(regex, flags)
    atoms = needed(tree, flags)
    code = _compiler._code(tree, flags)  # what `re._compiler.compile` does after parsing
    names = tree.state.groupdict
    by_number: list[str | None] = [None] * tree.state.groups
    for name, number in names.items():
        by_number[number] = name
    # Plain ints: the engine's opcodes are an int subclass that marshal cannot keep.
    return atoms, (int(flags | tree.state.flags), list(map(int, code)), tree.state.groups - 1, dict(names),
                   tuple(by_number))  # fmt: skip


def compiled(regex: str, flags: int, code: Any) -> re.Pattern[str]:
    """The pattern `re.compile(regex, flags)` makes, from the code `read` made of it."""
    if code is not None and ENGINE:
        try:
            return _sre.compile(regex, *code)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            pass  # code the engine refuses (another build's): compiled as usual
    return re.compile(regex, flags)
