"""Vectorized parsing of date-time text with Java patterns."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from workbench.sql.functions.datetime_parse import parse_regex, parse_times


def _parse(texts: list[str | None], pattern: str | None = None) -> list[object]:
    parsed = parse_times(pa.array(texts, pa.large_string()), pattern)
    return [
        None if masked else pd.Timestamp(int(ns))
        for ns, masked in zip(parsed.ns, parsed.mask, strict=True)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2024-01-02 03:04:05", "2024-01-02 03:04:05", id="seconds"),
        pytest.param("2024-01-02", "2024-01-02", id="date"),
        pytest.param("2024-01-02 03:04:05.5", "2024-01-02 03:04:05.5", id="fraction"),
        pytest.param(
            "2024-01-02 03:04:05.123456789", "2024-01-02 03:04:05.123456789", id="nanoseconds"
        ),
        pytest.param("2024-1-2 3:4:5", "2024-01-02 03:04:05", id="unpadded"),
        pytest.param("2024-01-02T03:04", "2024-01-02 03:04:00", id="iso-minutes"),
        pytest.param("  2024-01-02 03:04:05 ", "2024-01-02 03:04:05", id="surrounding-spaces"),
        pytest.param("2024-02-30", None, id="impossible-date"),
        pytest.param("2024-01-02 24:00:00", None, id="hour-24"),
        pytest.param("2024-01-02 03:04:05.1234567890", None, id="too-many-fraction-digits"),
        pytest.param("3000-01-01", None, id="outside-nanosecond-range"),
        pytest.param("", None, id="empty"),
    ],
)
def test_lenient_default_layout(text: str, expected: str | None) -> None:
    assert _parse([text]) == [None if expected is None else pd.Timestamp(expected)]


def test_uniform_and_mixed_batches_agree() -> None:
    uniform = ["2024-01-02 03:04:05", "2024-12-31 23:59:59"]
    mixed = [*uniform, "2024-1-2 3:4:5", None]
    assert _parse(uniform) == _parse(mixed)[:2]
    assert _parse(mixed)[2:] == [pd.Timestamp("2024-01-02 03:04:05"), None]


def test_zone_in_text_is_reported() -> None:
    parsed = parse_times(
        pa.array(["2024-01-02 03:04:05+02:00", "2024-01-02 03:04:05"], pa.large_string()), None
    )
    assert parsed.offsets[0] == 7200
    assert pd.isna(parsed.offsets[1])
    assert parsed.instants()[0] == pd.Timestamp("2024-01-02 01:04:05").value


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param(
            "yyyyMMddHHmmss", "20170915010203", "2017-09-15 01:02:03", id="adjacent-fields"
        ),
        pytest.param("dd/MM/yyyy", "5/9/2017", "2017-09-05", id="short-fields"),
        pytest.param(
            "MMM d, yyyy h:mm a", "Sep 5, 2017 1:02 PM", "2017-09-05 13:02:00", id="names-and-am-pm"
        ),
        pytest.param(
            "yyyy-MM-dd HH:mm:ss.SSS",
            "2017-09-05 01:02:03.004",
            "2017-09-05 01:02:03.004",
            id="millis",
        ),
        pytest.param("EEE, dd MMM yyyy", "Tue, 05 Sep 2017", "2017-09-05", id="day-name-ignored"),
        pytest.param("yyyy-MM-dd", "2017-09-05 10:00", None, id="trailing-text"),
    ],
)
def test_patterns(pattern: str, text: str, expected: str | None) -> None:
    assert _parse([text], pattern) == [None if expected is None else pd.Timestamp(expected)]


def test_parse_regex_names_fields() -> None:
    assert "(?P<year>\\d{4,4})(?P<month>\\d{2,2})" in parse_regex("yyyyMMdd")
