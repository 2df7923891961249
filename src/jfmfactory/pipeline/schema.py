"""What the tool JSON schema tells the model about each response model and each of its fields.

The model reads these descriptions with every call, so they are data like the prompts:
`prompts/schema.toml`, one table per response model (those it nests included), each with a
description and one for every field. They are set into the JSON schema when the response
models are built; the Python models carry none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, model_json_schema
from pydantic_core import core_schema

from ..errors import BadInput, first_error
from ..inputs.prompts import Prompts

SCHEMA_FILE = "schema.toml"
M = TypeVar("M", bound=BaseModel)


class ModelText(BaseModel):
    """One response model's table in `prompts/schema.toml`."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, description="What the model is, in one line.")
    fields: dict[str, str] = Field(description="What each field holds, in one line, by field name.")


def _model_name(model: type[BaseModel]) -> str:
    """A response model's name in the file; a generic one bound to choices goes by the generic's."""
    return (model.__pydantic_generic_metadata__["origin"] or model).__name__


def _generator(on_model: Callable[[str, JsonSchemaValue], None]) -> type[GenerateJsonSchema]:
    """A JSON schema generator that hands each model's schema, by model name, to `on_model`."""

    class Generator(GenerateJsonSchema):
        def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
            json_schema = super().model_schema(schema)
            on_model(_model_name(schema["cls"]), json_schema)
            return json_schema

    return Generator


class SchemaText:
    """The descriptions of `prompts/schema.toml`, checked against the response models."""

    def __init__(self, texts: dict[str, ModelText]) -> None:
        self.texts = texts

    def described(self, model: type[M]) -> type[M]:
        """`model` under its own name, its JSON schema (nested models included) carrying the
        file's descriptions."""

        def describe(name: str, json_schema: JsonSchemaValue) -> None:
            text = self.texts[name]
            json_schema["description"] = text.description
            for field, field_schema in json_schema["properties"].items():
                field_schema["description"] = text.fields[field]

        generator = _generator(describe)

        def json_schema(cls: type[BaseModel], **options: Any) -> dict[str, Any]:
            return model_json_schema(cls, **{**options, "schema_generator": generator})

        namespace = {"__module__": model.__module__, "model_json_schema": classmethod(json_schema)}
        return type(model.__name__, (model,), namespace)


def _response_fields(models: Iterable[type[BaseModel]]) -> dict[str, list[str]]:
    """Every model the JSON schemas of `models` describe (nested ones included), with its fields."""
    found: dict[str, list[str]] = {}

    def record(name: str, json_schema: JsonSchemaValue) -> None:
        found[name] = list(json_schema["properties"])

    generator = _generator(record)
    for model in models:
        model.model_json_schema(schema_generator=generator)
    return found


def described_text(prompts: Prompts, text: ModelText, where: str) -> ModelText:
    """A model's descriptions rendered as templates: they may name the profile's rules
    (`prompts.PROFILE_RULES`) as the prompts do."""
    return ModelText(
        description=prompts.render_string(text.description, where),
        fields={field: prompts.render_string(line, f"{where}.fields") for field, line in text.fields.items()},
    )


def load_schema_text(prompts: Prompts, models: Iterable[type[BaseModel]]) -> SchemaText:
    """`prompts/schema.toml`, with a description for every one of `models`, every model they nest
    and every field of each; a model or field missing, or one the file names that none has, is an
    error naming the file."""
    path = prompts.folder / SCHEMA_FILE
    table = prompts.table(SCHEMA_FILE)
    shapes = _response_fields(models)
    for name in table:
        if name not in shapes:
            raise BadInput(f"{path}: [{name}]: no response model of that name (they are {', '.join(shapes)})")
    texts: dict[str, ModelText] = {}
    for name, fields in shapes.items():
        if name not in table:
            raise BadInput(f"{path}: no [{name}] table: the response model {name} needs a description")
        try:
            text = described_text(prompts, ModelText.model_validate(table[name]), f"{path}: [{name}]")
        except ValidationError as exc:
            raise BadInput(f"{path}: [{name}]: {first_error(exc)}") from exc
        unknown = [field for field in text.fields if field not in fields]
        if unknown:
            raise BadInput(f"{path}: [{name}.fields]: {name} has no field {unknown[0]!r}")
        missing = [field for field in fields if field not in text.fields]
        if missing:
            raise BadInput(f"{path}: [{name}.fields]: no description for field {missing[0]!r}")
        texts[name] = text
    return SchemaText(texts)
