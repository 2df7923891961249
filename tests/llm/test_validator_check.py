"""instructor's async validator check, kept per response model (`llm.validator_check`)."""

from __future__ import annotations

import pytest
from instructor.v2.core import patch
from instructor.v2.validation import async_validators
from instructor.v2.validation.async_validators import async_field_validator
from pydantic import BaseModel

import jfmfactory.llm.client  # noqa: F401  (puts the kept check in place)


class Plain(BaseModel):
    name: str


class Awaiting(BaseModel):
    name: str

    @async_field_validator("name")
    async def known(self, value: str) -> str:
        return value


@pytest.mark.parametrize("module", [async_validators, patch], ids=["async_validators", "patch"])
def test_a_model_with_an_async_validator_is_still_refused_each_time_it_is_asked(module: object) -> None:
    check = module.reject_async_validators  # type: ignore[attr-defined]
    assert check.__wrapped__ is not None  # the kept check, where instructor looks it up
    for _ in range(2):  # a refusal is not kept as an answer
        with pytest.raises(ValueError, match="async validators are not supported"):
            check(Awaiting)
    check(Plain)
    check(list[Plain])


def test_the_check_walks_a_model_once(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[object] = []
    original = async_validators.reject_async_validators.__wrapped__

    def counting(model: object) -> None:
        walked.append(model)
        original(model)

    monkeypatch.setattr(async_validators, "reject_async_validators", counting)
    from jfmfactory.llm import validator_check

    validator_check.memoise()
    try:

        class Fresh(BaseModel):
            name: str

        for _ in range(3):
            async_validators.reject_async_validators(Fresh)
            patch.reject_async_validators(Fresh)
        assert walked == [Fresh]
    finally:
        monkeypatch.undo()
        validator_check.memoise()
