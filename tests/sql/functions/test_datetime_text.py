"""Java date-time patterns and vectorized formatting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.sql.functions.datetime_text import (
    PatternError,
    Token,
    format_times,
    tokenize,
    zone_offsets,
)


def _ns(*stamps: str) -> np.ndarray:
    return np.array([pd.Timestamp(stamp).value for stamp in stamps], dtype=np.int64)


def test_tokenize_fields_and_literals() -> None:
    assert tokenize("yyyy-MM'T'") == (
        Token("y", 4),
        Token(None, 0, "-"),
        Token("M", 2),
        Token(None, 0, "T"),
    )


def test_tokenize_escaped_quote() -> None:
    assert tokenize("''") == (Token(None, 0, "'"),)


def test_tokenize_rejects_unknown_letters() -> None:
    with pytest.raises(PatternError, match="unsupported letter 'Q'"):
        tokenize("yyyy-QQ")


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param("yyyy-MM-dd HH:mm:ss.SSS", id="fixed-width"),
        pytest.param("EEE MMM dd hh:mm a", id="fixed-names"),
        pytest.param("yyyy-M-d H:m:s", id="variable-width"),
        pytest.param("EEEE, MMMM d", id="full-names"),
    ],
)
def test_format_paths_match_strftime(pattern: str) -> None:
    stamps = [
        "2024-03-05 07:08:09.123",
        "1999-12-31 23:59:59.999",
        "2000-01-01 00:00:00",
        "2024-07-14 12:00:00",
    ]
    formatted = format_times(_ns(*stamps), np.zeros(len(stamps), dtype=bool), pattern).to_pylist()
    python = {
        "yyyy-MM-dd HH:mm:ss.SSS": lambda s: (
            s.strftime("%Y-%m-%d %H:%M:%S.") + f"{s.microsecond // 1000:03d}"
        ),
        "EEE MMM dd hh:mm a": lambda s: s.strftime("%a %b %d %I:%M %p"),
        "yyyy-M-d H:m:s": lambda s: f"{s.year}-{s.month}-{s.day} {s.hour}:{s.minute}:{s.second}",
        "EEEE, MMMM d": lambda s: f"{s.strftime('%A, %B')} {s.day}",
    }[pattern]
    assert formatted == [python(pd.Timestamp(stamp)) for stamp in stamps]


def test_format_masks_nulls() -> None:
    result = format_times(_ns("2024-01-01", "2024-01-02"), np.array([False, True]), "yyyy-MM-dd")
    assert result.to_pylist() == ["2024-01-01", None]


def test_format_zone_offsets() -> None:
    offsets = np.array([0, 19800, -28800])
    result = format_times(
        _ns("2024-01-01", "2024-01-01", "2024-01-01"), np.zeros(3, dtype=bool), "XXX|Z", offsets
    )
    assert result.to_pylist() == ["Z|+0000", "+05:30|+0530", "-08:00|-0800"]


def test_zone_offsets_follow_daylight_saving() -> None:
    utc = _ns("2024-01-15 12:00", "2024-07-15 12:00")
    assert zone_offsets(utc, np.zeros(2, dtype=bool), "Europe/Berlin").tolist() == [3600, 7200]
