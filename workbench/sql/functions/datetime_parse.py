"""Parsing date-time text with Java patterns, vectorized.

A pattern becomes one regular expression with a named group per field, which
pyarrow's ``extract_regex`` runs. The common zero-padded layouts
(``yyyy-MM-dd HH:mm:ss[.f]``) are read straight from the string bytes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events.time import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND
from workbench.sql.functions.datetime_text import (
    _NUMERIC_WIDTH,
    DEFAULT_TIMESTAMP_PATTERN,
    MONTHS,
    PatternError,
    tokenize,
)


@functools.lru_cache(maxsize=128)
def parse_regex(pattern: str) -> str:
    """Translate a Java pattern into a regex with one named group per field."""
    tokens = tokenize(pattern)
    out: list[str] = []
    seen: set[str] = set()
    for position, token in enumerate(tokens):
        if token.letter is None:
            out.append(r"\s+" if token.text == " " else re.escape(token.text))
            continue
        letter, width = token.letter, token.width
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        adjacent = following is not None and following.letter in _NUMERIC_WIDTH
        name = _group_name(letter, width)
        if name in seen:
            name = f"{name}_{position}"
        seen.add(name)
        if letter in ("E", "G"):
            out.append(r"[A-Za-z]+")
        elif letter == "a":
            out.append(rf"(?P<{name}>[AaPp][Mm])")
        elif letter == "M" and width >= 3:
            out.append(rf"(?P<{name}>[A-Za-z]+)")
        elif letter in ("X", "Z", "z"):
            out.append(rf"(?P<{name}>Z|z|UTC|GMT|[+-]\d{{2}}:?(?:\d{{2}})?)")
        elif letter in _NUMERIC_WIDTH:
            # A field followed directly by another number has exactly its width;
            # otherwise it takes 1 to the field's usual number of digits, as Java does.
            if adjacent or letter == "S":
                minimum = maximum = width
            else:
                minimum, maximum = 1, max(width, _NUMERIC_WIDTH[letter])
            out.append(rf"(?P<{name}>\d{{{minimum},{maximum}}})")
        else:
            raise PatternError(f"cannot parse with the letter {letter!r} in {pattern!r}")
    return r"^\s*" + "".join(out) + r"\s*$"


def _group_name(letter: str, width: int) -> str:
    names = {
        "y": "year",
        "d": "day",
        "H": "hour",
        "k": "hour",
        "h": "hour12",
        "K": "hour12",
        "m": "minute",
        "s": "second",
        "S": "fraction",
        "a": "ampm",
        "D": "dayofyear",
        "X": "zone",
        "Z": "zone",
        "z": "zone",
        "u": "weekday",
    }
    if letter == "M":
        return "monthname" if width >= 3 else "month"
    return names.get(letter, letter)


#: Lenient ISO form that TO_TIMESTAMP and CAST accept without a pattern.
ISO_REGEX = (
    r"^\s*(?P<year>\d{1,4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:\.(?P<fraction>\d{1,9}))?)?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?\s*$"
)


@dataclass
class ParsedTimes:
    """Parsed date-times: ns since the epoch, NULL mask, and the zone offset when text had one."""

    ns: np.ndarray
    mask: np.ndarray
    #: Offset in seconds east of UTC for rows that named a zone; NaN elsewhere.
    offsets: np.ndarray

    def instants(self, local_offsets: np.ndarray | None = None) -> np.ndarray:
        """Return UTC ns: rows with a zone use it, others subtract ``local_offsets`` (seconds)."""
        fallback = np.zeros(len(self.ns)) if local_offsets is None else local_offsets
        offsets = np.where(np.isnan(self.offsets), fallback, self.offsets)
        return self.ns - (offsets * NS_PER_SECOND).astype(np.int64)


def parse_times(strings: pa.Array, pattern: str | None) -> ParsedTimes:
    """Parse date-time text with a Java pattern (None: lenient ``yyyy-MM-dd[ HH:mm[:ss[.f]]]``).

    Text that does not match, or names an impossible date, is NULL.
    """
    if pattern in _FAST_LAYOUTS:
        return _parse_fast(strings, pattern)
    return _parse_regex(strings, ISO_REGEX if pattern is None else parse_regex(pattern))


# Layouts read straight from the string bytes, by pattern: whether text may be
# a date alone, and whether it may have a time of day.
_FAST_LAYOUTS: dict[str | None, tuple[bool, bool]] = {
    None: (True, True),  # yyyy-MM-dd, or yyyy-MM-dd HH:mm:ss[.fffffffff]
    DEFAULT_TIMESTAMP_PATTERN: (False, True),
    "yyyy-MM-dd": (True, False),
}


def _string_bytes(strings: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(starts, lengths, data)``: byte offsets of each string and the UTF-8 buffer."""
    if not pa.types.is_large_string(strings.type):
        strings = strings.cast(pa.large_string())
    offsets_buffer, data_buffer = strings.buffers()[1:3]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        strings.offset : strings.offset + len(strings) + 1
    ]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(1, np.uint8)
    )
    if len(data) == 0:
        data = np.zeros(1, np.uint8)
    return offsets[:-1], np.diff(offsets), data


