"""The bodies of the accounts' routes read as ``workers.web.accounts`` reads them (no store):
every refusal names its field with a reason, null reads as not given, an approval must ask
something, and an id is never both approved and rejected."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.fulfilments import FieldError
from workers.doors.refusals import refused
from workers.web.accounts import (
    MAX_IDS,
    NOTHING_ASKED,
    REQUIRED,
    ApprovalRequest,
    ReconnectRequest,
    account_ref_of,
    read_approval,
    read_body,
)

REFUND_ID = "must be a refund id: a whole number from 1 to 9223372036854775807"
ACCOUNT_ID = "an account id is a whole number from 1 to 9223372036854775807, in the digits 0-9"


def raw(data: Any) -> bytes:
    return data.encode() if isinstance(data, str) else json.dumps(data).encode()


def test_an_approval_reads_its_ids_and_null_as_not_given() -> None:
    found = read_approval(raw({"all_safe": None, "refund_ids": [3, 3, 9], "reject_ids": None}))
    assert found == ApprovalRequest(all_safe=False, refund_ids=[3, 3, 9], reject_ids=[])
    assert read_approval(raw({"all_safe": True})) == ApprovalRequest(all_safe=True)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ("", {"body": REQUIRED}),
        ("  \n", {"body": REQUIRED}),
        ({}, {"body": NOTHING_ASKED}),
        ({"all_safe": False, "refund_ids": [], "reject_ids": None}, {"body": NOTHING_ASKED}),
        ({"refund_ids": [0]}, {"refund_ids[0]": REFUND_ID}),
        ({"refund_ids": [1, -1]}, {"refund_ids[1]": REFUND_ID}),
        ({"refund_ids": [2**63]}, {"refund_ids[0]": REFUND_ID}),
        ({"refund_ids": [10**400]}, {"refund_ids[0]": REFUND_ID}),
        ('{"refund_ids": [' + "9" * 5000 + "]}", {"body": "not valid JSON"}),  # past int()'s
        ({"refund_ids": [True]}, {"refund_ids[0]": REFUND_ID}),
        ({"refund_ids": ["1"]}, {"refund_ids[0]": REFUND_ID}),
        ({"reject_ids": [1.0]}, {"reject_ids[0]": REFUND_ID}),
        ({"reject_ids": [None]}, {"reject_ids[0]": REFUND_ID}),
        ({"refund_ids": 1}, {"refund_ids": "must be a list of refund ids"}),
        ({"refund_ids": {"1": 1}}, {"refund_ids": "must be a list of refund ids"}),
        (
            {"refund_ids": list(range(1, MAX_IDS + 2))},
            {"refund_ids": f"at most {MAX_IDS} refund ids at once"},
        ),
        ({"all_safe": "true"}, {"all_safe": "must be true or false"}),
        ({"all_safe": 1}, {"all_safe": "must be true or false"}),
        ({"all_safe": True, "colour": 1}, {"colour": "unknown field"}),
        ({"all_safe": True, "\ud800": 1}, {"\\ud800": "unknown field"}),
        (
            {"refund_ids": [5], "reject_ids": [4, 5]},
            {"reject_ids[1]": "refund 5 is also in refund_ids: one or the other"},
        ),
        ([1], {"body": "must be a JSON object"}),
        ("null", {"body": "must be a JSON object"}),
        ("{", {"body": "not valid JSON"}),
        (b'{"all_safe": "\xff"}', {"body": "not valid JSON"}),
        ('{"refund_ids": [NaN]}', {"body": "not valid JSON"}),
        ('{"refund_ids": [Infinity]}', {"body": "not valid JSON"}),
        ("[" * 100_000 + "]" * 100_000, {"body": "nested deeper than 32 levels"}),
        (
            {"refund_ids": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
            {"body": "nested deeper than 32 levels"},
        ),
    ],
)
def test_a_bad_approval_is_refused_naming_the_field(data: Any, errors: dict[str, str]) -> None:
    found = read_approval(data if isinstance(data, bytes) else raw(data))
    assert isinstance(found, tuple), found
    assert {e.field: e.reason for e in found} == errors


def test_an_approval_lists_at_most_50_refusals_and_counts_the_rest() -> None:
    found = read_approval(raw({"refund_ids": [0] * MAX_IDS}))
    assert isinstance(found, tuple) and len(found) == 51
    assert found[-1] == FieldError(
        "errors", f"{MAX_IDS - 50} more not listed (an answer lists the first 50)"
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("", ReconnectRequest()),
        ({}, ReconnectRequest()),
        ({"approve_safe": None}, ReconnectRequest()),
        ({"approve_safe": True}, ReconnectRequest(approve_safe=True)),
        ({"approve_safe": "yes"}, (FieldError("approve_safe", "must be true or false"),)),
        ({"approve": True}, (FieldError("approve", "unknown field"),)),
        ([], (FieldError("body", "must be a JSON object"),)),
    ],
)
def test_a_reconnect_body_is_optional(data: Any, expected: Any) -> None:
    assert read_body(raw(data), ReconnectRequest) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" acme ", "acme"), ("12", "12"), ("café", "café"), ("a" * 100, "a" * 100)],
)
def test_an_account_in_the_path_is_a_name_or_an_id(value: str, expected: str) -> None:
    assert account_ref_of(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "required: the seller account's name or id"),
        ("ac\x00me", "must not contain control characters (U+0000 at character 3)"),
        ("a\ud800", "is not valid Unicode text (a lone surrogate at character 2)"),
        ("²", ACCOUNT_ID),
        (str(2**63), ACCOUNT_ID),
        ("0" + "9" * 19, ACCOUNT_ID),
        ("a" * 101, "longer than 100 characters"),
    ],
)
def test_an_account_the_store_cannot_hold_is_refused(value: str, reason: str) -> None:
    with pytest.raises(type(refused(""))) as caught:
        account_ref_of(value)
    assert caught.value.context == {"reason": reason}
