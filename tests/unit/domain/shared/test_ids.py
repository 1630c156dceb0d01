"""A reference is a row id only when it is ASCII digits within bigint; anything else is a name."""

from __future__ import annotations

import pytest

from domain.shared import BIGINT_MAX, row_id


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (7, 7),
        ("7", 7),
        ("0042", 42),
        (str(BIGINT_MAX), BIGINT_MAX),
        (BIGINT_MAX, BIGINT_MAX),
    ],
)
def test_ascii_digits_within_bigint_name_a_row(ref: object, expected: int) -> None:
    assert row_id(ref) == expected


@pytest.mark.parametrize(
    "ref",
    [
        "²",  # str.isdigit() says yes, int() refuses it
        "٣",  # an Arabic-Indic digit: int() takes it, PostgreSQL's ids are ASCII
        str(BIGINT_MAX + 1),
        BIGINT_MAX + 1,
        0,
        "0",
        -3,
        "-3",
        "acme-us",
        "",
        True,
        None,
        4.0,
    ],
)
def test_anything_else_is_not_a_row_id(ref: object) -> None:
    assert row_id(ref) is None


def test_a_digit_string_of_any_length_is_refused_without_reading_it_as_a_number() -> None:
    assert row_id("9" * 100_000) is None  # int() would refuse it past 4,300 digits
    assert row_id("0" * 50 + "7") == 7
