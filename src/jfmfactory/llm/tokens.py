"""How many tokens a text takes: counted by the model's own tokenizer where jfm has it, else estimated.

jfm has the embedded model's tokenizer: it is in the GGUF file, which llama.cpp loads alone
(`vocab_only`, no weights: about 0.1 s), with no server running, so replays count the same way.
For any other endpoint the count is an estimate from the text's length.
"""

from __future__ import annotations

import contextlib
import functools
import io
import threading
from pathlib import Path
from typing import Any, Protocol

from ..errors import EmbeddedServerError
from ..inputs.passages import ESTIMATE_BASIS, estimate_tokens
from . import embedded


class Tokenizer(Protocol):
    """Counts a text's tokens and says how, for run.json."""

    @property
    def basis(self) -> str: ...

    def count(self, text: str) -> int: ...


class Estimate:
    """No tokenizer at hand: tokens estimated from the text's length."""

    basis = ESTIMATE_BASIS

    def count(self, text: str) -> int:
        return estimate_tokens(text)


class GGUFTokenizer:
    """The tokenizer inside a GGUF model file, as llama.cpp tokenizes the model's prompts."""

    basis = "counted by the embedded model's tokenizer"

    def __init__(self, model: Path) -> None:
        self.vocabulary = _vocabulary(model)

    def count(self, text: str) -> int:
        with _TOKENIZING:
            return len(self.vocabulary.tokenize(text.encode(), add_bos=False))


#: One vocabulary serves every run of a process; calls that count run in threads.
_TOKENIZING = threading.Lock()


@functools.cache
def _vocabulary(model: Path) -> Any:
    """The model's vocabulary alone, loaded once a process."""
    embedded.require_llama_cpp()
    import llama_cpp

    # verbose=False still prints a warning about the (unused) context's size on stderr.
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return llama_cpp.Llama(model_path=str(model), vocab_only=True, verbose=False)
        except (ValueError, RuntimeError) as error:
            raise EmbeddedServerError(f"{model}: cannot load its tokenizer ({error})") from error


def tokenizer_for(embedded_model: bool) -> Tokenizer:
    """The embedded model's tokenizer when the run talks to it (or replays it), else the estimate."""
    return GGUFTokenizer(embedded.model_file()) if embedded_model else Estimate()
