"""A streamed document's lines: gunzipped and decoded as the chunks arrive, whatever the chunk
boundaries (inside a gzip block, inside a UTF-8 character, inside a line)."""

from __future__ import annotations

import gzip

import pytest

from infra.amazon.api.documents import _lines

TEXT = "settlement-id\tamount\n1\t19,99 €\n2\t5.00 kr\nlast without newline"


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 3, 7, 64, 100_000])
@pytest.mark.parametrize("compressed", [True, False])
def test_lines_come_whole_whatever_the_chunks(size: int, compressed: bool) -> None:
    raw = TEXT.encode()
    data = gzip.compress(raw) if compressed else raw
    lines = list(_lines(iter(_chunks(data, size)), "GZIP" if compressed else None))
    assert "".join(lines) == TEXT
    assert lines[1] == "1\t19,99 €\n"
    assert lines[-1] == "last without newline"


def test_bytes_already_gunzipped_by_the_transport_are_read_as_they_are() -> None:
    lines = list(_lines(iter([TEXT.encode()]), "GZIP"))
    assert "".join(lines) == TEXT
