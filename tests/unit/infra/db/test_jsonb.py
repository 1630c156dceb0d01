"""The store's copy of JSON that jsonb takes whatever it held (also the queue door's)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from infra.db import jsonb
from infra.db.jsonb import MAX_DEPTH, UNSTORABLE, shown, storable, storable_text
from workers.doors import limits


def test_nul_and_lone_surrogates_are_written_out_and_the_rest_is_kept() -> None:
    assert storable_text("a\x00b\ud800c\udfffd é ✓") == "a\\u0000b\\ud800c\\udfffd é ✓"
    assert storable({"k\x00": ["x\ud800", 2**70, float("nan"), 1.5, None, True]}) == {
        "k\\u0000": ["x\\ud800", "(an integer of 71 bits)", "nan", 1.5, None, True]
    }


def test_what_nests_past_the_limit_is_cut_with_a_note() -> None:
    deep: object = "end"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    kept = storable(deep)
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(kept, list)
        kept = kept[0]
    assert kept == [f"(cut: {jsonb.DEPTH_REASON})"]


def test_a_value_quoted_in_a_reason_is_cut() -> None:
    assert shown("x" * 100) == repr("x" * 40) + "... (100 characters)"


@given(
    st.recursive(
        st.text() | st.integers() | st.floats(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_every_copy_is_json_without_what_jsonb_refuses(value: object) -> None:
    text = json.dumps(storable(value), allow_nan=False, ensure_ascii=False)
    assert UNSTORABLE.search(text) is None


def test_the_queue_door_uses_the_stores_copy() -> None:
    assert limits.storable is storable and limits.shown is shown
