"""Java date-time patterns and vectorized formatting of times as text.

Flink's DATE_FORMAT, TO_TIMESTAMP, UNIX_TIMESTAMP and friends take Java
``DateTimeFormatter`` patterns (``yyyy-MM-dd HH:mm:ss.SSS``). A pattern is
split into fields and literal text. Formatting writes fixed-width patterns
straight into a byte buffer, and otherwise builds each field as an arrow
string column from numpy calendar fields and joins them. Parsing is in
:mod:`workbench.sql.functions.datetime_parse`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events.time import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND
from workbench.sql.functions.arrow import join_strings
from workbench.sql.functions.calendar import civil, split_days

DEFAULT_TIMESTAMP_PATTERN = "yyyy-MM-dd HH:mm:ss"
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: Letters whose fields are numbers, with the most digits a parsed field takes.
_NUMERIC_WIDTH = {
    "y": 4,
    "M": 2,
    "d": 2,
    "H": 2,
    "h": 2,
    "k": 2,
    "K": 2,
    "m": 2,
    "s": 2,
    "S": 9,
    "D": 3,
    "u": 1,
}
_PATTERN_LETTERS = set("yMdHhkKmsSEauDXZzGn")


class PatternError(ValueError):
    """A date-time pattern uses a letter this module does not support."""


@dataclass(frozen=True)
class Token:
    """One part of a pattern: a field letter repeated ``width`` times, or literal text."""

    letter: str | None
    width: int
    text: str = ""


@functools.lru_cache(maxsize=128)
def tokenize(pattern: str) -> tuple[Token, ...]:
    """Split a Java date-time pattern into field and literal tokens."""
    tokens: list[Token] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            end = index + 1
            text = []
            while end < len(pattern):
                if pattern[end] == "'":
                    if pattern.startswith("''", end):
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            tokens.append(Token(None, 0, "'" if end == index + 1 else "".join(text)))
            index = end + 1
            continue
        if char.isalpha():
            if char not in _PATTERN_LETTERS:
                raise PatternError(f"unsupported letter {char!r} in date-time pattern {pattern!r}")
            end = index
            while end < len(pattern) and pattern[end] == char:
                end += 1
            tokens.append(Token(char, end - index))
            index = end
            continue
        tokens.append(Token(None, 0, char))
        index += 1
    return tuple(tokens)


# Formatting ------------------------------------------------------------------------------


def _numbers(values: np.ndarray, width: int) -> pa.Array:
    text = pc.cast(pa.array(values.astype(np.int64)), pa.large_string())
    return pc.utf8_lpad(text, width, "0") if width > 1 else text


def format_times(
    ns: np.ndarray, mask: np.ndarray, pattern: str, offsets_seconds: np.ndarray | None = None
) -> pa.Array:
    """Format wall-clock nanoseconds with a Java pattern; masked rows are NULL.

    ``offsets_seconds`` is the UTC offset of each row, for the zone letters
    ``X``, ``Z`` and ``z``; without it the zone is UTC.
    """
    safe = np.where(mask, 0, ns)
    days, time_of_day = split_days(safe)
    year, month, day = civil(safe)
    hour = time_of_day // NS_PER_HOUR
    minute = time_of_day // NS_PER_MINUTE % 60
    second = time_of_day // NS_PER_SECOND % 60
    nanos = time_of_day % NS_PER_SECOND
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    fields = {
        "y": year,
        "M": month,
        "d": day,
        "H": hour,
        "m": minute,
        "s": second,
        "D": None,
        "h": np.where(hour % 12 == 0, 12, hour % 12),
        "k": np.where(hour == 0, 24, hour),
        "K": hour % 12,
    }
    fixed = _format_fixed(pattern, {**fields, "S": nanos, "E": weekday, "a": hour}, mask)
    if fixed is not None:
        return fixed
    parts: list[pa.Array | str] = []
    for token in tokenize(pattern):
        if token.letter is None:
            parts.append(token.text)
            continue
        letter, width = token.letter, token.width
        if letter == "y":
            parts.append(_numbers(year % 100, 2) if width == 2 else _numbers(year, width))
        elif letter == "M":
            if width >= 3:
                names = [name if width >= 4 else name[:3] for name in MONTHS]
                parts.append(pa.array(names, pa.large_string()).take(pa.array(month - 1)))
            else:
                parts.append(_numbers(month, width))
        elif letter == "d":
            parts.append(_numbers(day, width))
        elif letter == "D":
            day_of_year = days - _year_start_days(year) + 1
            parts.append(_numbers(day_of_year, width))
        elif letter == "H":
            parts.append(_numbers(hour, width))
        elif letter == "k":
            parts.append(_numbers(np.where(hour == 0, 24, hour), width))
        elif letter == "K":
            parts.append(_numbers(hour % 12, width))
        elif letter == "h":
            parts.append(_numbers(np.where(hour % 12 == 0, 12, hour % 12), width))
        elif letter == "m":
            parts.append(_numbers(minute, width))
        elif letter == "s":
            parts.append(_numbers(second, width))
        elif letter == "S":
            digits = min(width, 9)
            parts.append(_numbers(nanos // 10 ** (9 - digits), digits))
        elif letter == "n":
            parts.append(_numbers(nanos, width))
        elif letter == "E":
            names = [name if width >= 4 else name[:3] for name in DAYS]
            parts.append(pa.array(names, pa.large_string()).take(pa.array(weekday)))
        elif letter == "u":
            parts.append(_numbers(weekday + 1, width))
        elif letter == "a":
            parts.append(
                pa.array(["AM", "PM"], pa.large_string()).take(
                    pa.array((hour >= 12).astype(np.int64))
                )
            )
        elif letter == "G":
            parts.append("AD")
        else:
            parts.append(_zones(letter, width, offsets_seconds, len(ns)))
    if not any(isinstance(part, pa.Array) for part in parts):
        parts.append(pa.repeat(pa.scalar("", pa.large_string()), len(ns)))
    joined = join_strings(parts)
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.large_string()), joined)


_FIXED_DIGITS = {"y": 4, "M": 2, "d": 2, "H": 2, "h": 2, "k": 2, "K": 2, "m": 2, "s": 2}


def _format_fixed(
    pattern: str, fields: dict[str, np.ndarray | None], mask: np.ndarray
) -> pa.Array | None:
    """Format a pattern whose every part has a fixed width by writing the bytes directly.

    Returns None for patterns with variable-width parts (``M``, ``MMMM``,
    zones) or non-ASCII text; :func:`format_times` then joins arrow columns.
    """
    tokens = tokenize(pattern)
    width = 0
    for token in tokens:
        if token.letter is None:
            if not token.text.isascii():
                return None
            width += len(token.text)
        elif (
            (token.letter in _FIXED_DIGITS and token.width == _FIXED_DIGITS[token.letter])
            or (token.letter == "y" and token.width == 2)
            or (token.letter == "S" and token.width <= 9)
        ):
            width += token.width
        elif (token.letter in "ME" and token.width == 3) or (
            token.letter == "a" and token.width == 1
        ):
            width += token.width if token.letter != "a" else 2
        else:
            return None
    length = len(mask)
    columns = np.empty((width, length), dtype=np.uint8)
    column = 0
    for token in tokens:
        letter = token.letter
        if letter is None:
            for offset, code in enumerate(token.text.encode()):
                columns[column + offset] = code
            column += len(token.text)
            continue
        if letter in "MEa" and not (letter == "M" and token.width == 2):
            names = {
                "M": [name[:3] for name in MONTHS],
                "E": [name[:3] for name in DAYS],
                "a": ["AM", "PM"],
            }[letter]
            table = np.frombuffer("".join(names).encode(), dtype=np.uint8).reshape(len(names), -1)
            source = fields[letter]
            assert source is not None
            if letter == "M":
                source = source - 1
            elif letter == "a":
                source = source >= 12
            positions = np.asarray(source, dtype=np.int64)
            for offset in range(table.shape[1]):
                columns[column + offset] = table[:, offset][positions]
            column += table.shape[1]
            continue
        source = fields[letter]
        assert source is not None
        if letter == "S":
            values = source // 10 ** (9 - token.width)
        else:
            values = source % 100 if letter == "y" and token.width == 2 else source
        _write_digits(columns, column, token.width, values)
        column += token.width
    offsets = (
        np.arange(0, (length + 1) * width, width, dtype=np.int64)
        if width
        else np.zeros(length + 1, np.int64)
    )
    validity = pa.array(~mask).buffers()[1] if mask.any() else None
    return pa.LargeStringArray.from_buffers(
        length,
        pa.py_buffer(offsets),
        pa.py_buffer(np.ascontiguousarray(columns.T).tobytes()),
        validity,
        int(mask.sum()),
    )


@functools.cache
def _digit_table(width: int) -> np.ndarray:
    """Return the zero-padded decimal text of 0 .. 10**width - 1 as a (count, width) byte matrix."""
    text = "".join(f"{number:0{width}d}" for number in range(10**width))
    return np.frombuffer(text.encode(), dtype=np.uint8).reshape(10**width, width)


def _write_digits(columns: np.ndarray, column: int, width: int, values: np.ndarray) -> None:
    """Write ``values`` as ``width`` zero-padded digits into rows ``column...`` of ``columns``.

    ``columns`` has one row per character position, so every write is contiguous.
    """
    remaining = np.abs(values)
    end = column + width
    while width > 0:
        size = min(width, 4)
        table = _digit_table(size)
        chunk = remaining % 10**size
        for place in range(size):
            columns[end - size + place] = table[:, place][chunk]
        remaining = remaining // 10**size
        width -= size
        end -= size


def _year_start_days(year: np.ndarray) -> np.ndarray:
    return (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _zones(letter: str, width: int, offsets: np.ndarray | None, length: int) -> pa.Array:
    seconds = np.zeros(length, dtype=np.int64) if offsets is None else offsets.astype(np.int64)
    sign = np.where(seconds < 0, "-", "+")
    hours = np.abs(seconds) // 3600
    minutes = np.abs(seconds) // 60 % 60
    texts: list[str] = []
    for s, h, m, raw in zip(sign, hours, minutes, seconds, strict=True):
        if letter == "X" and raw == 0:
            texts.append("Z")
        elif letter == "X" and width == 1:
            texts.append(f"{s}{h:02d}")
        elif letter == "X" and width >= 3:
            texts.append(f"{s}{h:02d}:{m:02d}")
        elif letter == "z":
            texts.append("UTC" if raw == 0 else f"GMT{s}{h:02d}:{m:02d}")
        else:
            texts.append(f"{s}{h:02d}{m:02d}")
    return pa.array(texts, pa.large_string())


def zone_offsets(utc_ns: np.ndarray, mask: np.ndarray, time_zone: str) -> np.ndarray:
    """Return each instant's UTC offset in seconds in ``time_zone``."""
    instants = pd.DatetimeIndex(np.where(mask, 0, utc_ns).view("datetime64[ns]"), tz="UTC")
    local = instants.tz_convert(time_zone).tz_localize(None)
    return (local.asi8 - instants.tz_localize(None).asi8) // NS_PER_SECOND
