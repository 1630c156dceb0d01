"""Pydantic's errors in the channel's words, on a small model: paths, ``Says``, own checks."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.fulfilments import FieldError
from workers.doors.refusals import Says, field_errors, refused


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    size: Annotated[int, Field(ge=1), Says("give a size", "a size is a whole number from 1")]
    label: str | None = None


class Box(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, Field(min_length=1, max_length=3), Says("required: the box's name")]
    parts: Annotated[
        list[Annotated[Part, Says(invalid="a part is an object")]],
        Says(invalid="a list of parts"),
    ] = []
    sealed: bool = False
    colour: str | None = Field(None, validate_default=True)

    @field_validator("colour")
    @classmethod
    def _colour_goes_with_the_name(cls, colour: str | None, info: Any) -> str | None:
        if colour is None and info.data.get("name") == "red":
            raise refused("a red box has no colour", field="name")
        return colour


def errors(data: Any) -> list[FieldError]:
    with pytest.raises(ValidationError) as caught:
        Box.model_validate(data)
    return list(field_errors(caught.value, Box, root="box"))


def test_paths_name_fields_and_list_items_as_a_person_writes_them() -> None:
    assert errors({"name": "b", "parts": [{"size": 1}, {"size": 0, "shape": "round"}, "x"]}) == [
        FieldError("parts[1].size", "a size is a whole number from 1"),
        FieldError("parts[1].shape", "unknown field"),
        FieldError("parts[2]", "a part is an object"),
    ]


def test_says_gives_the_reason_for_missing_blank_null_and_invalid() -> None:
    assert errors({"parts": [{}]}) == [
        FieldError("name", "required: the box's name"),
        FieldError("parts[0].size", "give a size"),
    ]
    assert errors({"name": None}) == [FieldError("name", "required: the box's name")]
    assert errors({"name": ""}) == [FieldError("name", "required: the box's name")]
    assert errors({"name": "b", "parts": "x"}) == [FieldError("parts", "a list of parts")]


def test_without_says_a_reason_by_the_kind_of_error() -> None:
    assert errors({"name": "long", "sealed": 1, "colour": 5}) == [
        FieldError("name", "longer than 3 characters"),
        FieldError("sealed", "must be true or false"),
        FieldError("colour", "must be a string"),
    ]


def test_an_own_check_may_name_another_field_and_unknown_fields_come_first() -> None:
    assert errors({"name": "red", "zz": 1, "aa": 2}) == [
        FieldError("aa", "unknown field"),
        FieldError("zz", "unknown field"),
        FieldError("name", "a red box has no colour"),
    ]


def test_input_that_is_not_an_object_is_named_by_the_root() -> None:
    assert errors([1]) == [FieldError("box", "must be a JSON object")]
