"""A pydantic field type for "one of the registered asset kinds", looked up when it validates.

The kinds are not fixed when a model using the type is defined: validation
and the JSON Schema read the registry each time, so a kind registered later
(:func:`optimizer.assets.register_asset_kind`) is accepted by every model
(:class:`~optimizer.DispatchProblem`, the scenario/API site) without rebuilding
them. Errors keep their location (``assets.2.capacity_kwh``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

Models = Callable[[], Mapping[str, type[BaseModel]]]


def _dump(value: BaseModel, info: core_schema.SerializationInfo) -> Any:
    """The model's own fields (``kind`` always, even when left at its default, so the dump validates again)."""
    return {"kind": getattr(value, "kind", None)} | value.model_dump(
        mode=info.mode,
        exclude_unset=info.exclude_unset,
        exclude_defaults=info.exclude_defaults,
        exclude_none=info.exclude_none,
        by_alias=bool(info.by_alias),
    )


def kind_entry(models: Models, what: str = "asset") -> type:
    """A type validating a mapping (or model) as the model registered for its ``kind``.

    ``models()`` returns kind -> pydantic model, read at every validation.
    """

    def validate(value: Any) -> BaseModel:
        choices = models()
        if isinstance(value, tuple(choices.values())):
            return value
        if isinstance(value, BaseModel):
            value = value.model_dump(exclude_unset=True) | {"kind": getattr(value, "kind", None)}
        if not isinstance(value, dict):
            raise PydanticCustomError("model_type", f"an {what} is a mapping with a kind, got {type(value).__name__}")
        kind = value.get("kind")
        if kind is None:
            raise PydanticCustomError("union_tag_not_found", f"an {what} needs a kind (one of: {', '.join(choices)})")
        if kind not in choices:
            raise PydanticCustomError(
                "union_tag_invalid",
                f"unknown {what} kind {kind!r} (kinds: {', '.join(choices)})",
                {"tag": str(kind), "expected_tags": ", ".join(choices)},
            )
        return choices[kind].model_validate(value)

    class KindEntry:
        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
            return core_schema.no_info_plain_validator_function(
                validate,
                serialization=core_schema.plain_serializer_function_ser_schema(_dump, info_arg=True),
            )

        @classmethod
        def __get_pydantic_json_schema__(
            cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
        ) -> JsonSchemaValue:
            choices = tuple(models().values())
            union: Any = (
                Annotated[Union[choices], Field(discriminator="kind")]  # noqa: UP007
                if len(choices) > 1
                else choices[0]
            )
            return handler(TypeAdapter(union).core_schema)

    KindEntry.__name__ = KindEntry.__qualname__ = f"{what.title().replace(' ', '')}Entry"
    return KindEntry