def _parse_fast(strings: pa.Array, pattern: str | None) -> ParsedTimes:
    """Parse zero-padded ``yyyy-MM-dd[ HH:mm:ss[.f]]`` from the bytes; other rows use the regex."""
    date_only, with_time = _FAST_LAYOUTS[pattern]
    length = len(strings)
    starts, lengths, data = _string_bytes(strings)
    last = len(data) - 1
    width = int(lengths[0]) if length else 0
    block: np.ndarray | None = None
    if width and (lengths == width).all() and starts[0] + width * length <= len(data):
        # Equal-length strings lie back to back: view them as a matrix of bytes.
        block = data[starts[0] : starts[0] + width * length].reshape(length, width)

    def char(position: int) -> np.ndarray:
        if block is not None:
            column = block[:, position] if position < width else np.zeros(length, dtype=np.uint8)
            return column.astype(np.int16)
        return data[np.minimum(starts + position, last)].astype(np.int16)

    def digits(*positions: int) -> tuple[np.ndarray, np.ndarray]:
        value = np.zeros(length, dtype=np.int64)
        ok = np.ones(length, dtype=bool)
        for position in positions:
            digit = char(position) - 48
            ok &= (digit >= 0) & (digit <= 9)
            value = value * 10 + digit
        return value, ok

    year, ok_year = digits(0, 1, 2, 3)
    month, ok_month = digits(5, 6)
    day, ok_day = digits(8, 9)
    shaped = ok_year & ok_month & ok_day & (char(4) == 45) & (char(7) == 45)
    is_date = lengths == 10
    hour, ok_hour = digits(11, 12)
    minute, ok_minute = digits(14, 15)
    second, ok_second = digits(17, 18)
    timed = ok_hour & ok_minute & ok_second & (char(10) == 32) & (char(13) == 58) & (char(16) == 58)
    fraction_size = np.clip(lengths - 20, 0, 9)
    nanos = np.zeros(length, dtype=np.int64)
    fraction_ok = np.ones(length, dtype=bool)
    for position in range(9):
        digit = char(20 + position) - 48
        used = position < fraction_size
        fraction_ok &= ~used | ((digit >= 0) & (digit <= 9))
        nanos += np.where(used, digit, 0).astype(np.int64) * 10 ** (8 - position)
    exact_time = lengths == 19
    if pattern is None:
        exact_time |= (lengths >= 21) & (lengths <= 29) & (char(19) == 46) & fraction_ok
    shaped &= (is_date & date_only) | (timed & exact_time & with_time)
    hour, minute, second = (np.where(is_date, 0, part) for part in (hour, minute, second))
    nanos = np.where(is_date | (lengths == 19), 0, nanos)
    ns, valid = _assemble((year, month, day), (hour, minute, second, nanos))
    missing = np.asarray(strings.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    mask = ~shaped | ~valid | missing
    offsets = np.full(length, np.nan)
    others = ~shaped & ~missing
    if others.any():
        regex = ISO_REGEX if pattern is None else parse_regex(pattern)
        rest = _parse_regex(strings.filter(pa.array(others)), regex)
        positions = np.flatnonzero(others)
        ns[positions] = rest.ns
        mask[positions] = rest.mask
        offsets[positions] = rest.offsets
    return ParsedTimes(ns, mask, offsets)


def _assemble(
    date: tuple[np.ndarray, np.ndarray, np.ndarray],
    clock: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(ns since the epoch, valid)`` of (year, month, day) and (hour, minute, second, ns).

    Impossible dates are not valid.
    """
    year, month, day = date
    hour, minute, second, nanos = clock
    valid = (
        (month >= 1) & (month <= 12) & (day >= 1) & (hour <= 23) & (minute <= 59) & (second <= 59)
    )
    valid &= (year >= 1678) & (year <= 2261)
    safe_month = np.clip(month, 1, 12)
    month_start = ((np.clip(year, 1678, 2261) - 1970) * 12 + safe_month - 1).astype("datetime64[M]")
    month_end = (month_start + np.timedelta64(1, "M")).astype("datetime64[D]")
    month_days = (month_end - month_start.astype("datetime64[D]")).astype(np.int64)
    valid &= day <= month_days
    days = month_start.astype("datetime64[D]").astype(np.int64) + np.clip(day, 1, 31) - 1
    ns = (
        days * NS_PER_DAY
        + hour * NS_PER_HOUR
        + minute * NS_PER_MINUTE
        + second * NS_PER_SECOND
        + nanos
    )
    return ns, valid


def _parse_regex(strings: pa.Array, regex: str) -> ParsedTimes:
    fields = pc.extract_regex(strings, regex)
    length = len(strings)
    mask = np.asarray(fields.is_null().to_numpy(zero_copy_only=False), dtype=bool)

    def number(name: str, default: int) -> np.ndarray:
        if name not in _names(fields):
            return np.full(length, default, dtype=np.int64)
        text = pc.struct_field(fields, name)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)
        values = pc.cast(text, pa.int64(), safe=False).to_numpy(zero_copy_only=False)
        return np.nan_to_num(np.asarray(values, dtype=float), nan=default).astype(np.int64)

    year = number("year", 1970)
    month = _month_numbers(fields, length) if "monthname" in _names(fields) else number("month", 1)
    day = number("day", 1)
    hour = number("hour", 0)
    if "hour12" in _names(fields):
        hour = number("hour12", 0) % 12
        if "ampm" in _names(fields):
            pm = pc.utf8_upper(pc.struct_field(fields, "ampm"))
            hour = hour + np.where(
                np.asarray(pc.equal(pm, "PM").to_numpy(zero_copy_only=False), dtype=bool), 12, 0
            )
    minute = number("minute", 0)
    second = number("second", 0)
    nanos = _fraction_nanos(fields, length)
    ns, valid = _assemble((year, month, day), (hour, minute, second, nanos))
    return ParsedTimes(ns, mask | ~valid, _zone_offsets(fields, length))


def _names(fields: pa.Array) -> set[str]:
    return {field.name for field in fields.type}


def _month_numbers(fields: pa.Array, length: int) -> np.ndarray:
    names = pc.utf8_lower(pc.utf8_slice_codeunits(pc.struct_field(fields, "monthname"), 0, 3))
    found = pc.index_in(
        names, value_set=pa.array([name[:3].lower() for name in MONTHS], pa.large_string())
    )
    values = np.asarray(found.to_numpy(zero_copy_only=False), dtype=float)
    return np.nan_to_num(values, nan=-2).astype(np.int64) + 1


def _fraction_nanos(fields: pa.Array, length: int) -> np.ndarray:
    if "fraction" not in _names(fields):
        return np.zeros(length, dtype=np.int64)
    text = pc.struct_field(fields, "fraction")
    padded = pc.utf8_rpad(pc.fill_null(text, ""), 9, "0")
    values = pc.cast(pc.utf8_slice_codeunits(padded, 0, 9), pa.int64(), safe=False)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def _zone_offsets(fields: pa.Array, length: int) -> np.ndarray:
    offsets = np.full(length, np.nan)
    if "zone" not in _names(fields):
        return offsets
    for row, text in enumerate(pc.struct_field(fields, "zone").to_pylist()):
        if not text:
            continue
        if text in ("Z", "z", "UTC", "GMT"):
            offsets[row] = 0.0
            continue
        digits = text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        offsets[row] = (1 if text[0] == "+" else -1) * (hours * 3600 + minutes * 60)
    return offsets
