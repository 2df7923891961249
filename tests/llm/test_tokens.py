"""Token counts: the embedded model's own tokenizer where the run talks to it, else an estimate."""

from __future__ import annotations

import pytest

from conftest import REPO
from jfmfactory.inputs.passages import ESTIMATE_BASIS
from jfmfactory.llm import tokens
from jfmfactory.llm.tokens import Estimate, GGUFTokenizer, tokenizer_for


def test_another_endpoint_gets_an_estimate_that_says_so() -> None:
    tokenizer = tokenizer_for(False)
    assert isinstance(tokenizer, Estimate) and tokenizer.basis == ESTIMATE_BASIS
    assert "estimated" in tokenizer.basis
    assert tokenizer.count("") == 0 and tokenizer.count("abcd") == 1 and tokenizer.count("abcde") == 2


def test_the_embedded_model_counts_with_its_own_tokenizer_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    tokens._vocabulary.cache_clear()
    tokenizer = tokenizer_for(True)

    assert isinstance(tokenizer, GGUFTokenizer) and "tokenizer" in tokenizer.basis
    assert capfd.readouterr().err == ""  # llama.cpp's notes about its unused context are dropped
    assert tokenizer.count("hello world") == 2
    source = (REPO / "seeds" / "product-management" / "pm-levels-overview.txt").read_text()
    # English prose takes fewer tokens than its characters ÷ 4.
    assert 0 < tokenizer.count(source) < Estimate().count(source)


def test_the_vocabulary_is_loaded_once_a_process() -> None:
    first, second = tokenizer_for(True), tokenizer_for(True)
    assert isinstance(first, GGUFTokenizer) and isinstance(second, GGUFTokenizer)
    assert first.vocabulary is second.vocabulary
